package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
)

const testPublicURL = "http://twinme.test"

// withFake configures platform id to use fake f.
func withFake(env map[string]string, id platform.ID, f *platformtest.Fake) map[string]string {
	up := "TWINME_" + strings.ToUpper(string(id)) + "_"
	ep := f.Endpoints()
	env[up+"CLIENT_ID"], env[up+"CLIENT_SECRET"] = f.ClientID, f.ClientSecret
	env[up+"AUTH_URL"], env[up+"TOKEN_URL"], env[up+"API_URL"] = ep.AuthURL, ep.TokenURL, ep.APIBaseURL
	if ep.RevokeURL != "" {
		env[up+"REVOKE_URL"] = ep.RevokeURL
	}
	env["TWINME_PUBLIC_URL"] = testPublicURL
	env["TWINME_APP_URL"] = "https://app.twin.me"
	return env
}

func newFake(t *testing.T, id platform.ID, opts ...platformtest.Option) *platformtest.Fake {
	opts = append([]platformtest.Option{platformtest.WithClient(platformtest.DefaultClientID, platformtest.DefaultClientSecret, testPublicURL+"/oauth/"+string(id)+"/callback")}, opts...)
	return platformtest.New(t, id, opts...)
}

// callback plays the browser coming back from the provider.
func (e *testEnv) callback(id platform.ID, query url.Values, token string) *http.Response {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/oauth/"+string(id)+"/callback?"+query.Encode(), nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if c := e.bindings[string(id)]; c != nil {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res
}

func (e *testEnv) startConnection(token string, id platform.ID) (authURL, state string) {
	e.t.Helper()
	r := e.gql(token, `mutation($p: Platform!) { startConnection(platform: $p) { authorizeUrl expiresAt } }`, map[string]any{"p": strings.ToUpper(string(id))})
	authURL, _ = dig(r.Data, "startConnection", "authorizeUrl").(string)
	if authURL == "" {
		e.t.Fatalf("startConnection %s: %s", id, r.Raw)
	}
	for _, c := range r.Cookies {
		if c.Name == "twinme_oauth_"+string(id) {
			e.bindings[string(id)] = c
		}
	}
	if e.bindings[string(id)] == nil {
		e.t.Fatalf("startConnection %s set no browser-binding cookie", id)
	}
	u, _ := url.Parse(authURL)
	return authURL, u.Query().Get("state")
}

// connect runs the whole flow for user token against fake f.
func (e *testEnv) connect(token string, id platform.ID, f *platformtest.Fake) {
	e.t.Helper()
	authURL, state := e.startConnection(token, id)
	res := e.callback(id, url.Values{"code": {f.IssueCode(authURL)}, "state": {state}}, "")
	if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "connection=connected") {
		e.t.Fatalf("callback: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestConnectEveryPlatformEndToEnd(t *testing.T) {
	for _, id := range platform.All {
		t.Run(string(id), func(t *testing.T) {
			eachDialect(t, func(t *testing.T, d store.Dialect) {
				f := newFake(t, id, platformtest.WithRotation(true))
				e := newEnv(t, d, withFake(map[string]string{}, id, f))
				_, tok := e.user("con@example.com", false)

				authURL, state := e.startConnection(tok, id)
				code := f.IssueCode(authURL)
				res := e.callback(id, url.Values{"code": {code}, "state": {state}}, "")
				if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "connection=connected") {
					t.Fatalf("callback: %d %s", res.StatusCode, res.Header.Get("Location"))
				}
				r := e.gql(tok, `{ connections { id platform status accountName tokenExpiresAt lastError } }`, nil)
				list, _ := dig(r.Data, "connections").([]any)
				if len(list) != 1 {
					t.Fatalf("connections: %s", r.Raw)
				}
				c := list[0].(map[string]any)
				if c["status"] != "CONNECTED" || c["platform"] != strings.ToUpper(string(id)) || c["accountName"] == "" || c["lastError"] != nil {
					t.Fatalf("connection: %v", c)
				}
				// Tokens are stored encrypted, never in clear.
				row, err := e.app.DB.ConnectionByID(context.Background(), c["id"].(string))
				if err != nil {
					t.Fatal(err)
				}
				toks, err := e.app.Tokens.Tokens(row)
				if err != nil || toks.AccessToken == "" || strings.Contains(row.AccessTokenEnc, toks.AccessToken) || !f.AccessTokenValid(toks.AccessToken) {
					t.Fatalf("stored token: err=%v", err)
				}
				if strings.Contains(r.Raw, toks.AccessToken) {
					t.Fatal("API returned a token")
				}
				// The state works once.
				if res := e.callback(id, url.Values{"code": {code}, "state": {state}}, ""); res.StatusCode != http.StatusBadRequest {
					t.Fatalf("replayed state: %d", res.StatusCode)
				}
				// Disconnect revokes where the provider can, erases tokens.
				r = e.gql(tok, `mutation($p: Platform!) { disconnect(platform: $p) { status } }`, map[string]any{"p": strings.ToUpper(string(id))})
				if dig(r.Data, "disconnect", "status") != "DISCONNECTED" {
					t.Fatalf("disconnect: %s", r.Raw)
				}
				p := platform.Providers()[id]
				if p.CanRevoke() && f.RevokeCount() != 1 {
					t.Fatalf("revoke calls = %d, want 1", f.RevokeCount())
				}
				row, _ = e.app.DB.ConnectionByID(context.Background(), c["id"].(string))
				if row.AccessTokenEnc != "" || row.RefreshTokenEnc != nil {
					t.Fatal("tokens kept after disconnect")
				}
				// Reconnecting revives the same connection.
				e.connect(tok, id, f)
				row2, _ := e.app.DB.ConnectionByID(context.Background(), c["id"].(string))
				if row2 == nil || row2.Status != store.StatusConnected {
					t.Fatalf("reconnect did not revive the connection: %+v", row2)
				}
			})
		})
	}
}

func TestConnectRefusals(t *testing.T) {
	f := newFake(t, platform.GitHub)
	e := newEnv(t, store.SQLite, withFake(map[string]string{}, platform.GitHub, f))
	alice, aliceTok := e.user("alice@example.com", false)
	_, bobTok := e.user("bob@example.com", false)

	if r := e.gql(aliceTok, `mutation { startConnection(platform: SPOTIFY) { authorizeUrl } }`, nil); r.code() != "NOT_CONFIGURED" {
		t.Fatalf("unconfigured platform: %s", r.Raw)
	}
	if r := e.gql(aliceTok, `mutation($p: Platform!) { startConnection(platform: $p) { authorizeUrl } }`, map[string]any{"p": "MYSPACE"}); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("unknown platform: want BAD_USER_INPUT, got %s", r.Raw)
	}
	r := e.gql("", `{ platforms { platform configured scopes } }`, nil)
	if !strings.Contains(r.Raw, `{"platform":"GITHUB","configured":true`) || !strings.Contains(r.Raw, `{"platform":"SPOTIFY","configured":false`) {
		t.Fatalf("platforms: %s", r.Raw)
	}

	// Provider error page: nothing stored.
	_, state := e.startConnection(aliceTok, platform.GitHub)
	res := e.callback(platform.GitHub, url.Values{"error": {"access_denied"}, "state": {state}}, "")
	if !strings.Contains(res.Header.Get("Location"), "connection=denied") {
		t.Fatalf("access_denied: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if cs, _ := e.app.DB.ListConnections(context.Background(), alice.ID); len(cs) != 0 {
		t.Fatalf("denied authorization stored a connection: %+v", cs)
	}
	// Bob cannot complete Alice's authorization.
	authURL, state := e.startConnection(aliceTok, platform.GitHub)
	if res := e.callback(platform.GitHub, url.Values{"code": {f.IssueCode(authURL)}, "state": {state}}, bobTok); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("another user's state: %d", res.StatusCode)
	}
	if res := e.callback(platform.GitHub, url.Values{"state": {"forged"}}, ""); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged state: %d", res.StatusCode)
	}
	// Two pending authorizations are both valid; an expired one is refused.
	authURL1, state1 := e.startConnection(aliceTok, platform.GitHub)
	authURL2, state2 := e.startConnection(aliceTok, platform.GitHub)
	if res := e.callback(platform.GitHub, url.Values{"code": {f.IssueCode(authURL2)}, "state": {state2}}, ""); res.StatusCode != http.StatusFound {
		t.Fatalf("second pending authorization: %d", res.StatusCode)
	}
	e.clock.Advance(11 * time.Minute)
	if res := e.callback(platform.GitHub, url.Values{"code": {f.IssueCode(authURL1)}, "state": {state1}}, ""); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("expired state: %d", res.StatusCode)
	}
	// Bob can neither see, disconnect nor refresh Alice's connection.
	if r := e.gql(bobTok, `{ connections { id } }`, nil); !strings.Contains(r.Raw, `"connections":[]`) {
		t.Fatalf("bob sees: %s", r.Raw)
	}
	if r := e.gql(bobTok, `mutation { disconnect(platform: GITHUB) { id } }`, nil); r.code() != "NOT_FOUND" {
		t.Fatalf("bob disconnecting: %s", r.Raw)
	}
	cs, _ := e.app.DB.ListConnections(context.Background(), alice.ID)
	if len(cs) != 1 || cs[0].Status != store.StatusConnected {
		t.Fatalf("alice's connections: %+v", cs)
	}
	if r := e.gql(bobTok, `mutation($id: ID!) { refreshConnectionToken(id: $id) { id } }`, map[string]any{"id": cs[0].ID}); r.code() != "FORBIDDEN" {
		t.Fatalf("bob refreshing: %s", r.Raw)
	}
}

// TestForwardedAuthorizeURLIsRefused: an authorize URL completed in a
// browser other than the one that started it (no binding cookie, or another
// start's cookie) gets the 400 page and links nothing; the starting browser
// can still finish.
func TestForwardedAuthorizeURLIsRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.GitHub)
		e := newEnv(t, d, withFake(map[string]string{}, platform.GitHub, f))
		_, alice := e.user("alice@example.com", false)
		_, mallory := e.user("mallory@example.com", false)

		authURL, state := e.startConnection(alice, platform.GitHub)
		aliceCookie := e.bindings["github"]
		code := f.IssueCode(authURL)

		// Another browser, no cookie.
		delete(e.bindings, "github")
		if res := e.callback(platform.GitHub, url.Values{"code": {code}, "state": {state}}, ""); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback without the binding cookie: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		// Another browser holding its own start's cookie.
		e.startConnection(mallory, platform.GitHub)
		if res := e.callback(platform.GitHub, url.Values{"code": {code}, "state": {state}}, ""); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("callback with another start's cookie: %d", res.StatusCode)
		}
		if r := e.gql(alice, `{ connections { platform } }`, nil); strings.Contains(r.Raw, "GITHUB") {
			t.Fatalf("a forwarded URL linked an account: %s", r.Raw)
		}
		// The browser that started it finishes.
		e.bindings["github"] = aliceCookie
		res := e.callback(platform.GitHub, url.Values{"code": {code}, "state": {state}}, "")
		if res.StatusCode != http.StatusFound || !strings.Contains(res.Header.Get("Location"), "connection=connected") {
			t.Fatalf("callback in the starting browser: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if c := aliceCookie; !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/oauth/github/callback" || c.MaxAge <= 0 || c.MaxAge > 600 {
			t.Fatalf("binding cookie attributes: %+v", c)
		}
	})
}
