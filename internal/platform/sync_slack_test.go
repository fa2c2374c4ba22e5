package platform_test

import (
	"encoding/json"
	"testing"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestSlackIdentityAndTeam(t *testing.T) {
	for _, tc := range []struct {
		name       string
		extraScope bool
		teamInfo   int
		domain     string
	}{
		{"default scopes: team from auth.test", false, 0, ""},
		{"team:read configured: team.info", true, 1, "subarachnoid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := connect(t, platform.Slack)
			api := platformtest.ServeSlackAPI(c.f)
			if tc.extraScope {
				c.p.Scopes = append(append([]string(nil), c.p.Scopes...), "team:read")
			}
			res := runStream(t, c, stream(t, c.p, "identity"), nil)
			if res.err != nil {
				t.Fatal(res.err)
			}
			noDuplicates(t, res.items)
			byType := map[platform.DataType]platform.Item{}
			for _, it := range res.items {
				byType[it.DataType] = it
			}
			if id := byType[platform.DataSlackIdentity]; id.ExternalID != "T12345678:W12345678" {
				t.Errorf("identity item %+v", id)
			}
			team := byType[platform.DataSlackTeam]
			var pl map[string]any
			json.Unmarshal(team.Payload, &pl)
			if team.ExternalID != "T12345678" || pl["name"] != "Subarachnoid Workspace" {
				t.Errorf("team item %s %s", team.ExternalID, team.Payload)
			}
			if got, _ := pl["domain"].(string); got != tc.domain {
				t.Errorf("team domain %q, want %q", got, tc.domain)
			}
			if n := len(api.Requests()); n != tc.teamInfo {
				t.Errorf("team.info called %d times, want %d", n, tc.teamInfo)
			}
		})
	}
}

// Slack answers a dead token with HTTP 200 {"ok":false,"error":"invalid_auth"}:
// an auth error, not a page.
func TestSlackOKFalseIsAnAuthError(t *testing.T) {
	c := connect(t, platform.Slack)
	s := stream(t, c.p, "identity")
	page, err := s.Fetch(ctxT(t), nil, c.p, "xoxp-unknown", nil)
	if err == nil {
		t.Fatalf("ok:false became a page with %d items", len(page.Items))
	}
	ae := apiError(t, err)
	if ae.Kind != platform.APIAuth || ae.Code != "invalid_auth" || ae.StatusCode != 200 {
		t.Errorf("error %+v, want auth / invalid_auth / HTTP 200", ae)
	}
	c.f.RevokeAll()
	_, err = s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	if ae := apiError(t, err); ae.Kind != platform.APIAuth || ae.Code != "token_revoked" {
		t.Errorf("revoked token: %+v", ae)
	}
}
