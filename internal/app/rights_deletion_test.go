package app_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
)

// tables lists every table of the database.
func tables(t *testing.T, db *store.DB) []string {
	t.Helper()
	var names []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Dialect == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	rows, err := db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// traces returns, per table, how many rows mention any needle in any column.
func traces(t *testing.T, db *store.DB, needles []string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range tables(t, db) {
		rows, err := db.QueryContext(context.Background(), fmt.Sprintf(`SELECT * FROM %q`, table))
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, v := range vals {
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, "%v\x00", v)
			}
			for _, n := range needles {
				if strings.Contains(b.String(), n) {
					out[table]++
					break
				}
			}
		}
		rows.Close()
	}
	return out
}

// TestDeletionLeavesNoTrace fills every table through the public API (and
// the services behind it), deletes the account and scans every table and
// the export directory for the user's id, email and the ids of what was
// theirs.
func TestDeletionLeavesNoTrace(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		f := newFake(t, platform.Spotify, platformtest.WithRotation(true))
		platformtest.ServeSpotifyAPI(f, 20)
		vars := withFake(map[string]string{}, platform.Spotify, f)
		// Rate limits count in Redis when one is at hand (CI has one), so
		// the scan covers its keys too.
		redisURL, prefix := os.Getenv("TWINME_TEST_REDIS_URL"), fmt.Sprintf("test-deletion-%d", time.Now().UnixNano())
		if redisURL != "" {
			vars["TWINME_REDIS_URL"], vars["TWINME_REDIS_PREFIX"] = redisURL, prefix
		}
		e := newEnv(t, d, vars)
		_, admin := e.user("admin@example.com", true)
		other, otherTok := e.user("friend@example.com", false)

		// Platform items, browser events, observation settings, insights and
		// the signature: the demo year through the ingest path.
		seeded, err := demo.SeedUser(ctx, demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Logger: logx.Discard(), Every: 40}, "Gone.Person@example.com")
		if err != nil {
			t.Fatal(err)
		}
		tok := seeded.Token
		u, err := e.app.DB.UserByID(ctx, seeded.UserID)
		if err != nil {
			t.Fatal(err)
		}
		// A browser session, a connection (OAuth state, tokens, sync state).
		if _, _, err := e.app.Auth.CreateSession(ctx, u.ID, firefox); err != nil {
			t.Fatal(err)
		}
		e.connect(tok, platform.Spotify, f)
		mustOK := func(token, q string, vars map[string]any) gqlResponse {
			t.Helper()
			r := e.gql(token, q, vars)
			if len(r.Errors) > 0 {
				t.Fatalf("%s: %s", q, r.Raw)
			}
			return r
		}
		mustOK(tok, `mutation { syncNow(platform: SPOTIFY) { outcome } }`, nil)
		mustOK(tok, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 10, audience: DATING) { clusters { level } } }`, nil)
		mustOK(tok, `mutation { setSimilarTwinsOptIn(optIn: true) }`, nil)
		mustOK(tok, `mutation { setRetention(platform: SPOTIFY, days: 400) { days } }`, nil)
		mustOK(tok, `mutation { startTwinConversation { id } }`, nil)
		// Their twin is seen and talked to through a link (access log, guest
		// conversations) …
		r := mustOK(tok, `mutation { createShareLink(audience: FRIENDS) { token } }`, nil)
		share, _ := dig(r.Data, "createShareLink", "token").(string)
		e.gqlFrom(firefox, "", `query($t: String!) { sharedTwin(token: $t) { audience } }`, map[string]any{"t": share})
		r = mustOK(otherTok, `mutation($t: String) { startTwinConversation(shareToken: $t) { id } }`, map[string]any{"t": share})
		mustOK(otherTok, `mutation($c: ID!, $t: String) { sendTwinMessage(conversationId: $c, text: "hello", shareToken: $t) { reply { id } } }`,
			map[string]any{"c": dig(r.Data, "startTwinConversation", "id"), "t": share})
		// … and they visit someone else's twin, signed in.
		r = mustOK(otherTok, `mutation { createShareLink(audience: EVERYONE) { token } }`, nil)
		otherShare, _ := dig(r.Data, "createShareLink", "token").(string)
		r = mustOK(tok, `mutation($t: String) { startTwinConversation(shareToken: $t) { id } }`, map[string]any{"t": otherShare})
		mustOK(tok, `mutation($c: ID!, $t: String) { sendTwinMessage(conversationId: $c, text: "hi from the one who leaves", shareToken: $t) { reply { id } } }`,
			map[string]any{"c": dig(r.Data, "startTwinConversation", "id"), "t": otherShare})
		// An export archive on disk, and a second one requested.
		e.exportNow(tok)
		mustOK(tok, `mutation { requestDataExport { export { id } } }`, nil)
		e.app.Exports.RunPending(ctx, true)
		// Job logs naming the user: a token refresh that fails for them.
		e.clock.Advance(55 * time.Minute)
		f.FailNext(1, platformtest.FailInvalidGrant)
		mustOK(admin, `mutation { runCronJob(name: "token-refresh") { status } }`, nil)
		e.app.Twin.Shutdown(ctx) // let the replies finish before scanning

		var connIDs, convIDs, linkIDs, exportIDs []string
		_ = e.app.DB.NewSelect().Model((*store.Connection)(nil)).Column("id").Where("user_id = ?", u.ID).Scan(ctx, &connIDs)
		_ = e.app.DB.NewSelect().Model((*store.TwinConversation)(nil)).Column("id").Where("owner_user_id = ? OR viewer_user_id = ?", u.ID, u.ID).Scan(ctx, &convIDs)
		_ = e.app.DB.NewSelect().Model((*store.ShareLink)(nil)).Column("id").Where("user_id = ?", u.ID).Scan(ctx, &linkIDs)
		_ = e.app.DB.NewSelect().Model((*store.DataExport)(nil)).Column("id").Where("user_id = ?", u.ID).Scan(ctx, &exportIDs)
		needles := append([]string{u.ID, u.Email, strings.ToLower(u.Email)}, connIDs...)
		needles = append(append(append(needles, convIDs...), linkIDs...), exportIDs...)

		before := traces(t, e.app.DB, needles)
		for _, table := range []string{"users", "sessions", "api_tokens", "oauth_states", "platform_connections", "platform_sync_state",
			"user_platform_data", "soul_observer_events", "observer_settings", "insights", "soul_signatures", "privacy_settings",
			"share_links", "twin_conversations", "twin_messages", "cron_executions", "data_exports", "twin_access_log", "data_retention"} {
			if before[table] == 0 {
				t.Errorf("the test put nothing of the user in %s (traces: %v)", table, before)
			}
		}
		files, _ := os.ReadDir(e.app.Exports.Dir())
		if len(files) == 0 {
			t.Fatal("no export archive on disk before the deletion")
		}

		redisKeys := func() []string {
			if redisURL == "" {
				return nil
			}
			opts, err := redis.ParseURL(redisURL)
			if err != nil {
				t.Fatal(err)
			}
			c := redis.NewClient(opts)
			defer c.Close()
			keys, err := c.Keys(ctx, prefix+":*"+u.ID+"*").Result()
			if err != nil {
				t.Fatal(err)
			}
			return keys
		}
		if redisURL != "" && len(redisKeys()) == 0 {
			t.Error("no rate-limit key in Redis names the user before the deletion")
		}

		mustOK(tok, `mutation($c: String!) { deleteMyAccount(confirm: $c) }`, map[string]any{"c": u.Email})
		if keys := redisKeys(); len(keys) != 0 {
			t.Errorf("Redis keys left after deletion: %v", keys)
		}

		if after := traces(t, e.app.DB, needles); len(after) != 0 {
			t.Errorf("traces left after deletion: %v", after)
		}
		_ = filepath.WalkDir(e.app.Exports.Dir(), func(p string, de os.DirEntry, err error) error {
			if err == nil && !de.IsDir() {
				t.Errorf("file left in the export directory: %s", p)
			}
			return nil
		})
		// The other user and their data are untouched.
		if r := e.gql(otherTok, `{ me { email } shareLinks { id } }`, nil); !strings.Contains(r.Raw, other.Email) || strings.Count(r.Raw, `"id"`) != 1 {
			t.Fatalf("the other user: %s", r.Raw)
		}
	})
}
