package platformtest

import (
	"net/http"
	"strings"
	"sync"
)

// LinkedInAPI serves GET /v2/userinfo with a profile a test can change
// between runs.
type LinkedInAPI struct {
	recorder
	f    *Fake
	mu   sync.Mutex
	name string
}

// ServeLinkedInAPI registers the endpoint on f. The identity handler
// already answers /v2/userinfo; a pattern with the host takes precedence.
func ServeLinkedInAPI(f *Fake) *LinkedInAPI {
	a := &LinkedInAPI{f: f, name: f.Identity().DisplayName}
	f.HandleAPI(http.MethodGet, overridePattern(f, "/v2/userinfo"), a.userinfo)
	return a
}

// Rename changes the profile's name, as the person editing their profile.
func (a *LinkedInAPI) Rename(name string) {
	a.mu.Lock()
	a.name = name
	a.mu.Unlock()
}

// userinfo answers GET /v2/userinfo (learn.microsoft.com, Sign In with
// LinkedIn using OpenID Connect):
//
//	{"sub":"782bbtaQ","name":"John Doe","given_name":"John","family_name":"Doe",
//	 "picture":"https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
//	 "locale":{"country":"US","language":"en"},"email":"doe@email.com","email_verified":true}
func (a *LinkedInAPI) userinfo(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	id := a.f.Identity()
	a.mu.Lock()
	name := a.name
	a.mu.Unlock()
	given, family, _ := strings.Cut(name, " ")
	writeJSON(w, 200, map[string]any{
		"sub": id.AccountID, "name": name, "given_name": given, "family_name": family,
		"picture": id.AvatarURL, "locale": map[string]string{"country": "US", "language": "en"},
		"email": id.Email, "email_verified": true,
	})
}
