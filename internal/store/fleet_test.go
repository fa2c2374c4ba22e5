package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// The maintained counts follow inserts, status changes and cascading
// deletes, survive compaction, and the snapshot adds the indexed figures.
func TestFleetAnalytics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0.Add(48 * time.Hour)
		ada := newUser(t, db, "ada@example.com")
		bob := newUser(t, db, "bob@example.com")
		late := &store.User{Email: "late@example.com", CreatedAt: now.Add(-time.Hour), UpdatedAt: now}
		storetest.Must(t, db.CreateUser(ctx, late))

		a1 := connect(t, db, ada.ID, "spotify", nil, "r")
		a2 := connect(t, db, ada.ID, "github", nil, "")
		b1 := connect(t, db, bob.ID, "spotify", nil, "r")
		connect(t, db, late.ID, "spotify", nil, "r") // never synced
		_, _, err := db.SetConnectionStatus(ctx, a2.ID, store.StatusChange{Status: store.StatusNeedsReauth, Error: "GitHub did not accept the authorization; connect GitHub again"}, now)
		storetest.Must(t, err)
		// Synced 1 h and 3 h ago.
		for id, ago := range map[string]time.Duration{a1.ID: time.Hour, b1.ID: 3 * time.Hour} {
			_, err := db.NewUpdate().TableExpr("platform_connections").Set("last_sync = ?", now.Add(-ago)).Where("id = ?", id).Exec(ctx)
			storetest.Must(t, err)
		}
		// Bob used the API 10 days ago, Ada signed in yesterday.
		storetest.Must(t, db.CreateAPIToken(ctx, &store.APIToken{UserID: bob.ID, Name: "t", TokenHash: "h1", Scopes: "FULL", CreatedAt: t0}))
		tokens, err := db.ListAPITokens(ctx, bob.ID)
		storetest.Must(t, err)
		storetest.Must(t, db.TouchAPIToken(ctx, tokens[0].ID, now.AddDate(0, 0, -10)))
		storetest.Must(t, db.CreateSession(ctx, &store.Session{UserID: ada.ID, TokenHash: "s1", CreatedAt: now.AddDate(0, 0, -1), LastUsedAt: now.AddDate(0, 0, -1), ExpiresAt: now.AddDate(0, 0, 29)}))
		for _, c := range []struct {
			name, label string
			n           int64
		}{
			{store.CounterRefresh, "spotify/refreshed", 5}, {store.CounterRefresh, "spotify/unknown", 1},
			{store.CounterLLMCalls, "anthropic/ok", 3}, {store.CounterLLMCalls, "anthropic/error", 1},
			{store.CounterObserver, "", 40}, {store.CounterImports, "spotify", 1}, {store.CounterImported, "spotify", 900},
		} {
			storetest.Must(t, db.BumpCounter(ctx, c.name, c.label, c.n, now.Add(-time.Hour)))
		}
		// Two days old: outside the 24 hours.
		storetest.Must(t, db.BumpCounter(ctx, store.CounterRefresh, "spotify/refreshed", 100, now.Add(-48*time.Hour)))

		check := func(when string) {
			t.Helper()
			s, err := db.FleetAnalytics(ctx, now, []string{"spotify", "github"})
			storetest.Must(t, err)
			conns := map[string]int64{}
			for _, c := range s.Connections {
				conns[c.Platform+"/"+string(c.Status)] = c.Count
			}
			if s.Users.Total != 3 || s.Users.Active7 != 1 || s.Users.Active30 != 2 ||
				conns["spotify/connected"] != 3 || conns["github/needs_reauth"] != 1 || len(conns) != 2 {
				t.Fatalf("%s: users %+v connections %v", when, s.Users, conns)
			}
			days := s.Users.NewPerDay
			if len(days) != 2 || days[0].Count != 2 || !days[0].Day.Equal(t0.Truncate(24*time.Hour)) ||
				days[1].Count != 1 || !days[1].Day.Equal(now.Truncate(24*time.Hour)) {
				t.Fatalf("%s: new per day %+v", when, s.Users.NewPerDay)
			}
			if len(s.Problems) != 1 || s.Problems[0].Platform != "github" || s.Problems[0].Count != 1 || s.Problems[0].Reason == "" {
				t.Fatalf("%s: problems %+v", when, s.Problems)
			}
			sp := s.Freshness[0]
			if sp.Platform != "spotify" || sp.Synced != 2 || sp.NeverSynced != 1 || sp.P50 == nil || *sp.P50 != time.Hour || *sp.P95 != time.Hour {
				t.Fatalf("%s: spotify freshness %+v", when, sp)
			}
			if s.Freshness[1].Synced != 0 || s.Freshness[1].P50 != nil {
				t.Fatalf("%s: github freshness %+v", when, s.Freshness[1])
			}
			out := map[string]int64{}
			for _, o := range s.RefreshOutcomes24h {
				out[o.Platform+"/"+o.Outcome] = o.Count
			}
			a := s.Activity24h
			if out["spotify/refreshed"] != 5 || out["spotify/unknown"] != 1 || a.LLMCalls != 4 || a.LLMErrors != 1 ||
				a.ObserverEvents != 40 || a.Imports != 1 || a.ImportedItems != 900 {
				t.Fatalf("%s: refresh %v activity %+v", when, out, a)
			}
		}
		check("before compaction")
		_, err = db.CompactFleetCounts(ctx)
		storetest.Must(t, err)
		var rows int
		storetest.Must(t, db.NewSelect().TableExpr("fleet_count_deltas").ColumnExpr("COUNT(*)").Scan(ctx, &rows))
		if rows != 3 { // users, spotify/connected, github/needs_reauth
			t.Fatalf("%d delta rows after compaction", rows)
		}
		check("after compaction")

		// Deleting a user removes its connections, and the counts follow.
		storetest.Must(t, db.DeleteUser(ctx, late.ID))
		c, err := db.FleetCounts(ctx)
		storetest.Must(t, err)
		if c["users"][""] != 2 || c["connections"]["spotify/connected"] != 2 {
			t.Fatalf("after deleting a user: %v", c)
		}
	})
}
