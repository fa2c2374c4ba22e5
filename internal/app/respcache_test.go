package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
)

// dashboardQuery is what a dashboard sends when it opens (bench/dashboard).
const dashboardQuery = `{
  connections { id platform status accountName lastError }
  lifeClusters { cluster level overrides { audience level } }
  privacy { clusters { cluster level } }
  soulSignature { analyzed insights { key title evidence { label } } }
  preview: soulSignature(audience: FRIENDS) { audience insights { key title } }
  insights(first: 20) { edges { node { key title } } pageInfo { hasNextPage } }
}`

// TestResponseCacheNeverStale: a viewer's repeated dashboard query is
// served from the cache, never to another user or credential, and never
// after a write it could see — a privacy change, a new analysis, a
// connection's change — whichever instance sharing the database made it.
func TestResponseCacheNeverStale(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		a := newEnv(t, d, nil)
		b := newEnv(t, d, map[string]string{"TWINME_DATABASE_URL": a.app.Config.DatabaseURL})
		ctx := context.Background()
		cache := a.app.ResponseCache()
		if cache == nil {
			t.Fatal("no response cache by default")
		}
		ada, tok := a.user("ada@example.com", false)
		_, bobTok := a.user("bob@example.com", false)
		ask := func(e *testEnv, tok string) string {
			t.Helper()
			r := e.gql(tok, dashboardQuery, nil)
			if r.Status != 200 || len(r.Errors) > 0 {
				t.Fatalf("dashboard: %d %s", r.Status, r.Raw)
			}
			return r.Raw
		}
		hits := cache.Hits()
		served := func(what string, want bool) {
			t.Helper()
			if got := cache.Hits() > hits; got != want {
				t.Fatalf("%s: served from the cache = %v, want %v", what, got, want)
			}
			hits = cache.Hits()
		}

		first := ask(a, tok)
		served("first request", false)
		if again := ask(a, tok); again != first {
			t.Fatalf("repeat differs:\n%s\n%s", first, again)
		}
		served("the same request again", true)

		// Another user, the same query: their own data, never Ada's.
		r := b.gql(bobTok, `mutation { setClusterPrivacy(cluster: CREATIVE, level: 7) { clusters { level } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		bob := ask(a, bobTok)
		served("another user", false)
		if !strings.Contains(bob, `{"cluster":"CREATIVE","level":7`) || bob == first {
			t.Fatalf("bob's dashboard: %s", bob)
		}
		// Another credential of the same user is its own entry.
		tok2, _, err := a.app.Auth.CreateAPIToken(ctx, ada.ID, "second", []string{"full"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ask(a, tok2)
		served("another credential of the same user", false)

		// A privacy change on the other instance.
		ask(a, tok)
		served("unchanged", true)
		r = b.gql(tok, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 3) { clusters { level } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		after := ask(a, tok)
		served("after a privacy change", false)
		if !strings.Contains(after, `{"cluster":"PERSONAL","level":3`) {
			t.Fatalf("privacy change not seen: %s", after)
		}

		// A new analysis (insights and signature) written by the other instance.
		ask(a, tok)
		served("unchanged", true)
		in := privacy.Insight{Key: "music.chronotype", Cluster: privacy.Creative, Title: "Evening listener", Body: "b",
			Sensitivity: 0, Confidence: 0.8, Evidence: []privacy.Evidence{{Label: "plays", Value: "1", Weight: 1}}}
		if _, _, err := b.app.DB.SaveInsights(ctx, ada.ID, store.InsightSourcePattern, []privacy.Insight{in}, a.clock.Now()); err != nil {
			t.Fatal(err)
		}
		after = ask(a, tok)
		served("after new insights", false)
		if strings.Count(after, "Evening listener") != 3 {
			t.Fatalf("new insight not in the signature, the FRIENDS preview and the list: %s", after)
		}
		// Hiding the cluster from FRIENDS empties their preview at once.
		ask(a, tok)
		served("unchanged", true)
		r = b.gql(tok, `mutation { setClusterPrivacy(cluster: CREATIVE, level: 0, audience: FRIENDS) { clusters { level } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		after = ask(a, tok)
		served("after hiding a cluster from an audience", false)
		if strings.Count(after, "Evening listener") != 2 || !strings.Contains(after, `"preview":{"audience":"FRIENDS","insights":[]}`) {
			t.Fatalf("FRIENDS preview still shows the hidden cluster: %s", after)
		}

		// A connection stored, then its status changed, by the other instance.
		c := &store.Connection{UserID: ada.ID, Platform: "github", AccountID: "1", AccountName: "ada", Scopes: "repo", ConnectedAt: a.clock.Now()}
		if err := b.app.DB.UpsertConnection(ctx, c, func(string) (store.ConnectionTokens, error) {
			return store.ConnectionTokens{AccessTokenEnc: "x"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		after = ask(a, tok)
		served("after a new connection", false)
		if !strings.Contains(after, `"platform":"GITHUB","status":"CONNECTED"`) {
			t.Fatalf("new connection not seen: %s", after)
		}
		if _, _, err := b.app.DB.SetConnectionStatus(ctx, c.ID, store.StatusChange{Status: store.StatusNeedsReauth, Error: "sign in again"}, a.clock.Now()); err != nil {
			t.Fatal(err)
		}
		after = ask(a, tok)
		served("after a connection's status changed", false)
		if !strings.Contains(after, `"status":"NEEDS_REAUTH","accountName":"ada","lastError":"sign in again"`) {
			t.Fatalf("status change not seen: %s", after)
		}

		// A revoked credential gets no cached answer.
		ask(a, tok2)
		ask(a, tok2)
		served("second credential again", true)
		var id string
		for _, tk := range mustTokens(t, a, tok) {
			if tk.name == "second" {
				id = tk.id
			}
		}
		if r := a.gql(tok, `mutation($id: ID!) { revokeApiToken(id: $id) { id } }`, map[string]any{"id": id}); len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		if r := a.gql(tok2, dashboardQuery, nil); r.code() != "UNAUTHENTICATED" {
			t.Fatalf("revoked token: %s", r.Raw)
		}
		served("a revoked token", false)
		// The credential's end made the instance forget the user's entries.
		ask(a, tok)
		served("after a credential of the user ended", false)
	})
}

// Only error-free queries of the dashboard's root fields are kept.
func TestResponseCacheKeepsOnlyCacheableQueries(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		cache := e.app.ResponseCache()
		_, tok := e.user("ada@example.com", false)
		for name, q := range map[string]string{
			"another root field": `{ me { email } privacy { clusters { level } } }`,
			"an error":           `{ insights(first: -1) { pageInfo { hasNextPage } } }`,
			"a mutation":         `mutation { setClusterPrivacy(cluster: PERSONAL, level: 40) { clusters { level } } }`,
			"through a fragment": `{ ...F } fragment F on Query { me { email } }`,
			"introspection":      `{ __schema { queryType { name } } }`,
		} {
			before := cache.Hits()
			e.gql(tok, q, nil)
			e.gql(tok, q, nil)
			if cache.Hits() != before {
				t.Fatalf("%s was served from the cache", name)
			}
		}
		// Anonymous requests never reach it.
		before := cache.Hits()
		e.gql("", `{ __typename }`, nil)
		e.gql("", `{ __typename }`, nil)
		if cache.Hits() != before {
			t.Fatal("an anonymous request was served from the cache")
		}
	})
}

// TestResponseCacheOff: TWINME_RESPONSE_CACHE_BYTES=0 disables it.
func TestResponseCacheOff(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_RESPONSE_CACHE_BYTES": "0"})
	if e.app.ResponseCache() != nil {
		t.Fatal("cache built with 0 bytes")
	}
	_, tok := e.user("ada@example.com", false)
	if r := e.gql(tok, dashboardQuery, nil); len(r.Errors) > 0 {
		t.Fatal(r.Raw)
	}
}

type tokenRow struct{ id, name string }

func mustTokens(t *testing.T, e *testEnv, tok string) []tokenRow {
	t.Helper()
	r := e.gql(tok, `{ apiTokens { id name } }`, nil)
	if len(r.Errors) > 0 {
		t.Fatal(r.Raw)
	}
	var out []tokenRow
	list, _ := dig(r.Data, "apiTokens").([]any)
	for _, x := range list {
		m := x.(map[string]any)
		out = append(out, tokenRow{m["id"].(string), m["name"].(string)})
	}
	return out
}
