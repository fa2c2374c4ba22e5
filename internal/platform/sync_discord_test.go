package platform_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestDiscordGuilds(t *testing.T) {
	c := connect(t, platform.Discord)
	api := platformtest.ServeDiscordAPI(c.f, 4)
	s := stream(t, c.p, "guilds")
	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if len(first.items) != 4 || first.pages != 1 {
		t.Fatalf("first run: %d guilds in %d pages", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	if u := api.RequestURIs()[0]; u != "/api/v10/users/@me/guilds?with_counts=true" {
		t.Errorf("request %s", u)
	}
	var pl map[string]any
	json.Unmarshal(first.items[0].Payload, &pl)
	if pl["guild_id"] != platformtest.DiscordGuildNo(0).ID || pl["approximate_member_count"] != 100.0 || pl["owner"] != true {
		t.Errorf("payload %s", first.items[0].Payload)
	}

	// The guild list has no cursor: a run lists all. Unchanged guilds keep
	// their payload byte for byte even though the presence count moved, so
	// the upsert rewrites nothing; the new guild is the only new item.
	api.Join(platformtest.DiscordGuildNo(9))
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	before := map[string]string{}
	for _, it := range first.items {
		before[it.ExternalID] = string(it.Payload)
	}
	var added []string
	for _, it := range second.items {
		if old, ok := before[it.ExternalID]; !ok {
			added = append(added, it.ExternalID)
		} else if old != string(it.Payload) {
			t.Errorf("unchanged guild %s: payload changed\n%s\n%s", it.ExternalID, old, it.Payload)
		}
	}
	if len(added) != 1 || added[0] != platformtest.DiscordGuildNo(9).ID {
		t.Errorf("new guilds %v", added)
	}
}

func TestDiscord429RetryAfterFromBody(t *testing.T) {
	c := connect(t, platform.Discord)
	platformtest.ServeDiscordAPI(c.f, 2)
	c.f.FailNextAPI(1, platformtest.Fail429)
	_, err := stream(t, c.p, "guilds").Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	ae := apiError(t, err)
	if ae.Kind != platform.APIRateLimited || ae.RetryAfter != 6457*time.Millisecond {
		t.Errorf("kind %s, RetryAfter %v; want rate_limited, retry_after 6.457 s from the body", ae.Kind, ae.RetryAfter)
	}
	if at := ae.RetryAt(t0); !at.Equal(t0.Add(6457 * time.Millisecond)) {
		t.Errorf("RetryAt %v", at)
	}
}
