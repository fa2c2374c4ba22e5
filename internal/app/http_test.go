package app_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/store"
)

// TestGraphQLOverHTTP checks the MUST requirements of the GraphQL-over-HTTP
// spec as graphql-http's server audit phrases them (audit ids in names), and
// the SHOULDs we meet.
func TestGraphQLOverHTTP(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	type tc struct {
		name        string
		method      string
		query       string // GET query string
		contentType string
		accept      string
		body        string
		wantStatus  int
		wantCT      string
		wantErrors  *bool
	}
	yes, no := true, false
	cases := []tc{
		{name: "4655 MUST accept application/json and match the content-type", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }"}`, wantStatus: 200, wantCT: "application/json", wantErrors: &no},
		{name: "22EB accept application/graphql-response+json and match it", method: "POST", contentType: "application/json", accept: "application/graphql-response+json", body: `{"query":"{ __typename }"}`, wantStatus: 200, wantCT: "application/graphql-response+json"},
		{name: "47DE accept */* with application/json", method: "POST", contentType: "application/json", accept: "*/*", body: `{"query":"{ __typename }"}`, wantStatus: 200, wantCT: "application/json"},
		{name: "80D8 assume application/json when accept is missing (GET)", method: "GET", query: "query=" + url.QueryEscape("{ __typename }"), wantStatus: 200, wantCT: "application/json"},
		{name: "BF61 MUST accept utf-8 encoded request", method: "POST", contentType: "application/json; charset=utf-8", body: `{"query":"{ __typename }"}`, wantStatus: 200},
		{name: "2C94/03D4 MUST accept application/json POST requests", method: "POST", contentType: "application/json", body: `{"query":"{ __typename }"}`, wantStatus: 200},
		{name: "9C48 MUST NOT execute mutations on GET", method: "GET", accept: "application/graphql-response+json", query: "query=" + url.QueryEscape("mutation { logout }"), wantStatus: 405},
		{name: "9ABE 4xx without content-type", method: "POST", wantStatus: -4},
		{name: "7267 MUST require a request body on POST", method: "POST", contentType: "application/json", wantStatus: -4},
		{name: "13EE MUST allow string query with application/json", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }"}`, wantStatus: 200, wantErrors: &no},
		{name: "B8B3 MUST allow string operationName", method: "POST", contentType: "application/json", accept: "application/json", body: `{"operationName":"Query","query":"query Query { __typename }"}`, wantStatus: 200, wantErrors: &no},
		{name: "0220 MUST allow null variables", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }","variables":null}`, wantStatus: 200, wantErrors: &no},
		{name: "0221 MUST allow null operationName", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }","operationName":null}`, wantStatus: 200, wantErrors: &no},
		{name: "0222 MUST allow null extensions", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }","extensions":null}`, wantStatus: 200, wantErrors: &no},
		{name: "28B9 MUST allow map variables", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"query Type($name: String!) { __type(name: $name) { name } }","variables":{"name":"sometype"}}`, wantStatus: 200, wantErrors: &no},
		{name: "6A70 GET with URL-encoded JSON variables", method: "GET", accept: "application/json", query: "query=" + url.QueryEscape("query Type($name: String!) { __type(name: $name) { name } }") + "&variables=" + url.QueryEscape(`{"name":"sometype"}`), wantStatus: 200, wantErrors: &no},
		{name: "1B7A MUST allow map extensions", method: "POST", contentType: "application/json", accept: "application/json", body: `{"query":"{ __typename }","extensions":{"some":"value"}}`, wantStatus: 200, wantErrors: &no},
		{name: "malformed JSON is a 4xx with errors", method: "POST", contentType: "application/json", accept: "application/graphql-response+json", body: `{ "not a JSON`, wantStatus: -4, wantErrors: &yes},
		{name: "document parse failure is a 4xx with errors (graphql-response+json)", method: "POST", contentType: "application/json", accept: "application/graphql-response+json", body: `{"query":"{"}`, wantStatus: -4, wantErrors: &yes},
		{name: "validation failure is a 4xx with errors (graphql-response+json)", method: "POST", contentType: "application/json", accept: "application/graphql-response+json", body: `{"query":"{ nosuchfield }"}`, wantStatus: -4, wantErrors: &yes},
		{name: "missing query is a 4xx with errors", method: "POST", contentType: "application/json", accept: "application/graphql-response+json", body: `{"qeury":"{ __typename }"}`, wantStatus: -4, wantErrors: &yes},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := e.srv.URL + "/graphql"
			if c.query != "" {
				u += "?" + c.query
			}
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, u, body)
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			raw, _ := io.ReadAll(res.Body)
			switch {
			case c.wantStatus == -4 && (res.StatusCode < 400 || res.StatusCode > 499):
				t.Fatalf("status %d, want 4xx: %s", res.StatusCode, raw)
			case c.wantStatus > 0 && res.StatusCode != c.wantStatus:
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.wantStatus, raw)
			}
			if c.wantCT != "" && !strings.Contains(res.Header.Get("Content-Type"), c.wantCT) {
				t.Fatalf("content-type %q, want %q", res.Header.Get("Content-Type"), c.wantCT)
			}
			if c.wantErrors != nil && strings.Contains(string(raw), `"errors"`) != *c.wantErrors {
				t.Fatalf("errors present = %v, want %v: %s", !*c.wantErrors, *c.wantErrors, raw)
			}
		})
	}
}

func TestBodyLimitAndBadInput(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_MAX_BODY_BYTES": "2048"})
	big := `{"query":"{ __typename }","variables":{"pad":"` + strings.Repeat("x", 4096) + `"}}`
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(strings.NewReader(big)) // unknown length: sent chunked
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", body)
		req.Header.Set("Content-Type", "application/json")
		r := e.do(req)
		if r.Status != http.StatusRequestEntityTooLarge || r.code() != "BAD_USER_INPUT" {
			t.Fatalf("oversized body (chunked=%v): want 413 with JSON error, got %d %s", chunked, r.Status, r.Raw)
		}
	}
	// Unknown route: JSON 404.
	res, err := http.Get(e.srv.URL + "/nope")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 404 || !strings.Contains(res.Header.Get("Content-Type"), "json") {
		t.Fatalf("unknown route: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_RATE_LIMIT": "3-15m"})
	_, alice := e.user("alice@example.com", false)
	_, bob := e.user("bob@example.com", false)
	for i := 0; i < 3; i++ {
		if r := e.gql(alice, `{ me { id } }`, nil); r.Status != 200 {
			t.Fatalf("request %d: %d %s", i, r.Status, r.Raw)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ me { id } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("4th request: want 429 with Retry-After, got %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Limits are per user: Bob is unaffected.
	if r := e.gql(bob, `{ me { id } }`, nil); r.Status != 200 {
		t.Fatalf("bob limited by alice's usage: %d", r.Status)
	}
}

func TestHealthAndCORS(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_CORS_ORIGINS": "https://app.twin.me"})
	res, err := http.Get(e.srv.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(raw), `"status":"ok"`) || !strings.Contains(string(raw), `"connected":true`) || !strings.Contains(string(raw), `"error":null`) {
		t.Fatalf("health: %d %s", res.StatusCode, raw)
	}
	for origin, allowed := range map[string]bool{"https://app.twin.me": true, "https://evil.example": false} {
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/graphql", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got := res.Header.Get("Access-Control-Allow-Origin") == origin; got != allowed {
			t.Fatalf("CORS for %s: allowed=%v want %v", origin, got, allowed)
		}
	}
	// A closed database turns health into 503 with the error.
	_ = e.app.DB.Close()
	res, err = http.Get(e.srv.URL + "/api/health")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 503 || !strings.Contains(string(raw), `"connected":false`) {
		t.Fatalf("health with database down: %d %s", res.StatusCode, raw)
	}
}

func TestProductionClosesIntrospectionConsoleSignsIn(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_ENV": "production", "TWINME_PUBLIC_URL": "https://api.twin.me", "TWINME_ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "TWINME_METRICS_TOKEN": "metrics-secret"})
	_, admin := e.user("root@example.com", true)
	_, user := e.user("user@example.com", false)
	if r := e.gql(user, `{ __schema { queryType { name } } }`, nil); len(r.Errors) == 0 {
		t.Fatalf("non-admin introspection in production: %s", r.Raw)
	}
	if r := e.gql(admin, `{ __schema { queryType { name } } }`, nil); len(r.Errors) != 0 || dig(r.Data, "__schema", "queryType", "name") != "Query" {
		t.Fatalf("admin introspection in production: %s", r.Raw)
	}
	// The console page holds no data: anyone gets it (it signs them in),
	// with a strict CSP; what it can do is what /graphql allows the viewer.
	for _, path := range []string{"/admin", "/playground"} {
		res, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		csp := res.Header.Get("Content-Security-Policy")
		if res.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-eval") ||
			!strings.Contains(string(body), "Sign in to the admin console") || strings.Contains(string(body), "cdn") {
			t.Fatalf("%s in production: %d, CSP %q", path, res.StatusCode, csp)
		}
	}
}

func TestQueryComplexityLimit(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_MAX_QUERY_COMPLEXITY": "10"})
	_, admin := e.user("root@example.com", true)
	r := e.gql(admin, `{ users(first: 100) { edges { node { id email name role createdAt avatarUrl } cursor } } }`, nil)
	if len(r.Errors) == 0 || !strings.Contains(r.Raw, "complexity") {
		t.Fatalf("over-complex query accepted: %s", r.Raw)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	for k, v := range map[string]string{
		"TWINME_ENV": "staging", "TWINME_LISTEN": "8080", "TWINME_RATE_LIMIT": "lots",
		"TWINME_DATABASE_URL": "mysql://x", "TWINME_SESSION_TTL": "1s", "TWINME_CORS_ORIGINS": "app.twin.me",
		"TWINME_SPOTIFY_CLIENT_SECRET": "only-a-secret", "TWINME_GITHUB_TOKEN_URL": "not a url",
	} {
		_, err := config.Load(func(name string) string {
			if name == k {
				return v
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%q: want an error naming %s, got %v", k, v, k, err)
		}
	}
	_, err := config.Load(func(name string) string {
		return map[string]string{"TWINME_ENV": "production", "TWINME_PUBLIC_URL": "http://api.twin.me", "TWINME_ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}[name]
	})
	if err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("production over http: %v", err)
	}
	_, err = config.Load(func(name string) string {
		return map[string]string{"TWINME_ENV": "production", "TWINME_PUBLIC_URL": "https://api.twin.me"}[name]
	})
	if err == nil || !strings.Contains(err.Error(), "TWINME_ENCRYPTION_KEYS") {
		t.Errorf("production without encryption keys: %v", err)
	}
}

// TestProductionHidesSuggestionsFromNonAdmins: "Did you mean cronJobs?"
// would name admin fields to anyone.
func TestProductionHidesSuggestionsFromNonAdmins(t *testing.T) {
	const query = `{ cronJob { name } }`
	prod := newEnv(t, store.SQLite, map[string]string{"TWINME_ENV": "production", "TWINME_PUBLIC_URL": "https://api.twin.me", "TWINME_ENCRYPTION_KEYS": "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "TWINME_METRICS_TOKEN": "metrics-secret"})
	_, admin := prod.user("root@example.com", true)
	_, user := prod.user("user@example.com", false)
	for who, tok := range map[string]string{"anonymous": "", "user": user} {
		r := prod.gql(tok, query, nil)
		if r.code() != "GRAPHQL_VALIDATION_FAILED" || strings.Contains(r.Raw, "Did you mean") || strings.Contains(r.Raw, "cronJobs") {
			t.Fatalf("production, %s: %s", who, r.Raw)
		}
	}
	if r := prod.gql(admin, query, nil); !strings.Contains(r.Raw, `Did you mean \"cronJobs\"`) {
		t.Fatalf("production, admin: %s", r.Raw)
	}
	dev := newEnv(t, store.SQLite, nil)
	if r := dev.gql("", query, nil); !strings.Contains(r.Raw, "Did you mean") {
		t.Fatalf("development: %s", r.Raw)
	}
}

// TestMalformedKeyStopsBeforeTheDatabase: a bad TWINME_ENCRYPTION_KEYS is
// refused before the database is opened or migrated.
func TestMalformedKeyStopsBeforeTheDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinme.db")
	err := newEnvErr(t, store.SQLite, map[string]string{"TWINME_DATABASE_URL": "sqlite://" + path, "TWINME_ENCRYPTION_KEYS": "k1:bm90LTMyLWJ5dGVz"})
	if err == nil || !strings.Contains(err.Error(), "TWINME_ENCRYPTION_KEYS") {
		t.Fatalf("malformed key: %v", err)
	}
	if _, statErr := os.Stat(path); !os.IsNotExist(statErr) {
		t.Fatalf("the database was created before the key was checked: %v", statErr)
	}
}
