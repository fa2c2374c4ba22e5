package platformtest

import (
	"net/http"
	"sync"
)

// SlackAPI serves team.info beside the auth.test the identity handler
// answers.
type SlackAPI struct {
	recorder
	mu     sync.Mutex
	domain string
}

// ServeSlackAPI registers team.info on f.
func ServeSlackAPI(f *Fake) *SlackAPI {
	a := &SlackAPI{domain: "subarachnoid"}
	f.HandleAPI(http.MethodGet, "/api/team.info", a.teamInfo)
	f.HandleAPI(http.MethodPost, "/api/team.info", a.teamInfo)
	return a
}

// SetDomain changes the workspace's domain.
func (a *SlackAPI) SetDomain(d string) {
	a.mu.Lock()
	a.domain = d
	a.mu.Unlock()
}

// teamInfo answers team.info (needs team:read; docs.slack.dev/reference/methods/team.info):
//
//	{"ok":true,"team":{"id":"T12345678","name":"Subarachnoid Workspace","domain":"subarachnoid",
//	 "email_domain":"example.com","icon":{"image_34":"…","image_44":"…","image_68":"…","image_default":true},
//	 "enterprise_id":"E1234A12AB","enterprise_name":"Umbrella Corporation"}}
func (a *SlackAPI) teamInfo(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	a.mu.Lock()
	d := a.domain
	a.mu.Unlock()
	writeJSON(w, 200, map[string]any{"ok": true, "team": map[string]any{
		"id": "T12345678", "name": "Subarachnoid Workspace", "domain": d, "email_domain": "example.com",
		"icon": map[string]any{"image_34": "https://a.slack-edge.com/icon_34.png", "image_68": "https://a.slack-edge.com/icon_68.png", "image_default": true},
	}})
}
