package soul_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/twin"
)

// One test per leak of issue 9, each through the surface a non-owner (or
// a model) observes, on stored data.

// mails stores n Gmail message metadata items the way the Gmail stream
// does (users.messages.get?format=metadata: labelIds, and the From
// header), one every few hours before t0; every third is sent.
func (e *env) mails(t testing.TB, userID string, n, offset int) {
	t.Helper()
	var items []store.PlatformItem
	for i := range n {
		at := t0.Add(-time.Duration(i+offset+1) * 5 * time.Hour)
		labels := []string{"INBOX"}
		if (i+offset)%3 == 0 {
			labels = []string{"SENT"}
		}
		items = append(items, apiItem(t, "message", fmt.Sprintf("m%d", i+offset), at,
			map[string]any{"source": "api", "label_ids": labels, "from": fmt.Sprintf("Colleague %d <c%d@work.example>", i%7, i%7)}))
	}
	e.upsert(t, userID, "gmail", items)
}

// guilds stores Discord servers as GET /users/@me/guilds lists them
// ({id, name, owner}).
func (e *env) guilds(t testing.TB, userID string, names ...string) {
	t.Helper()
	var items []store.PlatformItem
	for i, n := range names {
		items = append(items, apiItem(t, "guild", fmt.Sprint(900+i), t0, map[string]any{"source": "api", "name": n, "owner": i == 0}))
	}
	e.upsert(t, userID, "discord", items)
}

func traitsJSON(t *testing.T, v privacy.View) string {
	t.Helper()
	raw, err := json.Marshal(v.Traits)
	storetest.Must(t, err)
	return string(raw)
}

// Leak 1: a trait showed when any of its clusters was visible, with a score
// computed from all of them. EVERYONE has PROFESSIONAL at 0: its
// extraversion must not move with email volume, and the evidence it shows
// must add up to its score.
func TestLeakTraitScoresDoNotCarryHiddenClusters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		e.guilds(t, id, "Jazz Cellar", "Go Gophers", "Climbing Crew", "Board Games")
		e.mails(t, id, 60, 0)
		_, err := e.soul.SetClusterPrivacy(ctx, id, "professional", 0, "everyone")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "personal", 100, "")
		storetest.Must(t, err)
		_, err = e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		before, err := e.soul.Signature(ctx, "", id, privacy.AudienceEveryone)
		storetest.Must(t, err)
		own, _ := e.soul.Signature(ctx, id, id, "")
		var extra *privacy.Trait
		for i, tr := range before.View.Traits {
			if tr.Name == "extraversion" {
				extra = &before.View.Traits[i]
			}
		}
		if extra == nil {
			t.Fatalf("no extraversion shown to everyone; the test would prove nothing: %+v (owner: %s)", before.View.Traits, traitsJSON(t, own.View))
		}
		sum := 0.5
		for _, ev := range extra.Evidence {
			if ev.Cluster == privacy.Professional {
				t.Fatalf("everyone sees professional evidence %+v", ev)
			}
			if strings.Contains(ev.Value, "lowers") {
				sum -= ev.Weight
			} else {
				sum += ev.Weight
			}
		}
		if d := sum - extra.Score; d > 1e-9 || d < -1e-9 {
			t.Fatalf("extraversion %.6f, but its visible evidence adds to %.6f: the gap is hidden data", extra.Score, sum)
		}

		e.clock.Advance(time.Hour)
		e.mails(t, id, 400, 60) // far more mail: only PROFESSIONAL changes
		_, err = e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		after, err := e.soul.Signature(ctx, "", id, privacy.AudienceEveryone)
		storetest.Must(t, err)
		if a, b := traitsJSON(t, before.View), traitsJSON(t, after.View); a != b {
			t.Fatalf("everyone's traits moved with hidden email volume:\nbefore %s\nafter  %s", a, b)
		}
		own2, _ := e.soul.Signature(ctx, id, id, "")
		if traitsJSON(t, own.View) == traitsJSON(t, own2.View) {
			t.Fatal("the owner's traits did not change either; the test would prove nothing")
		}
	})
}

// Leak 2: similarTwins compared raw embeddings. A user hidden everywhere
// must not appear, and a score must not move with the other user's hidden
// data.
func TestLeakSimilarTwinsCompareOnlyWhatIsShared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		a := seedUser(t, e, "ada@example.com")
		b := seedUser(t, e, "bea@example.com")
		c := seedUser(t, e, "cy@example.com")
		e.mails(t, b, 60, 0)
		for _, id := range []string{a, b, c} {
			storetest.Must(t, e.soul.SetSimilarTwinsOptIn(ctx, id, true, ""))
		}
		for _, cl := range []string{"personal", "professional", "creative"} {
			_, err := e.soul.SetClusterPrivacy(ctx, c, privacy.Cluster(cl), 0, "")
			storetest.Must(t, err)
		}
		_, err := e.soul.SetClusterPrivacy(ctx, b, "professional", 0, "everyone")
		storetest.Must(t, err)
		for _, id := range []string{a, b, c} {
			_, err := e.soul.Analyze(ctx, id)
			storetest.Must(t, err)
		}
		before, err := e.soul.SimilarTwins(ctx, a, 5)
		storetest.Must(t, err)
		if len(before) != 1 || before[0].UserID != b {
			t.Fatalf("twins of ada %+v, want only bea (cy shares nothing)", before)
		}
		if got, _ := e.soul.SimilarTwins(ctx, c, 5); len(got) != 0 {
			t.Fatalf("cy, who shares nothing, was matched: %+v", got)
		}

		e.clock.Advance(time.Hour)
		e.mails(t, b, 400, 60) // bea's hidden professional data changes
		e.gitHub(t, b, 5)
		_, err = e.soul.Analyze(ctx, b)
		storetest.Must(t, err)
		after, err := e.soul.SimilarTwins(ctx, a, 5)
		storetest.Must(t, err)
		if len(after) != 1 || after[0].Score != before[0].Score {
			t.Fatalf("score moved with bea's hidden data: %+v → %+v", before, after)
		}
	})
}

// soulViews lets the twin read revealed views from the soul service, as
// the app wires it.
type soulViews struct{ s *soul.Service }

func (v soulViews) View(ctx context.Context, ownerID string, audiences ...privacy.Audience) (privacy.View, error) {
	return v.s.RevealedView(ctx, ownerID, audiences...)
}

func (v soulViews) ResolveShare(ctx context.Context, token string) (twin.ShareLink, error) {
	l, err := v.s.ResolveShare(ctx, token)
	return twin.ShareLink{ID: token, OwnerID: l.OwnerID, Audience: l.Audience}, err
}

// Leak 3: the owner's own twin chat sent the unfiltered signature to the
// model. It now sends the ASSISTANT view: a cluster at 0 for the assistant
// reaches no prompt.
func TestLeakOwnerChatSendsOnlyTheAssistantView(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		fake := llmtest.NewServer(t, "")
		model, _ := llm.ModelFor(llm.AnthropicConfig{APIKey: llmtest.Key, BaseURL: fake.URL})
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		_, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "personal", 0, "assistant")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "professional", 100, "")
		storetest.Must(t, err)
		own, _ := e.soul.Signature(ctx, id, id, "")
		var personal []string
		for _, in := range own.View.Insights {
			if in.Cluster == privacy.Personal {
				personal = append(personal, in.Title)
			}
		}
		if len(personal) == 0 {
			t.Fatal("no personal insights; the test would prove nothing")
		}

		tw := twin.New(twin.Config{DB: db, Views: soulViews{e.soul}, Bus: e.bus, Model: model, Clock: e.clock, Logger: quiet()})
		owner := twin.Owner(id)
		conv, err := tw.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		_, _, err = tw.Send(ctx, owner, conv.ID, "Tell me everything about me.")
		storetest.Must(t, err)
		tw.Shutdown(ctx)
		reqs := fake.Requests()
		if len(reqs) != 1 {
			t.Fatalf("%d requests", len(reqs))
		}
		for _, title := range personal {
			if strings.Contains(string(reqs[0].Body), title) {
				t.Fatalf("the owner's chat sent %q, hidden from the assistant", title)
			}
		}
		if !strings.Contains(reqs[0].Parsed.System, "Professional life") {
			t.Fatalf("the prompt lacks what the assistant may see: %s", reqs[0].Parsed.System)
		}
	})
}

// Leak 4: a missing privacy row fell back to the default. Deleting DATING's
// PERSONAL = 0 row must show DATING no personal insight, nor anyone else.
func TestLeakMissingPrivacyRowRevealsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		_, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "personal", 100, "")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, id, "personal", 0, "dating")
		storetest.Must(t, err)
		token, _, err := e.soul.CreateShareLink(ctx, id, "DATING")
		storetest.Must(t, err)
		friends, _ := e.soul.Signature(ctx, "", id, privacy.AudienceFriends)
		if clusterOf(friends.View, privacy.Personal) == 0 {
			t.Fatal("friends see no personal insight before the damage; the test would prove nothing")
		}

		_, err = db.ExecContext(ctx, "DELETE FROM privacy_settings WHERE user_id = ? AND cluster = 'personal' AND audience = 'dating'", id)
		storetest.Must(t, err)
		shared, err := e.soul.SharedSignature(ctx, token)
		storetest.Must(t, err)
		if n := clusterOf(shared.View, privacy.Personal); n != 0 {
			t.Fatalf("DATING sees %d personal insights after its row was deleted", n)
		}
		for _, a := range privacy.Audiences() {
			v, err := e.soul.Signature(ctx, "", id, a)
			storetest.Must(t, err)
			if n := clusterOf(v.View, privacy.Personal); n != 0 {
				t.Fatalf("%s sees %d personal insights of a damaged cluster", a, n)
			}
			for _, tr := range v.View.Traits {
				for _, ev := range tr.Evidence {
					if ev.Cluster == privacy.Personal {
						t.Fatalf("%s sees personal trait evidence of a damaged cluster", a)
					}
				}
			}
		}
		own, _ := e.soul.Signature(ctx, id, id, "")
		if clusterOf(own.View, privacy.Personal) == 0 {
			t.Fatal("the owner lost their own personal insights")
		}
	})
}

// Leak 5: with every slider at its default, a new DATING link showed the
// LinkedIn name, Discord server names and mail sender domains. Identifiers
// now sit above the default level.
func TestLeakIdentifiersHiddenAtDefaultSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		id := seedUser(t, e, "ada@example.com")
		e.guilds(t, id, "Zebra Guild One", "Zebra Guild Two", "Zebra Guild Three", "Zebra Guild Four")
		e.mails(t, id, 120, 0) // from c<n>@work.example
		var items []store.PlatformItem
		for i := range 40 {
			items = append(items, apiItem(t, "liked_video", fmt.Sprint("v", i), t0.Add(-time.Duration(i)*9*time.Hour),
				map[string]any{"source": "api", "title": "A video", "channel_title": "ZebraChannel", "category_id": "24"}))
		}
		e.upsert(t, id, "youtube", items)
		e.upsert(t, id, "linkedin", []store.PlatformItem{apiItem(t, "profile", "me", t0, map[string]any{"source": "api",
			"sub": "li-1", "name": "Ada Zebralace", "given_name": "Ada", "family_name": "Zebralace", "email": "ada@zebra.example", "locale": "en_US"})})
		_, err := e.soul.Analyze(ctx, id)
		storetest.Must(t, err)
		token, _, err := e.soul.CreateShareLink(ctx, id, "DATING")
		storetest.Must(t, err)
		shared, err := e.soul.SharedSignature(ctx, token)
		storetest.Must(t, err)
		own, _ := e.soul.Signature(ctx, id, id, "")
		ownJSON, _ := json.Marshal(own.View)
		sharedJSON, _ := json.Marshal(shared.View)
		found := 0
		for _, ident := range []string{"Zebra Guild", "work.example", "ZebraChannel", "Zebralace", "zebra.example"} {
			if strings.Contains(string(ownJSON), ident) {
				found++
			}
			if strings.Contains(string(sharedJSON), ident) {
				t.Errorf("a default DATING link shows the identifier %q", ident)
			}
		}
		if found < 3 {
			t.Fatalf("the owner sees only %d of the identifiers; the test would prove little: %s", found, ownJSON)
		}
		if len(shared.View.Insights) == 0 {
			t.Fatal("the link shows nothing at all; the test would prove little")
		}
	})
}
