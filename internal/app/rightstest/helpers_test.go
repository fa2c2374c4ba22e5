// Package rightstest drives the data-rights features (export and its
// import, the access log, retention, deletion) through the real handler.
// These end-to-end tests live in their own package so that their demo
// years, analysed on both dialects under the race detector, get their own
// test-binary time budget instead of crowding internal/app's.
package rightstest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// testEnv is a real twinme handler on a real database with a fake clock.
type testEnv struct {
	t     testing.TB
	app   *app.App
	srv   *httptest.Server
	clock *clockwork.FakeClock
	// bindings holds the browser-binding cookie startConnection set, per
	// platform, as the browser would.
	bindings map[string]*http.Cookie
}

// newEnv starts twinme on dialect d; env overrides configuration.
func newEnv(t testing.TB, d store.Dialect, env map[string]string) *testEnv {
	t.Helper()
	vars := map[string]string{
		"TWINME_DATABASE_URL": storetest.URL(t, d),
		"TWINME_LISTEN":       "127.0.0.1:0",
		"TWINME_DATA_DIR":     t.TempDir(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	a, err := app.New(context.Background(), cfg, logx.Discard(), app.Options{Clock: clock, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); _ = a.Close() })
	return &testEnv{t: t, app: a, srv: srv, clock: clock, bindings: map[string]*http.Cookie{}}
}

// user creates a user and a token with scopes.
func (e *testEnv) user(email string, admin bool, scopes ...string) (*store.User, string) {
	e.t.Helper()
	u, err := e.app.Auth.CreateUser(context.Background(), email, "", admin)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(scopes) == 0 {
		scopes = []string{auth.ScopeFull}
	}
	tok, _, err := e.app.Auth.CreateAPIToken(context.Background(), u.ID, "test", scopes, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return u, tok
}

type gqlResponse struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	Raw     string
	Cookies []*http.Cookie
}

func (r gqlResponse) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// gql POSTs a GraphQL operation with an optional bearer token.
func (e *testEnv) gql(token, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

func (e *testEnv) do(req *http.Request) gqlResponse {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := gqlResponse{Status: res.StatusCode, Raw: string(raw), Cookies: res.Cookies()}
	if strings.Contains(res.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(raw, &out); err != nil {
			e.t.Fatalf("response is not JSON: %v: %s", err, raw)
		}
	}
	return out
}

func dig(m map[string]any, path ...string) any {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = mm[p]
	}
	return cur
}

func (e *testEnv) dialWS(origin, subprotocol string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{subprotocol}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql", h)
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func readMsg(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Type == "ping" || m.Type == "pong" || m.Type == "ka" {
			continue
		}
		return m
	}
}

// waitSubscribers waits until the event bus has n subscribers, so an event
// published next reaches them (subscribe has no acknowledgement).
func waitSubscribers(t *testing.T, e *testEnv, n int) {
	t.Helper()
	counter, ok := e.app.Events.(interface{ Subscribers() int })
	if !ok {
		t.Fatal("event bus cannot count subscribers")
	}
	// The auth service's credential listener is always subscribed.
	n++
	for deadline := time.Now().Add(5 * time.Second); counter.Subscribers() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers after 5s, want %d", counter.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// subscribe opens a websocket, authenticates with token (if any) and
// subscribes to query.
func (e *testEnv) subscribe(token, query string, vars map[string]any) *websocket.Conn {
	e.t.Helper()
	c, _, err := e.dialWS("", "graphql-transport-ws")
	if err != nil {
		e.t.Fatal(err)
	}
	init := map[string]any{"type": "connection_init"}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	_ = c.WriteJSON(init)
	if m := readMsg(e.t.(*testing.T), c); m.Type != "connection_ack" {
		e.t.Fatalf("ack: %+v", m)
	}
	_ = c.WriteJSON(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return c
}

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

func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}
