package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/logx"
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

// newEnvErr builds an app like newEnv and returns the error it fails with.
func newEnvErr(t testing.TB, d store.Dialect, env map[string]string) error {
	t.Helper()
	vars := map[string]string{"TWINME_DATABASE_URL": storetest.URL(t, d), "TWINME_DATA_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		return err
	}
	a, err := app.New(context.Background(), cfg, logx.Discard(), app.Options{Migrate: true})
	if err == nil {
		_ = a.Close()
	}
	return err
}

// newEnv starts twinme on dialect d; env overrides configuration.
func newEnv(t testing.TB, d store.Dialect, env map[string]string) *testEnv {
	t.Helper()
	return startEnv(t, d, env, logx.Discard())
}

// startEnv starts twinme on dialect d, logging to log.
func startEnv(t testing.TB, d store.Dialect, env map[string]string, log *slog.Logger) *testEnv {
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
	a, err := app.New(context.Background(), cfg, log, app.Options{Clock: clock, Migrate: true})
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
