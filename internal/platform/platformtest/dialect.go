package platformtest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/twinme/twinme/internal/platform"
)

// tokenErr is a token endpoint failure, answered in each provider's words.
type tokenErr int

const (
	errBadCode          tokenErr = iota // code unknown, used or expired
	errRedirect                         // redirect_uri differs from the authorize request
	errPKCE                             // code_verifier missing or wrong
	errBadRefresh                       // refresh token unknown, rotated away or revoked
	errBadClient                        // client authentication failed
	errUnsupportedGrant                 // grant_type not supported
	errInvalidRequest                   // malformed request
)

// dialect is how one provider speaks: paths, accepted client
// authentication, token lifetimes and rotation, and its response shapes.
type dialect struct {
	authPath, tokenPath   string
	revokePath            string // "" when the provider has no revocation
	revokeMethod          string
	apiBase               string // API base path, as in Endpoints.APIBaseURL
	identityPath          string
	identityMethods       []string
	acceptsBasic          bool
	acceptsPost           bool
	pkce                  bool
	requireResponseType   bool
	scopeParam            string // "scope", or Slack's "user_scope"
	codePrefix            string
	accessPrefix          string
	refreshPrefix         string
	killsAccessOnRotation bool // a rotation also invalidates the old access token (GitHub)
	repeatsRefresh        bool // a non-rotating refresh repeats the refresh token (LinkedIn)
	identity              platform.Identity

	lifetime        func(f *Fake) int64 // access token expires_in; 0 = never expires
	refreshLifetime func(f *Fake) int64 // refresh_token_expires_in; 0 = not reported
	issuesRefresh   func(f *Fake, c *codeRec) bool
	rotates         func(f *Fake) bool
	grantedScope    func(requested string) string

	writeToken        func(w http.ResponseWriter, r *http.Request, t issued)
	writeTokenError   func(w http.ResponseWriter, r *http.Request, e tokenErr)
	writeUnauthorized func(w http.ResponseWriter, revoked bool)
	writeIdentity     func(w http.ResponseWriter, id platform.Identity)
	revoke            func(f *Fake, w http.ResponseWriter, r *http.Request)
	write429          func(w http.ResponseWriter)
}

func dialects() map[platform.ID]*dialect {
	return map[platform.ID]*dialect{
		platform.Spotify:  spotifyDialect(),
		platform.YouTube:  youTubeDialect(),
		platform.Gmail:    gmailDialect(),
		platform.GitHub:   gitHubDialect(),
		platform.Discord:  discordDialect(),
		platform.LinkedIn: linkedInDialect(),
		platform.Slack:    slackDialect(),
	}
}

func constant(n int64) func(*Fake) int64 { return func(*Fake) int64 { return n } }
func always(*Fake, *codeRec) bool        { return true }
func never(*Fake) bool                   { return false }
func rotationSetting(f *Fake) bool       { return f.rotation }
func sameScope(requested string) string  { return requested }
func retryAfter(w http.ResponseWriter) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterSeconds))
}
func spaceToComma(requested string) string { return strings.Join(strings.Fields(requested), ",") }

// oauthError writes an RFC 6749 §5.2 error body.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	body := map[string]string{"error": code}
	if description != "" {
		body["error_description"] = description
	}
	writeJSON(w, status, body)
}

// oauthToken writes an RFC 6749 §5.1 token body.
func oauthToken(w http.ResponseWriter, t issued, extra map[string]any) {
	body := map[string]any{"access_token": t.Access, "token_type": "Bearer"}
	if t.ExpiresIn > 0 {
		body["expires_in"] = t.ExpiresIn
	}
	if t.Refresh != "" {
		body["refresh_token"] = t.Refresh
	}
	if t.Scope != "" {
		body["scope"] = t.Scope
	}
	for k, v := range extra {
		body[k] = v
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, body)
}
