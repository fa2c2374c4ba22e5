package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/uptrace/bun/migrate"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func insight(key string, c privacy.Cluster, title string, sens int) privacy.Insight {
	return privacy.Insight{Key: key, Cluster: c, Title: title, Body: title + ".", Sensitivity: sens, Confidence: 0.8,
		Evidence: []privacy.Evidence{{Label: "plays", Value: "120", Weight: 1}}}
}

func TestSaveInsightsStoresOnlyNewOrChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		ins := []privacy.Insight{
			insight("music.chronotype", privacy.Creative, "Evening listener", 20),
			insight("coding.hours", privacy.Professional, "Codes in the morning", 10),
		}
		stored, deleted, err := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, ins, t0)
		storetest.Must(t, err)
		if len(stored) != 2 || deleted != 0 {
			t.Fatalf("first save: stored %d deleted %d, want 2 and 0", len(stored), deleted)
		}
		firstID := stored[0].ID

		stored, deleted, err = db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, ins, t0.Add(time.Hour))
		storetest.Must(t, err)
		if len(stored) != 0 || deleted != 0 {
			t.Fatalf("same insights again: stored %d deleted %d, want nothing", len(stored), deleted)
		}

		ins[0].Title = "Night owl listener"
		stored, _, err = db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, ins, t0.Add(2*time.Hour))
		storetest.Must(t, err)
		if len(stored) != 1 || stored[0].Key != "music.chronotype" || stored[0].ID != firstID {
			t.Fatalf("changed title: stored %+v, want the chronotype row updated in place", stored)
		}
		if !stored[0].CreatedAt.Equal(t0) {
			t.Fatalf("an update kept created_at %v, want %v", stored[0].CreatedAt, t0)
		}

		// An LLM narrative does not prune pattern insights, and a pattern
		// run without the coding insight removes it.
		_, _, err = db.SaveInsights(ctx, u.ID, store.InsightSourceLLM, []privacy.Insight{insight("summary.creative", privacy.Creative, "Summary", 20)}, t0)
		storetest.Must(t, err)
		_, deleted, err = db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, ins[:1], t0.Add(3*time.Hour))
		storetest.Must(t, err)
		if deleted != 1 {
			t.Fatalf("deleted %d, want the vanished coding insight", deleted)
		}
		all, err := db.AllInsights(ctx, u.ID)
		storetest.Must(t, err)
		var keys []string
		for _, in := range all {
			keys = append(keys, in.Key+"/"+in.Source)
		}
		if fmt.Sprint(keys) != "[music.chronotype/pattern summary.creative/llm]" {
			t.Fatalf("insights %v", keys)
		}
		got := all[0].PrivacyInsight()
		if got.Title != "Night owl listener" || len(got.Evidence) != 1 || got.Evidence[0].Value != "120" {
			t.Fatalf("read back %+v", got)
		}
	})
}

func TestSaveInsightsRejectsBadInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		for name, in := range map[string]privacy.Insight{
			"no key":          {Cluster: privacy.Personal, Title: "x"},
			"unknown cluster": {Key: "k", Cluster: "secret", Title: "x"},
			"sensitivity":     {Key: "k", Cluster: privacy.Personal, Title: "x", Sensitivity: 101},
		} {
			if _, _, err := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, []privacy.Insight{in}, t0); apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: err %v, want BAD_USER_INPUT", name, err)
			}
		}
	})
}

func TestListInsightsKeysetByCluster(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		other := newUser(t, db, "bob@example.com")
		for i := range 5 {
			_, _, err := db.SaveInsights(ctx, u.ID, store.InsightSourceLLM, nil, t0) // no-op, keeps the loop honest
			storetest.Must(t, err)
			var ins []privacy.Insight
			for j := 0; j <= i; j++ {
				c := privacy.Creative
				if j%2 == 1 {
					c = privacy.Professional
				}
				ins = append(ins, insight(fmt.Sprintf("k%d", j), c, fmt.Sprintf("t%d", j), 10))
			}
			_, _, err = db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, ins, t0.Add(time.Duration(i)*time.Minute))
			storetest.Must(t, err)
		}
		_, _, err := db.SaveInsights(ctx, other.ID, store.InsightSourcePattern, []privacy.Insight{insight("k0", privacy.Creative, "other", 10)}, t0)
		storetest.Must(t, err)

		var got []string
		var after *store.Cursor
		for {
			page, err := db.ListInsights(ctx, u.ID, string(privacy.Creative), after, 2)
			storetest.Must(t, err)
			for _, in := range page {
				got = append(got, in.Key)
			}
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = &store.Cursor{Time: last.CreatedAt, ID: last.ID}
		}
		if fmt.Sprint(got) != "[k4 k2 k0]" {
			t.Fatalf("creative insights newest first: %v", got)
		}
	})
}

// forceLevel stores a level the CHECK constraint refuses, as a row written
// by an older or broken release would be.
func forceLevel(t *testing.T, db *store.DB, userID string, c privacy.Cluster, level int) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	storetest.Must(t, err)
	defer conn.Close()
	if db.Dialect == store.SQLite {
		_, err = conn.ExecContext(ctx, "PRAGMA ignore_check_constraints = ON")
		storetest.Must(t, err)
		defer conn.ExecContext(ctx, "PRAGMA ignore_check_constraints = OFF") //nolint:errcheck
	} else {
		_, err = conn.ExecContext(ctx, "ALTER TABLE privacy_settings DROP CONSTRAINT IF EXISTS privacy_settings_level_check")
		storetest.Must(t, err)
	}
	_, err = conn.ExecContext(ctx, "UPDATE privacy_settings SET level = ? WHERE user_id = ? AND cluster = ? AND audience = ''",
		level, userID, string(c))
	storetest.Must(t, err)
}

func TestPrivacySettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		s, err := db.PrivacySettings(ctx, u.ID)
		storetest.Must(t, err)
		for _, a := range privacy.Audiences() {
			for _, ci := range privacy.Clusters() {
				if l, err := s.Level(ci.Cluster, a); err != nil || l != privacy.DefaultLevel {
					t.Fatalf("default level of %s for %s: %d, %v", ci.Cluster, a, l, err)
				}
			}
		}

		_, err = db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, "", 80, t0)
		storetest.Must(t, err)
		s, err = db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, privacy.AudienceProfessional, 0, t0)
		storetest.Must(t, err)
		if l, _ := s.Level(privacy.Personal, privacy.AudienceFriends); l != 80 {
			t.Errorf("friends see personal at %d, want the cluster level 80", l)
		}
		if l, _ := s.Level(privacy.Personal, privacy.AudienceProfessional); l != 0 {
			t.Errorf("professional sees personal at %d, want the override 0", l)
		}
		s, err = db.FollowPrivacyLevel(ctx, u.ID, privacy.Personal, privacy.AudienceProfessional, t0)
		storetest.Must(t, err)
		if l, _ := s.Level(privacy.Personal, privacy.AudienceProfessional); l != 80 {
			t.Errorf("after clearing the override professional sees %d, want 80", l)
		}
		if n := countPrivacyRows(t, db, u.ID); n != len(privacy.Clusters())*(1+len(privacy.Audiences())) {
			t.Errorf("%d rows after clearing an override, want every row kept", n)
		}
		if l, _ := s.Level(privacy.Personal, privacy.AudienceAssistant); l != 80 {
			t.Errorf("assistant sees personal at %d, want everyone's 80", l)
		}
		s, err = db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, privacy.AudienceEveryone, 10, t0)
		storetest.Must(t, err)
		if l, _ := s.Level(privacy.Personal, privacy.AudienceAssistant); l != 10 {
			t.Errorf("assistant sees personal at %d, want everyone's override 10", l)
		}
		if _, err := db.FollowPrivacyLevel(ctx, u.ID, privacy.Personal, "boss", t0); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("follow for an unknown audience: %v", err)
		}

		for name, call := range map[string]func() error{
			"level 101":        func() error { _, err := db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, "", 101, t0); return err },
			"level -1":         func() error { _, err := db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, "", -1, t0); return err },
			"unknown cluster":  func() error { _, err := db.SetPrivacyLevel(ctx, u.ID, "secrets", "", 10, t0); return err },
			"unknown audience": func() error { _, err := db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, "boss", 10, t0); return err },
		} {
			if err := call(); apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: err %v, want BAD_USER_INPUT", name, err)
			}
		}

		// A stored level out of range reaches the filter as it is, and
		// that cluster's level no longer resolves.
		v := newUser(t, db, "eve@example.com")
		forceLevel(t, db, v.ID, privacy.Creative, 150)
		s, err = db.PrivacySettings(ctx, v.ID)
		storetest.Must(t, err)
		if _, err := s.Level(privacy.Creative, privacy.AudienceEveryone); err == nil {
			t.Fatal("an out-of-range stored level resolved; the filter would not fail closed")
		}
		if l, err := s.Level(privacy.Personal, privacy.AudienceEveryone); err != nil || l != privacy.DefaultLevel {
			t.Fatalf("other clusters: %d, %v", l, err)
		}
	})
}

func TestShareLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		other := newUser(t, db, "bob@example.com")
		if _, _, err := db.CreateShareLink(ctx, u.ID, "boss", t0); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("unknown audience: %v", err)
		}
		token, l, err := db.CreateShareLink(ctx, u.ID, privacy.AudienceFriends, t0)
		storetest.Must(t, err)
		if l.TokenHash == token || l.TokenHash != store.HashShareToken(token) {
			t.Fatal("the stored hash is not the token's SHA-256")
		}
		got, err := db.ResolveShareLink(ctx, token, t0.Add(time.Minute))
		storetest.Must(t, err)
		if got.UserID != u.ID || got.Audience != string(privacy.AudienceFriends) || got.LastUsedAt == nil {
			t.Fatalf("resolved %+v", got)
		}
		if _, err := db.ResolveShareLink(ctx, token+"x", t0); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown token: %v", err)
		}
		if _, err := db.RevokeShareLink(ctx, other.ID, l.ID, t0); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoked by someone else: %v", err)
		}
		if _, err := db.ResolveShareLink(ctx, token, t0); err != nil {
			t.Fatalf("a failed revoke by another user broke the link: %v", err)
		}
		_, err = db.RevokeShareLink(ctx, u.ID, l.ID, t0.Add(time.Hour))
		storetest.Must(t, err)
		if _, err := db.ResolveShareLink(ctx, token, t0.Add(2*time.Hour)); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoked token: %v, want NOT_FOUND", err)
		}
		links, err := db.ListShareLinks(ctx, u.ID)
		storetest.Must(t, err)
		if len(links) != 1 || links[0].RevokedAt == nil {
			t.Fatalf("links %+v", links)
		}
	})
}

func TestSoulSignatureAndDueUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		idle := newUser(t, db, "idle@example.com")
		_ = idle
		due := func() []string {
			ids, err := db.UsersDueForAnalysis(ctx, 10)
			storetest.Must(t, err)
			return ids
		}
		if ids := due(); len(ids) != 0 {
			t.Fatalf("users without data are due: %v", ids)
		}
		if _, err := db.SoulSignature(ctx, u.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("no signature yet: %v", err)
		}
		_, err := store.UpsertPlatformData(ctx, db.DB, u.ID, "github", []store.PlatformItem{{DataType: "event", ExternalID: "1", OccurredAt: t0, Payload: []byte(`{"source":"api"}`)}}, t0)
		storetest.Must(t, err)
		if ids := due(); fmt.Sprint(ids) != fmt.Sprint([]string{u.ID}) {
			t.Fatalf("due %v, want the user with new data", ids)
		}
		sig := store.SoulSignature{UserID: u.ID, AnalyzedAt: t0.Add(time.Minute), Features: "{}", ContentHash: "h1", UpdatedAt: t0}
		changed, err := db.PutSoulSignature(ctx, sig)
		storetest.Must(t, err)
		if !changed {
			t.Fatal("a first signature is a change")
		}
		if ids := due(); len(ids) != 0 {
			t.Fatalf("due right after analysis: %v", ids)
		}
		if changed, _ = db.PutSoulSignature(ctx, sig); changed {
			t.Fatal("the same hash again reported a change")
		}
		_, err = db.InsertObserverEvents(ctx, u.ID, []store.NewObserverEvent{{ClientEventID: "e1", Type: "scroll", OccurredAt: t0}}, t0.Add(2*time.Minute))
		storetest.Must(t, err)
		if ids := due(); len(ids) != 1 {
			t.Fatalf("an observer event after the analysis makes the user due: %v", ids)
		}

		storetest.Must(t, db.SetOptInSimilar(ctx, u.ID, true, privacy.AudienceFriends, t0))
		storetest.Must(t, db.SetOptInSimilar(ctx, idle.ID, false, privacy.AudienceEveryone, t0))
		sig.ContentHash = "h2"
		_, err = db.PutSoulSignature(ctx, sig)
		storetest.Must(t, err)
		got, err := db.SoulSignature(ctx, u.ID)
		storetest.Must(t, err)
		if !got.OptInSimilar || got.ContentHash != "h2" {
			t.Fatalf("a new analysis dropped the opt-in or hash: %+v", got)
		}
		cands, err := db.OptedInCandidates(ctx, idle.ID, 10)
		storetest.Must(t, err)
		if len(cands) != 1 || cands[0].UserID != u.ID || cands[0].MatchAudience != "friends" || len(cands[0].Settings.Damaged) != 0 {
			t.Fatalf("opted-in candidates %+v", cands)
		}
		if l, err := cands[0].Settings.Level(privacy.Personal, privacy.AudienceFriends); err != nil || l != privacy.DefaultLevel {
			t.Fatalf("candidate settings: %d, %v", l, err)
		}
	})
}

func TestEachPlatformDataAndObserverEventStreamOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		other := newUser(t, db, "bob@example.com")
		var items []store.PlatformItem
		for i := range 5 {
			at := t0.Add(-time.Duration(i) * time.Hour) // stored newest first
			items = append(items, store.PlatformItem{DataType: "play", ExternalID: fmt.Sprint(i), OccurredAt: at, Payload: []byte(fmt.Sprintf(`{"n":%d}`, i))})
		}
		items = append(items, store.PlatformItem{DataType: "top_artist", ExternalID: "x", OccurredAt: t0, Payload: []byte(`{"n":99}`)})
		_, err := store.UpsertPlatformData(ctx, db.DB, u.ID, "spotify", items, t0)
		storetest.Must(t, err)
		_, err = store.UpsertPlatformData(ctx, db.DB, other.ID, "spotify", items[:1], t0)
		storetest.Must(t, err)
		var got []string
		storetest.Must(t, db.EachPlatformData(ctx, u.ID, "spotify", "play", func(r store.DataRow) error {
			got = append(got, r.OccurredAt.UTC().Format("15")+string(r.Payload))
			return nil
		}))
		if fmt.Sprint(got) != `[08{"n":4} 09{"n":3} 10{"n":2} 11{"n":1} 12{"n":0}]` {
			t.Fatalf("streamed %v", got)
		}

		_, err = db.InsertObserverEvents(ctx, u.ID, []store.NewObserverEvent{
			{ClientEventID: "b", Type: "scroll", OccurredAt: t0, Domain: "b.example", Data: []byte(`{"depth_pct":50}`)},
			{ClientEventID: "a", Type: "typing", OccurredAt: t0.Add(-time.Minute), Domain: "a.example"},
		}, t0)
		storetest.Must(t, err)
		got = nil
		storetest.Must(t, db.EachObserverEvent(ctx, u.ID, func(r store.EventRow) error {
			got = append(got, r.Type+"@"+r.Domain+string(r.Data))
			return nil
		}))
		if fmt.Sprint(got) != `[typing@a.example{} scroll@b.example{"depth_pct":50}]` {
			t.Fatalf("streamed %v", got)
		}
	})
}

// Evidence is parsed once, when the row is read, and the parsed copy goes
// with the row; a caller changing what it got changes neither the row nor
// the next caller's copy, and a row whose text changed is parsed again.
func TestInsightEvidenceParsedWithTheRow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		in := insight("music.rhythm", privacy.Personal, "Night owl", 10)
		in.Evidence = []privacy.Evidence{{Label: "late plays", Value: "62%", Weight: 0.9}, {Label: "weekends", Value: "x", Weight: 0.2}}
		_, _, err := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, []privacy.Insight{in}, t0)
		storetest.Must(t, err)
		rows, err := db.ListInsights(ctx, u.ID, "", nil, 10)
		storetest.Must(t, err)
		if len(rows) != 1 {
			t.Fatalf("%d rows", len(rows))
		}
		r := &rows[0]
		if ev := r.DecodedEvidence(); len(ev) != 2 || ev[0].Label != "late plays" {
			t.Fatalf("decoded evidence = %+v", ev)
		}
		p := r.PrivacyInsight()
		p.Evidence[0].Label = "changed by a caller"
		if r.DecodedEvidence()[0].Label != "late plays" || r.PrivacyInsight().Evidence[0].Label != "late plays" {
			t.Fatal("a caller's change reached the row's parsed evidence")
		}
		r.Evidence = `[{"label":"rewritten","value":"1","weight":1}]`
		if ev := r.DecodedEvidence(); len(ev) != 1 || ev[0].Label != "rewritten" {
			t.Fatalf("stale parse after the text changed: %+v", ev)
		}
		r.Evidence = `not json`
		if ev := r.DecodedEvidence(); ev != nil {
			t.Fatalf("malformed evidence parsed as %+v, want none", ev)
		}
	})
}

func countPrivacyRows(t *testing.T, db *store.DB, userID string) int {
	t.Helper()
	n, err := db.NewSelect().Model((*store.PrivacySetting)(nil)).Where("user_id = ?", userID).Count(context.Background())
	storetest.Must(t, err)
	return int(n)
}

// Every way a stored setting can be damaged makes its cluster reveal
// nothing to any audience, and only that cluster (issue 9, leak 4: a
// deleted DATING override of PERSONAL = 0 fell back to the cluster level).
func TestPrivacySettingsFailClosed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			_, err := db.ExecContext(ctx, q, args...)
			storetest.Must(t, err)
		}
		tests := []struct {
			name    string
			breakIt func(userID string)
		}{
			{"deleted override", func(id string) {
				exec("DELETE FROM privacy_settings WHERE user_id = ? AND cluster = 'personal' AND audience = 'dating'", id)
			}},
			{"deleted cluster row", func(id string) {
				exec("DELETE FROM privacy_settings WHERE user_id = ? AND cluster = 'personal' AND audience = ''", id)
			}},
			{"misspelled audience", func(id string) {
				exec("UPDATE privacy_settings SET audience = 'datng' WHERE user_id = ? AND cluster = 'personal' AND audience = 'dating'", id)
			}},
			{"misspelled cluster", func(id string) {
				exec("UPDATE privacy_settings SET cluster = 'persnal' WHERE user_id = ? AND cluster = 'personal' AND audience = 'dating'", id)
			}},
			{"cluster row marked as following", func(id string) {
				exec("UPDATE privacy_settings SET follows = TRUE WHERE user_id = ? AND cluster = 'personal' AND audience = ''", id)
			}},
			{"out of range", func(id string) { forceLevel(t, db, id, privacy.Personal, 150) }},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				u := newUser(t, db, fmt.Sprintf("u%d@example.com", i))
				_, err := db.SetPrivacyLevel(ctx, u.ID, privacy.Personal, privacy.AudienceDating, 0, t0)
				storetest.Must(t, err)
				tt.breakIt(u.ID)
				s, err := db.PrivacySettings(ctx, u.ID)
				storetest.Must(t, err)
				if _, bad := s.Damaged[privacy.Personal]; !bad {
					t.Fatalf("personal not marked damaged: %+v", s)
				}
				for _, a := range privacy.Audiences() {
					if l, err := s.Level(privacy.Personal, a); err == nil {
						t.Errorf("%s sees damaged personal at %d", a, l)
					}
					if l, err := s.Level(privacy.Creative, a); err != nil || l != privacy.DefaultLevel {
						t.Errorf("%s sees creative at %d, %v; other clusters must be unaffected", a, l, err)
					}
				}
			})
		}
	})
}

// Setting a cluster's own slider clears rows naming audiences that do not
// exist; the missing audience rows stay missing (the owner sets them).
func TestSetClusterLevelRepairsUnknownAudiences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		_, err := db.ExecContext(ctx, "INSERT INTO privacy_settings (user_id, cluster, audience, level, follows, updated_at) VALUES (?, 'creative', 'boss', 10, FALSE, ?)", u.ID, t0)
		storetest.Must(t, err)
		s, err := db.PrivacySettings(ctx, u.ID)
		storetest.Must(t, err)
		if _, bad := s.Damaged[privacy.Creative]; !bad {
			t.Fatal("an unknown audience row did not damage its cluster")
		}
		s, err = db.SetPrivacyLevel(ctx, u.ID, privacy.Creative, "", 70, t0)
		storetest.Must(t, err)
		if l, err := s.Level(privacy.Creative, privacy.AudienceFriends); err != nil || l != 70 {
			t.Fatalf("after repair friends see creative at %d, %v", l, err)
		}
	})
}

// The privacy migration gives users created before it every row, with
// what a missing row meant until then (50, following), keeping what they
// had set.
func TestMigrationFillsPrivacyRowsOfExistingUsers(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, err := store.Open(ctx, storetest.URL(t, d), "")
			storetest.Must(t, err)
			t.Cleanup(func() { _ = db.Close() })
			all, err := store.Migrations(d)
			storetest.Must(t, err)
			before := migrate.NewMigrations()
			for _, m := range all.Sorted() {
				if m.Name < "20261130090001" {
					before.Add(m)
				}
			}
			old := migrate.NewMigrator(db.DB, before, migrate.WithMarkAppliedOnSuccess(true))
			storetest.Must(t, old.Init(ctx))
			_, err = old.Migrate(ctx)
			storetest.Must(t, err)
			_, err = db.ExecContext(ctx, "INSERT INTO users (id, email, name, role, created_at, updated_at) VALUES ('u1', 'old@example.com', '', 'user', ?, ?)", t0, t0)
			storetest.Must(t, err)
			_, err = db.ExecContext(ctx, "INSERT INTO privacy_settings (user_id, cluster, audience, level, updated_at) VALUES ('u1', 'personal', 'dating', 0, ?), ('u1', 'creative', '', 90, ?)", t0, t0)
			storetest.Must(t, err)

			applied, err := db.Migrate(ctx)
			storetest.Must(t, err)
			if len(applied) == 0 {
				t.Fatal("nothing left to migrate")
			}
			s, err := db.PrivacySettings(ctx, "u1")
			storetest.Must(t, err)
			if len(s.Damaged) != 0 {
				t.Fatalf("migrated settings damaged: %v", s.Damaged)
			}
			for _, tt := range []struct {
				c    privacy.Cluster
				a    privacy.Audience
				want int
			}{
				{privacy.Personal, privacy.AudienceDating, 0},
				{privacy.Personal, privacy.AudienceFriends, 50},
				{privacy.Creative, privacy.AudienceEveryone, 90},
				{privacy.Creative, privacy.AudienceAssistant, 90},
				{privacy.Professional, privacy.AudienceAssistant, 50},
			} {
				if l, err := s.Level(tt.c, tt.a); err != nil || l != tt.want {
					t.Errorf("%s for %s: %d, %v; want %d", tt.c, tt.a, l, err, tt.want)
				}
			}
		})
	}
}

func TestInsightAlsoClustersRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		in := insight("correlation.a.b", privacy.Personal, "Coding goes with late listening", 60)
		in.Also = []privacy.Cluster{privacy.Professional, privacy.Creative}
		_, _, err := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, []privacy.Insight{in}, t0)
		storetest.Must(t, err)
		rows, err := db.AllInsights(ctx, u.ID)
		storetest.Must(t, err)
		if got := rows[0].PrivacyInsight().Also; fmt.Sprint(got) != "[professional creative]" {
			t.Fatalf("also clusters read back as %v", got)
		}
		if stored, _, _ := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, []privacy.Insight{in}, t0); len(stored) != 0 {
			t.Fatal("an unchanged insight with also clusters was rewritten")
		}
	})
}
