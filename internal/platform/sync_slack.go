package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

func slackStreams() []Stream {
	return []Stream{{Name: "identity", DataType: DataSlackIdentity, Fetch: slackIdentityStream}}
}

// slackIdentityStream calls auth.test (no scope needed) for the person and
// their workspace:
//
//	{"ok":true,"url":"https://subarachnoid.slack.com/","team":"Subarachnoid Workspace","user":"grace",
//	 "team_id":"T12345678","user_id":"W12345678"}
//
// and, only when the provider is configured with the team:read scope,
// team.info for the workspace's domain and icon. Errors come as HTTP 200
// {"ok":false,"error":"invalid_auth"}, which ClassifyAPIError turns into an
// auth error. Two items: the identity (team_id:user_id) and the team.
func slackIdentityStream(ctx context.Context, client *http.Client, p Provider, token string, _ json.RawMessage) (Page, error) {
	_, body, err := p.do(ctx, client, apiRequest{
		method: http.MethodPost, url: p.Endpoints.APIBaseURL + "/auth.test", token: token,
		body: strings.NewReader(""), bodyCT: "application/x-www-form-urlencoded",
	})
	if err != nil {
		return Page{}, err
	}
	var a struct {
		URL    string `json:"url"`
		Team   string `json:"team"`
		User   string `json:"user"`
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return Page{}, fmt.Errorf("decode Slack auth.test: %w", err)
	}
	if a.TeamID == "" || a.UserID == "" {
		return Page{}, fmt.Errorf("Slack auth.test names no team or user")
	}
	now := p.now().UTC()
	idPayload, err := payloadOf(SlackIdentityPayload{SourceAPI, a.UserID, a.User, a.TeamID, a.Team, a.URL})
	if err != nil {
		return Page{}, err
	}
	team := SlackTeamPayload{Source: SourceAPI, TeamID: a.TeamID, Name: a.Team, URL: a.URL}
	if p.hasScope("team:read") {
		// team.info → {"ok":true,"team":{"id":"T12345","name":"My Team","domain":"example",
		//  "email_domain":"example.com","icon":{"image_68":"https://…","image_default":true},"enterprise_id":"…"}}
		var ti struct {
			Team struct {
				Name   string         `json:"name"`
				Domain string         `json:"domain"`
				Icon   map[string]any `json:"icon"`
			} `json:"team"`
		}
		if _, err := p.getInto(ctx, client, p.Endpoints.APIBaseURL+"/team.info", token, nil, &ti); err != nil {
			return Page{}, err
		}
		if ti.Team.Name != "" {
			team.Name = ti.Team.Name
		}
		team.Domain = ti.Team.Domain
		if s, ok := ti.Team.Icon["image_68"].(string); ok {
			team.Icon = s
		}
	}
	teamPayload, err := payloadOf(team)
	if err != nil {
		return Page{}, err
	}
	return Page{Items: []Item{
		{DataType: DataSlackIdentity, ExternalID: a.TeamID + ":" + a.UserID, OccurredAt: now, Payload: idPayload},
		{DataType: DataSlackTeam, ExternalID: a.TeamID, OccurredAt: now, Payload: teamPayload},
	}}, nil
}
