package platform

import (
	"context"
	"encoding/json"
	"net/http"
)

func discordStreams() []Stream {
	return []Stream{{Name: "guilds", DataType: DataDiscordGuild, Fetch: discordGuilds}}
}

// discordGuilds reads GET /users/@me/guilds?with_counts=true, an array of
// partial guilds:
//
//	[{"id":"80351110224678912","name":"1337 Krew","icon":"8342729096ea3675442027381ff50dfe",
//	  "banner":"bb42bdc37653b7cf58c4c8cc622e76cb","owner":true,"permissions":"36953089",
//	  "features":["COMMUNITY","NEWS"],"approximate_member_count":3268,"approximate_presence_count":784}]
//
// A user is in at most 200 guilds, the default limit, so one request lists
// them all. The presence count changes by the minute and is left out, so an
// unchanged guild keeps the same payload; leaving a guild is not seen.
// A 429 carries retry_after in the body (ClassifyAPIError reads it).
func discordGuilds(ctx context.Context, client *http.Client, p Provider, token string, _ json.RawMessage) (Page, error) {
	var guilds []struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		Icon        *string  `json:"icon"`
		Owner       bool     `json:"owner"`
		Permissions string   `json:"permissions"`
		Features    []string `json:"features"`
		Members     int      `json:"approximate_member_count"`
	}
	if _, err := p.getInto(ctx, client, p.Endpoints.APIBaseURL+"/users/@me/guilds?with_counts=true", token, nil, &guilds); err != nil {
		return Page{}, err
	}
	var page Page
	now := p.now().UTC()
	for _, g := range guilds {
		if g.ID == "" {
			continue
		}
		icon := ""
		if g.Icon != nil {
			icon = *g.Icon
		}
		payload, err := payloadOf(DiscordGuildPayload{SourceAPI, g.ID, g.Name, icon, g.Owner, g.Permissions, nonNil(g.Features), g.Members})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataDiscordGuild, ExternalID: g.ID, OccurredAt: now, Payload: payload})
	}
	return page, nil
}
