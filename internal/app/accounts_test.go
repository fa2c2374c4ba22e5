package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func eachDialect(t *testing.T, fn func(t *testing.T, d store.Dialect)) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

func TestMeAndScopes(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, full := e.user("ada@example.com", false)
		_, observer := e.user("obs@example.com", false, auth.ScopeObserverWrite)

		r := e.gql(full, `{ me { email role } }`, nil)
		if r.Status != 200 || dig(r.Data, "me", "email") != "ada@example.com" || dig(r.Data, "me", "role") != "USER" {
			t.Fatalf("me with full token: %d %s", r.Status, r.Raw)
		}
		if r := e.gql(observer, `{ me { email } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("observer-scoped token reading me: want FORBIDDEN, got %s", r.Raw)
		}
		if r := e.gql("", `{ me { email } }`, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("anonymous me: want UNAUTHENTICATED, got %s", r.Raw)
		}
		r = e.gql("tm_not-a-real-token", `{ me { email } }`, nil)
		if r.Status != http.StatusUnauthorized || r.code() != "UNAUTHENTICATED" {
			t.Fatalf("unknown token: want 401 UNAUTHENTICATED, got %d %s", r.Status, r.Raw)
		}
	})
}

func TestUsersIsAdminOnly(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, admin := e.user("root@example.com", true)
		_, alice := e.user("alice@example.com", false)
		e.user("bob@example.com", false)

		r := e.gql(alice, `{ users { edges { node { email } } } }`, nil)
		if r.code() != "FORBIDDEN" || strings.Contains(r.Raw, "bob@") {
			t.Fatalf("non-admin listing users: want FORBIDDEN and no data, got %s", r.Raw)
		}
		r = e.gql(admin, `query($after: String) { users(first: 2, after: $after) { edges { node { email } cursor } pageInfo { hasNextPage endCursor } } }`, nil)
		edges, _ := dig(r.Data, "users", "edges").([]any)
		if len(edges) != 2 || dig(r.Data, "users", "pageInfo", "hasNextPage") != true {
			t.Fatalf("admin first page: %s", r.Raw)
		}
		next := dig(r.Data, "users", "pageInfo", "endCursor")
		r = e.gql(admin, `query($after: String) { users(first: 2, after: $after) { edges { node { email } } pageInfo { hasNextPage } } }`, map[string]any{"after": next})
		edges, _ = dig(r.Data, "users", "edges").([]any)
		if len(edges) != 1 || dig(r.Data, "users", "pageInfo", "hasNextPage") != false {
			t.Fatalf("admin second page: %s", r.Raw)
		}
		if r := e.gql(admin, `{ users(first: 101) { edges { cursor } } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("first over max: %s", r.Raw)
		}
	})
}

func TestAPITokenLifecycle(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, alice := e.user("alice@example.com", false)
		_, bob := e.user("bob@example.com", false)

		r := e.gql(alice, `mutation { createApiToken(name: "extension", scopes: [OBSERVER_WRITE]) { token apiToken { id name scopes } } }`, nil)
		tok, _ := dig(r.Data, "createApiToken", "token").(string)
		id, _ := dig(r.Data, "createApiToken", "apiToken", "id").(string)
		if !strings.HasPrefix(tok, auth.TokenPrefix) || id == "" {
			t.Fatalf("createApiToken: %s", r.Raw)
		}
		r = e.gql(alice, `{ apiTokens { id name scopes } }`, nil)
		if strings.Contains(r.Raw, tok) || !strings.Contains(r.Raw, "OBSERVER_WRITE") {
			t.Fatalf("apiTokens must list scopes and never the value: %s", r.Raw)
		}
		// Bob cannot revoke Alice's token.
		if r := e.gql(bob, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, map[string]any{"id": id}); r.code() != "NOT_FOUND" {
			t.Fatalf("cross-user revoke: want NOT_FOUND, got %s", r.Raw)
		}
		if r := e.gql(alice, `mutation { createApiToken(name: "", scopes: [FULL]) { token } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("empty name: %s", r.Raw)
		}
		if r := e.gql(alice, `mutation { createApiToken(name: "x", scopes: [ROOT]) { token } }`, nil); r.Status == 200 && r.code() == "" {
			t.Fatalf("unknown scope accepted: %s", r.Raw)
		}
		// The new token authenticates (FORBIDDEN for me, not UNAUTHENTICATED) until revoked.
		if r := e.gql(tok, `{ me { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("observer token before revoke: %s", r.Raw)
		}
		if r := e.gql(alice, `mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, map[string]any{"id": id}); dig(r.Data, "revokeApiToken", "revokedAt") == nil {
			t.Fatalf("revoke: %s", r.Raw)
		}
		if r := e.gql(tok, `{ me { id } }`, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token still works: %d %s", r.Status, r.Raw)
		}
	})
}

func TestSessionExpiresAndSlides(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, map[string]string{"TWINME_SESSION_TTL": "1h"})
		u, _ := e.user("sam@example.com", false)
		value, _, err := e.app.Auth.CreateSession(context.Background(), u.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		me := func() gqlResponse {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ me { email } }"}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: value})
			return e.do(req)
		}
		if r := me(); dig(r.Data, "me", "email") != "sam@example.com" {
			t.Fatalf("fresh session: %s", r.Raw)
		}
		// Used after 50 minutes: slides forward another hour.
		e.clock.Advance(50 * time.Minute)
		if r := me(); dig(r.Data, "me", "email") != "sam@example.com" {
			t.Fatalf("session at 50m: %s", r.Raw)
		}
		e.clock.Advance(50 * time.Minute) // 100m after start, 50m after last use
		if r := me(); dig(r.Data, "me", "email") != "sam@example.com" {
			t.Fatalf("slid session at 100m: %s", r.Raw)
		}
		e.clock.Advance(61 * time.Minute) // unused for over an hour
		if r := me(); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("expired session still works: %s", r.Raw)
		}
	})
}

func TestLogoutEndsSession(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	u, _ := e.user("lou@example.com", false)
	value, _, err := e.app.Auth.CreateSession(context.Background(), u.ID, "test")
	if err != nil {
		t.Fatal(err)
	}
	post := func(q string) gqlResponse {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"`+q+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: value})
		return e.do(req)
	}
	if r := post("mutation { logout }"); dig(r.Data, "logout") != true {
		t.Fatalf("logout: %s", r.Raw)
	}
	if r := post("{ me { id } }"); r.code() != "UNAUTHENTICATED" {
		t.Fatalf("session after logout: %s", r.Raw)
	}
}
