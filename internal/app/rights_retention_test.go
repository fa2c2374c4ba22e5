package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/store"
)

// TestRetentionYouChoose: setRetention keeps raw items of a platform (and
// browser events) only as long as the person chose; the maintenance job
// deletes older ones, the insights stay until the next analysis, and the
// signature says what window it was computed from.
func TestRetentionYouChoose(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		e := newEnv(t, d, nil)
		res, err := demo.SeedUser(ctx, demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Logger: logx.Discard(), Every: 40}, "keep@example.com")
		if err != nil {
			t.Fatal(err)
		}
		tok := res.Token
		_, admin := e.user("admin@example.com", true)

		for _, bad := range []string{
			`mutation { setRetention(platform: SPOTIFY, days: 0) { days } }`,
			`mutation { setRetention(platform: SPOTIFY, days: 99999) { days } }`,
		} {
			if r := e.gql(tok, bad, nil); r.code() != "BAD_USER_INPUT" {
				t.Fatalf("%s: %s", bad, r.Raw)
			}
		}
		r := e.gql(tok, `{ retention { platform days defaultDays } soulSignature { dataWindow { from to } } }`, nil)
		if !strings.Contains(r.Raw, `{"platform":"SPOTIFY","days":null,"defaultDays":null}`) || !strings.Contains(r.Raw, `{"platform":null,"days":null,"defaultDays":30}`) {
			t.Fatalf("default retention: %s", r.Raw)
		}
		from0, _ := dig(r.Data, "soulSignature", "dataWindow", "from").(string)
		if from0 == "" {
			t.Fatalf("signature without its data window: %s", r.Raw)
		}
		if r := e.gql(tok, `mutation { setRetention(platform: SPOTIFY, days: 30) { platform days } }`, nil); !strings.Contains(r.Raw, `{"platform":"SPOTIFY","days":30}`) {
			t.Fatalf("setRetention: %s", r.Raw)
		}
		if r := e.gql(tok, `mutation { setRetention(days: 7) { platform days } }`, nil); !strings.Contains(r.Raw, `{"platform":null,"days":7}`) {
			t.Fatalf("setRetention observer: %s", r.Raw)
		}
		count := func(table, where string, args ...any) int {
			n, err := e.app.DB.NewSelect().TableExpr(table).Where(where, args...).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return int(n)
		}
		cut := e.clock.Now().Add(-30 * 24 * time.Hour)
		oldSpotify := count("user_platform_data", "user_id = ? AND platform = 'spotify' AND occurred_at < ?", res.UserID, cut)
		newSpotify := count("user_platform_data", "user_id = ? AND platform = 'spotify' AND occurred_at >= ?", res.UserID, cut)
		youtube := count("user_platform_data", "user_id = ? AND platform = 'youtube'", res.UserID)
		insights := count("insights", "user_id = ?", res.UserID)
		if oldSpotify == 0 || newSpotify == 0 || youtube == 0 {
			t.Fatalf("the demo year has no Spotify plays on both sides of 30 days (%d/%d)", oldSpotify, newSpotify)
		}
		// Another user's identical data is not touched by this choice.
		otherRes, err := demo.SeedUser(ctx, demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Logger: logx.Discard(), Every: 40}, "other2@example.com")
		if err != nil {
			t.Fatal(err)
		}
		otherSpotify := count("user_platform_data", "user_id = ? AND platform = 'spotify'", otherRes.UserID)

		if r := e.gql(admin, `mutation { runCronJob(name: "maintenance") { status resultData } }`, nil); !strings.Contains(r.Raw, `"status":"SUCCESS"`) {
			t.Fatalf("maintenance: %s", r.Raw)
		}
		if n := count("user_platform_data", "user_id = ? AND platform = 'spotify' AND occurred_at < ?", res.UserID, cut); n != 0 {
			t.Fatalf("%d Spotify items older than 30 days remain", n)
		}
		if n := count("user_platform_data", "user_id = ? AND platform = 'spotify'", res.UserID); n != newSpotify {
			t.Fatalf("recent Spotify items: %d, want %d", n, newSpotify)
		}
		if n := count("user_platform_data", "user_id = ? AND platform = 'youtube'", res.UserID); n != youtube {
			t.Fatalf("YouTube items changed without a choice: %d → %d", youtube, n)
		}
		if n := count("soul_observer_events", "user_id = ? AND occurred_at < ?", res.UserID, e.clock.Now().Add(-7*24*time.Hour)); n != 0 {
			t.Fatalf("%d browser events older than 7 days remain", n)
		}
		if n := count("user_platform_data", "user_id = ? AND platform = 'spotify'", otherRes.UserID); n != otherSpotify {
			t.Fatalf("another user's items were deleted: %d → %d", otherSpotify, n)
		}
		if n := count("insights", "user_id = ?", res.UserID); n != insights {
			t.Fatalf("insights changed before the next analysis: %d → %d", insights, n)
		}
		// With every source kept 30 days at most, the next analysis reads
		// only the last 30 days, and the signature says so.
		for _, p := range []string{"YOUTUBE", "GITHUB", "DISCORD", "GMAIL", "LINKEDIN", "SLACK"} {
			e.gql(tok, `mutation($p: Platform) { setRetention(platform: $p, days: 30) { days } }`, map[string]any{"p": p})
		}
		e.gql(admin, `mutation { runCronJob(name: "maintenance") { status } }`, nil)
		e.gql(tok, `mutation { requestAnalysis { insightsStored } }`, nil)
		r = e.gql(tok, `{ soulSignature { dataWindow { from to } } }`, nil)
		from1, _ := dig(r.Data, "soulSignature", "dataWindow", "from").(string)
		if from1 == "" || from1 <= from0 || from1 < cut.Format(time.RFC3339) {
			t.Fatalf("window after retention: %s (before: from %s; cut %s)", r.Raw, from0, cut)
		}
		// An audience never sees the window.
		r = e.gql(tok, `{ soulSignature(audience: EVERYONE) { dataWindow { from } } }`, nil)
		if !strings.Contains(r.Raw, `"dataWindow":null`) {
			t.Fatalf("audience view shows the window: %s", r.Raw)
		}
		// null restores the default.
		if r := e.gql(tok, `mutation { setRetention(platform: SPOTIFY, days: null) { days defaultDays } }`, nil); !strings.Contains(r.Raw, `{"days":null,"defaultDays":null}`) {
			t.Fatalf("reset: %s", r.Raw)
		}
	})
}
