package soul_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// seedUser stores plays (importer), top artists and GitHub data (stream
// payload shapes) and browser events (observer service) for a new user.
func seedUser(t *testing.T, e *env, email string) string {
	t.Helper()
	id := e.user(t, email)
	if res := e.importPlays(t, id, 120, 0); res.Imported != 120 {
		t.Fatalf("imported %d plays, want 120: %+v", res.Imported, res)
	}
	e.topArtists(t, id)
	e.gitHub(t, id, 60)
	e.observe(t, id, 40)
	return id
}

func TestLoadDecodesStoredPayloads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		in, err := e.soul.Load(context.Background(), id)
		storetest.Must(t, err)
		if len(in.Plays) != 120 || len(in.CodeEvents) != 60 || len(in.Repos) != 2 || len(in.Observer) != 40 {
			t.Fatalf("loaded %d plays, %d events, %d repos, %d observer events", len(in.Plays), len(in.CodeEvents), len(in.Repos), len(in.Observer))
		}
		skipped := 0
		for _, p := range in.Plays {
			if p.Skipped == nil || p.ReasonEnd == "" {
				t.Fatalf("a play from the extended history lost its skip data: %+v", p)
			}
			if *p.Skipped {
				skipped++
				if p.ReasonEnd != "fwdbtn" {
					t.Fatalf("skipped play ended %q", p.ReasonEnd)
				}
			}
			if len(p.Genres) == 0 {
				t.Fatalf("play of %s has no genres from the top-artists snapshot", p.Artist)
			}
		}
		if skipped != 24 {
			t.Errorf("%d skipped plays, want 24", skipped)
		}
		if !slices.IsSortedFunc(in.Plays, func(a, b analysis.Play) int { return a.At.Compare(b.At) }) {
			t.Error("plays are not oldest first")
		}
		for _, ev := range in.CodeEvents {
			want := map[string]string{"ada/engine": "Go", "ada/site": "TypeScript"}[ev.Repo]
			if ev.Language != want {
				t.Fatalf("event in %s has language %q, want %q", ev.Repo, ev.Language, want)
			}
		}
		for _, o := range in.Observer {
			if o.Domain != "github.com" {
				t.Fatalf("observer domain %q", o.Domain)
			}
			if o.Type == analysis.EventScroll && o.Data["speed"] != 900 {
				t.Fatalf("scroll speed not read from speed_px_s: %v", o.Data)
			}
		}
	})
}

func TestAnalyzeStoresAndPublishesOnlyNewInsights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		added := e.collect(t, events.InsightAdded, id)
		updated := e.collect(t, events.SoulSignatureUpdated, id)

		res, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if res.InsightsStored == 0 || !res.SignatureChanged {
			t.Fatalf("first analysis: %+v", res)
		}
		evs := added()
		if len(evs) != res.InsightsStored {
			t.Fatalf("%d insightAdded events for %d stored insights", len(evs), res.InsightsStored)
		}
		keys := map[string]bool{}
		for _, ev := range evs {
			var p soul.InsightAddedPayload
			storetest.Must(t, json.Unmarshal(ev.Payload, &p))
			in, err := e.soul.Insight(ctx, id, p.ID)
			if err != nil {
				t.Fatalf("event names insight %s that cannot be read: %v", p.ID, err)
			}
			if in.Key != p.Key || string(in.Cluster) != ev.Key || len(ev.Payload) > 200 {
				t.Fatalf("event %+v for insight %+v", ev, in)
			}
			keys[strings.SplitN(in.Key, ".", 2)[0]] = true
		}
		for _, want := range []string{"music", "coding"} {
			if !keys[want] {
				t.Errorf("no %s insight among %v", want, keys)
			}
		}
		if n := len(updated()); n != 1 {
			t.Fatalf("%d soulSignatureUpdated events, want 1", n)
		}

		again, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if again.InsightsStored != 0 || again.InsightsDeleted != 0 || again.SignatureChanged {
			t.Fatalf("re-analysis of unchanged data: %+v", again)
		}
		if n, m := len(added()), len(updated()); n+m != 0 {
			t.Fatalf("re-analysis published %d insightAdded and %d soulSignatureUpdated", n, m)
		}

		// A later import of more plays changes music insights only.
		e.importPlays(t, id, 60, 120)
		res, err = e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		evs = added()
		if res.InsightsStored == 0 || len(evs) != res.InsightsStored {
			t.Fatalf("after new plays: %+v, %d events", res, len(evs))
		}
	})
}

func TestRunDueAnalysesUsersWithNewData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		a := seedUser(t, e, "ada@example.com")
		b := e.user(t, "bob@example.com")
		e.gitHub(t, b, 40)
		e.user(t, "idle@example.com")

		r, err := e.soul.RunDue(ctx)
		storetest.Must(t, err)
		if r.UsersAnalyzed != 2 || r.UsersFailed != 0 || r.InsightsStored == 0 {
			t.Fatalf("first run: %+v, want ada and bob analysed", r)
		}
		r, err = e.soul.RunDue(ctx)
		storetest.Must(t, err)
		if r.UsersDue != 0 {
			t.Fatalf("second run without new data: %+v", r)
		}
		e.clock.Advance(time.Hour)
		e.observe(t, a, 2)
		r, err = e.soul.RunDue(ctx)
		storetest.Must(t, err)
		if r.UsersAnalyzed != 1 {
			t.Fatalf("after ada's new events: %+v", r)
		}
	})
}

func TestSignatureForOthersIsExactlyTheRevealedView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		owner := seedUser(t, e, "ada@example.com")
		viewer := e.user(t, "bob@example.com")
		_, err := e.soul.Analyze(ctx, owner)
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, owner, "CREATIVE", 100, "")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, owner, "professional", 0, "dating")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, owner, "professional", 20, "")
		storetest.Must(t, err)

		own, err := e.soul.Signature(ctx, owner, owner, privacy.AudienceDating)
		storetest.Must(t, err)
		if !own.Owner || own.Empty() || len(own.View.Traits) == 0 || clusterOf(own.View, privacy.Professional) == 0 {
			t.Fatalf("owner view %+v", own)
		}
		settings, err := e.soul.PrivacySettings(ctx, owner)
		storetest.Must(t, err)
		for _, a := range privacy.Audiences() {
			got, err := e.soul.Signature(ctx, viewer, owner, a)
			storetest.Must(t, err)
			want := privacy.Reveal(own.View, settings, a)
			if !reflect.DeepEqual(got.View.Insights, want.Insights) {
				t.Fatalf("%s: insights differ from privacy.Reveal of the owner's", a)
			}
			// Summaries quote revealed insights only; traits draw only on
			// clusters the audience sees at the traits' sensitivity.
			shown := map[string]bool{}
			for _, in := range got.View.Insights {
				shown[in.Key] = true
			}
			for _, sum := range got.View.Summaries {
				for _, ev := range sum.Evidence {
					if !shown[ev.Value] {
						t.Fatalf("%s: summary %q quotes %s, not revealed", a, sum.Text, ev.Value)
					}
				}
			}
			lens := settings.Lens(a)
			for _, tr := range got.View.Traits {
				for _, ev := range tr.Evidence {
					if _, ok := lens.Visible(ev.Cluster, analysis.DerivedSensitivity); !ok {
						t.Fatalf("%s: trait %s draws on %s", a, tr.Name, ev.Cluster)
					}
				}
			}
			if got.Owner || got.Completeness != nil {
				t.Fatalf("%s: a visitor got owner-only fields", a)
			}
		}
		dating, _ := e.soul.Signature(ctx, viewer, owner, privacy.AudienceDating)
		if clusterOf(dating.View, privacy.Professional) != 0 {
			t.Fatal("dating sees the professional cluster set to 0 for it")
		}
		if _, err := e.soul.Signature(ctx, viewer, owner, "boss"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("unknown audience: %v", err)
		}
		for name, call := range map[string]func() error{
			"level 101":        func() error { _, err := e.soul.SetClusterPrivacy(ctx, owner, "personal", 101, ""); return err },
			"unknown cluster":  func() error { _, err := e.soul.SetClusterPrivacy(ctx, owner, "secret", 10, ""); return err },
			"unknown audience": func() error { _, err := e.soul.SetClusterPrivacy(ctx, owner, "personal", 10, "boss"); return err },
		} {
			if err := call(); apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
			}
		}
	})
}

func TestSignatureFailsClosedOnAnInvalidStoredLevel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		owner := seedUser(t, e, "ada@example.com")
		_, err := e.soul.Analyze(ctx, owner)
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, owner, "professional", 100, "")
		storetest.Must(t, err)
		before, err := e.soul.Signature(ctx, "", owner, privacy.AudienceEveryone)
		storetest.Must(t, err)
		if clusterOf(before.View, privacy.Professional) == 0 {
			t.Fatal("professional insights hidden at level 100; the test would prove nothing")
		}
		corruptLevel(t, db, owner, privacy.Professional, 150)
		after, err := e.soul.Signature(ctx, "", owner, privacy.AudienceEveryone)
		storetest.Must(t, err)
		if n := clusterOf(after.View, privacy.Professional); n != 0 {
			t.Fatalf("%d professional insights shown under an invalid stored level", n)
		}
		for _, s := range after.View.Summaries {
			if s.Cluster == privacy.Professional {
				t.Fatal("professional summary shown under an invalid stored level")
			}
		}
		own, _ := e.soul.Signature(ctx, owner, owner, "")
		if clusterOf(own.View, privacy.Professional) == 0 {
			t.Fatal("the owner lost their own professional insights")
		}
	})
}

// corruptLevel writes a level the CHECK constraint refuses, as a broken
// release or hand edit could leave behind.
func corruptLevel(t *testing.T, db *store.DB, userID string, c privacy.Cluster, level int) {
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
	_, err = conn.ExecContext(ctx, "UPDATE privacy_settings SET level = ? WHERE user_id = ? AND cluster = ? AND audience = ''", level, userID, string(c))
	storetest.Must(t, err)
}

func TestShareLinks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		owner := seedUser(t, e, "ada@example.com")
		_, err := e.soul.Analyze(ctx, owner)
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, owner, "creative", 0, "professional")
		storetest.Must(t, err)
		if _, _, err := e.soul.CreateShareLink(ctx, owner, "boss"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("unknown audience: %v", err)
		}
		token, link, err := e.soul.CreateShareLink(ctx, owner, "PROFESSIONAL")
		storetest.Must(t, err)
		got, err := e.soul.SharedSignature(ctx, token)
		storetest.Must(t, err)
		want, err := e.soul.Signature(ctx, "", owner, privacy.AudienceProfessional)
		storetest.Must(t, err)
		if !reflect.DeepEqual(got.View, want.View) || got.Audience != privacy.AudienceProfessional {
			t.Fatal("a share link shows something other than its audience's view")
		}
		if clusterOf(got.View, privacy.Creative) != 0 {
			t.Fatal("a professional link shows the creative cluster hidden from professionals")
		}
		if _, err := e.soul.RevokeShareLink(ctx, "someone-else", link.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoke by another user: %v", err)
		}
		_, err = e.soul.RevokeShareLink(ctx, owner, link.ID)
		storetest.Must(t, err)
		if _, err := e.soul.SharedSignature(ctx, token); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("revoked link: %v, want NOT_FOUND", err)
		}
		if _, err := e.soul.SharedSignature(ctx, "tms_unknown"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown link: %v, want NOT_FOUND", err)
		}
	})
}

func TestEmptyUserGetsAnEmptySignatureNamingWhatIsMissing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := e.user(t, "new@example.com")
		check := func(when string, wantAnalyzed bool) {
			v, err := e.soul.Signature(ctx, id, id, "")
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			if !v.Empty() || v.Analyzed != wantAnalyzed {
				t.Fatalf("%s: %+v, want an empty signature (analyzed %v)", when, v.View, wantAnalyzed)
			}
			want := []string{"spotify", "youtube", "discord", "extension", "github", "gmail", "linkedin"}
			if !reflect.DeepEqual(v.Missing, want) {
				t.Fatalf("%s: missing %v, want %v", when, v.Missing, want)
			}
			for _, c := range v.Completeness {
				if c.Score != 0 || len(c.Missing) == 0 || c.Sources[0].Hint == "" {
					t.Fatalf("%s: completeness %+v", when, c)
				}
			}
		}
		check("before analysis", false)
		res, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if res.InsightsStored != 0 {
			t.Fatalf("insights from no data: %+v", res)
		}
		check("after analysis", true)
		other, err := e.soul.Signature(ctx, "", id, privacy.AudienceIntimate)
		storetest.Must(t, err)
		if !other.Empty() {
			t.Fatalf("a visitor sees %+v of a user with no data", other.View)
		}
	})
}

func TestNarrativesFromTheAssistantViewOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := llmtest.NewServer(t, "")
		fake.Respond(llmtest.Text("You keep a steady", " rhythm."))
		model, remote := llm.ModelFor(llm.AnthropicConfig{APIKey: llmtest.Key, BaseURL: fake.URL})
		if !remote {
			t.Fatal("no remote model with a key")
		}
		e := newEnv(t, db, model)
		id := seedUser(t, e, "ada@example.com")
		_, err := e.soul.SetClusterPrivacy(ctx, id, "creative", 0, "everyone")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "personal", 100, "")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "professional", 100, "")
		storetest.Must(t, err)
		added := e.collect(t, events.InsightAdded, id)

		res, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if res.Narratives == 0 || res.LLMErrors != 0 {
			t.Fatalf("run %+v, want narratives", res)
		}
		own, _ := e.soul.Signature(ctx, id, id, "")
		var creative []string
		var narratives int
		for _, in := range own.View.Insights {
			if in.Source == llm.SourceLLM {
				narratives++
				if in.Cluster == privacy.Creative || in.Body != "You keep a steady rhythm." {
					t.Fatalf("narrative %+v", in)
				}
			} else if in.Cluster == privacy.Creative {
				creative = append(creative, in.Title)
			}
		}
		if narratives != res.Narratives || len(added()) != res.InsightsStored {
			t.Fatalf("%d narratives stored, %d reported", narratives, res.Narratives)
		}
		if len(creative) == 0 {
			t.Fatal("no creative insights; the test would prove nothing")
		}
		for _, r := range fake.Requests() {
			for _, title := range creative {
				if strings.Contains(string(r.Body), title) {
					t.Fatalf("the model was sent %q, hidden from everyone", title)
				}
			}
		}

		// Nothing new: the view the model would narrate is unchanged, so
		// it is not called again.
		calls := len(fake.Requests())
		again, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if n := len(fake.Requests()); n != calls || again.Narratives != 0 {
			t.Fatalf("re-analysis of unchanged data called the model %d more times (%+v)", n-calls, again)
		}

		// A failing model costs the narratives whose input changed, not
		// the run.
		fake.Respond(llmtest.Overloaded())
		e.importPlays(t, id, 30, 500)
		res, err = e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		if res.LLMErrors != 1 {
			t.Fatalf("run with a failing model: %+v", res)
		}
		own2, _ := e.soul.Signature(ctx, id, id, "")
		var left []privacy.Cluster
		for _, in := range own2.View.Insights {
			if in.Source == llm.SourceLLM {
				left = append(left, in.Cluster)
			}
		}
		// New plays changed the personal cluster (listening hours), not
		// the professional one.
		if !slices.Contains(left, privacy.Professional) || slices.Contains(left, privacy.Personal) {
			t.Fatalf("after a failed call narratives of %v remain; want the unchanged professional one only", left)
		}
	})
}

func TestSimilarTwinsOnlyBetweenOptedInUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		a := seedUser(t, e, "ada@example.com")
		b := seedUser(t, e, "bea@example.com")
		c := seedUser(t, e, "cy@example.com")
		for _, id := range []string{a, b, c} {
			_, err := e.soul.Analyze(ctx, id)
			storetest.Must(t, err)
		}
		if _, err := e.soul.SimilarTwins(ctx, a, 5); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("before opting in: %v, want FORBIDDEN", err)
		}
		storetest.Must(t, e.soul.SetSimilarTwinsOptIn(ctx, a, true, ""))
		storetest.Must(t, e.soul.SetSimilarTwinsOptIn(ctx, b, true, ""))
		got, err := e.soul.SimilarTwins(ctx, a, 5)
		storetest.Must(t, err)
		if len(got) != 1 || got[0].UserID != b || got[0].Score < 0.99 {
			t.Fatalf("twins %+v, want only bea (same data, similarity 1)", got)
		}
		// Opting in survives re-analysis.
		e.importPlays(t, b, 10, 900)
		_, err = e.soul.Analyze(ctx, b)
		storetest.Must(t, err)
		if got, _ := e.soul.SimilarTwins(ctx, b, 5); len(got) != 1 || got[0].UserID != a {
			t.Fatalf("after re-analysis: %+v", got)
		}
	})
}

func TestInsightsPaging(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		_, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		all, err := db.AllInsights(ctx, id)
		storetest.Must(t, err)
		want := 0
		for _, in := range all {
			if in.Cluster == string(privacy.Professional) {
				want++
			}
		}
		seen := map[string]bool{}
		after := ""
		two := 2
		for {
			page, err := e.soul.Insights(ctx, id, "PROFESSIONAL", &two, after)
			storetest.Must(t, err)
			for _, in := range page.Items {
				if in.Cluster != privacy.Professional || seen[in.ID] {
					t.Fatalf("page holds %s insight %s (seen %v)", in.Cluster, in.Key, seen[in.ID])
				}
				seen[in.ID] = true
			}
			if !page.HasNextPage {
				break
			}
			after = page.EndCursor
		}
		if len(seen) != want || want == 0 {
			t.Fatalf("paged %d professional insights, want %d", len(seen), want)
		}
		if _, err := e.soul.Insights(ctx, id, "secret", nil, ""); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("unknown cluster: %v", err)
		}
	})
}

// An import calls the analysis hook (the soul service); one debounced
// analysis follows and a subscriber receives the new insights.
func TestImportTriggersOneDebouncedAnalysis(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		clock := clockwork.NewFakeClockAt(t0)
		bus := events.NewLocal(quiet())
		svc := soul.New(db, soul.Options{Clock: clock, Logger: quiet(), Bus: bus})
		e := &env{db: db, clock: clock, bus: bus, soul: svc,
			ingest: ingest.New(db, ingest.Options{Clock: clock, Logger: quiet(), Analysis: svc})}
		id := e.user(t, "ada@example.com")
		added := bus.Subscribe(ctx, events.Filter{Topic: events.InsightAdded, UserID: id})
		updated := bus.Subscribe(ctx, events.Filter{Topic: events.SoulSignatureUpdated, UserID: id})
		runCtx, stop := context.WithCancel(ctx)
		wait := svc.Start(runCtx)
		defer func() { stop(); wait() }()

		e.importPlays(t, id, 80, 0)
		e.importPlays(t, id, 40, 80) // a second file in the same burst
		if svc.Waiting() != 1 {
			t.Fatalf("%d users waiting after two imports, want 1", svc.Waiting())
		}
		storetest.Must(t, clock.BlockUntilContext(ctx, 1))
		clock.Advance(soul.DefaultDebounce)
		select {
		case ev := <-updated:
			if ev.UserID != id {
				t.Fatalf("signature event for %s", ev.UserID)
			}
		case <-ctx.Done():
			t.Fatal("no analysis after the debounce window")
		}
		var got []string
		for len(got) == 0 || len(added) > 0 {
			select {
			case ev := <-added:
				var p soul.InsightAddedPayload
				storetest.Must(t, json.Unmarshal(ev.Payload, &p))
				got = append(got, p.Key)
			case <-ctx.Done():
				t.Fatal("no insightAdded event")
			}
		}
		if !slices.ContainsFunc(got, func(k string) bool { return strings.HasPrefix(k, "music.") }) {
			t.Fatalf("insights added %v, want music insights from the imported plays", got)
		}
		all, err := db.AllInsights(ctx, id)
		storetest.Must(t, err)
		if len(all) != len(got) {
			t.Fatalf("%d insights stored, %d announced", len(all), len(got))
		}
	})
}
