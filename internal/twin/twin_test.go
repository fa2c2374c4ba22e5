package twin_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/twin"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// hiddenMarker is in an insight of the personal cluster, which the owner
// hides from the friends audience (slider 0).
const hiddenMarker = "ZEBRAQUARTZ"

func fullView() privacy.View {
	return privacy.View{
		Insights: []privacy.Insight{
			{Key: "rhythm.night", Cluster: privacy.Personal, Subcluster: privacy.HealthWellness,
				Title: "Night owl " + hiddenMarker, Body: "I usually sleep after 2am " + hiddenMarker + ".",
				Sensitivity: 30, Confidence: 0.8,
				Evidence: []privacy.Evidence{{Label: "late nights " + hiddenMarker, Value: "5 of 7", Weight: 1}}},
			{Key: "coding.lang", Cluster: privacy.Professional, Subcluster: privacy.SkillsExpertise,
				Title: "Go programmer", Body: "Most of my commits are in Go.", Sensitivity: 10, Confidence: 0.9,
				Evidence: []privacy.Evidence{{Label: "Go", Value: "71% of commits", Weight: 1}}},
			{Key: "music.genre", Cluster: privacy.Creative, Subcluster: privacy.MusicalIdentity,
				Title: "Jazz listener", Body: "Jazz is most of my music.", Sensitivity: 20, Confidence: 0.7},
		},
		Summaries: []privacy.Summary{{Cluster: privacy.Personal, Text: "A night person " + hiddenMarker + ".", Sensitivity: 30}},
	}
}

// fakeViews keeps each owner's whole signature and sliders and reveals them
// with the real privacy.Reveal, as the soul service does.
type fakeViews struct {
	mu       sync.Mutex
	full     map[string]privacy.View
	settings map[string]privacy.Settings
	links    map[string]twin.ShareLink
	err      error
	calls    []viewCall
}

type viewCall struct {
	owner     string
	audiences []privacy.Audience
}

var _ twin.Views = (*fakeViews)(nil)

func (f *fakeViews) View(_ context.Context, ownerID string, audiences ...privacy.Audience) (privacy.View, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, viewCall{ownerID, audiences})
	if f.err != nil {
		return privacy.View{}, f.err
	}
	lens := f.settings[ownerID].Lens(audiences[0])
	for _, a := range audiences[1:] {
		lens = lens.Meet(f.settings[ownerID].Lens(a))
	}
	return privacy.RevealLens(f.full[ownerID], lens), nil
}

func (f *fakeViews) ResolveShare(_ context.Context, token string) (twin.ShareLink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[token]
	if !ok {
		return twin.ShareLink{}, apperr.New(apperr.NotFound, "share link not found")
	}
	return l, nil
}

func (f *fakeViews) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeViews) lastCall(t *testing.T) viewCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("the twin loaded no view")
	}
	return f.calls[len(f.calls)-1]
}

type fixture struct {
	db    *store.DB
	svc   *twin.Service
	bus   *events.Local
	views *fakeViews
	clock *clockwork.FakeClock
	ada   *store.User // owns the twin
	bob   *store.User // someone else
}

const (
	friendsToken = "tok_friends"
	friendsLink  = "link_friends"
	otherLink    = "link_other"
)

func setup(t testing.TB, db *store.DB, cfg twin.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{db: db, clock: clockwork.NewFakeClockAt(t0), bus: events.NewLocal(slog.New(slog.DiscardHandler))}
	f.ada = &store.User{Email: "ada@example.com", CreatedAt: t0, UpdatedAt: t0}
	f.bob = &store.User{Email: "bob@example.com", CreatedAt: t0, UpdatedAt: t0}
	storetest.Must(t, db.CreateUser(ctx, f.ada))
	storetest.Must(t, db.CreateUser(ctx, f.bob))
	settings, err := privacy.DefaultSettings().WithOverride(privacy.Personal, privacy.AudienceFriends, 0)
	storetest.Must(t, err)
	// The assistant (the owner's own chat) may see everything but the
	// creative cluster.
	settings, err = settings.WithOverride(privacy.Personal, privacy.AudienceAssistant, 100)
	storetest.Must(t, err)
	settings, err = settings.WithOverride(privacy.Creative, privacy.AudienceAssistant, 0)
	storetest.Must(t, err)
	f.views = &fakeViews{
		full:     map[string]privacy.View{f.ada.ID: fullView()},
		settings: map[string]privacy.Settings{f.ada.ID: settings},
		links: map[string]twin.ShareLink{
			friendsToken: {ID: friendsLink, OwnerID: f.ada.ID, Audience: privacy.AudienceFriends},
			"tok_other":  {ID: otherLink, OwnerID: f.ada.ID, Audience: privacy.AudienceFriends},
		},
	}
	cfg.DB, cfg.Views, cfg.Bus, cfg.Clock = db, f.views, f.bus, f.clock
	f.svc = twin.New(cfg)
	// Replies run in the background; they must be stored before the
	// database closes.
	t.Cleanup(func() { f.svc.Shutdown(context.Background()) })
	return f
}

func anthropic(t *testing.T, srv *llmtest.Server) llm.Model {
	t.Helper()
	m, err := llm.NewAnthropic(llm.AnthropicConfig{APIKey: llmtest.Key, BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// collect reads one reply's events until its Done event.
func collect(t *testing.T, ch <-chan twin.ReplyEvent) []twin.ReplyEvent {
	t.Helper()
	var got []twin.ReplyEvent
	guard := time.After(10 * time.Second) // a hang guard, not a wait for time
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("subscription closed after %d events", len(got))
			}
			got = append(got, ev)
			if ev.Done {
				return got
			}
		case <-guard:
			t.Fatalf("no Done event after %d events", len(got))
		}
	}
}

func subscribe(t *testing.T, f *fixture, who twin.Participant, convID string) <-chan twin.ReplyEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := f.svc.Subscribe(ctx, who, convID)
	storetest.Must(t, err)
	return ch
}

// checkStream asserts the events of reply msgID come in order and add up to
// want, and returns their text.
func checkStream(t *testing.T, evs []twin.ReplyEvent, msgID string) string {
	t.Helper()
	var b strings.Builder
	for i, ev := range evs {
		if ev.MessageID != msgID || ev.Seq != i {
			t.Fatalf("event %d: %+v, want message %s seq %d", i, ev, msgID, i)
		}
		if ev.Done != (i == len(evs)-1) {
			t.Fatalf("event %d of %d: done=%v", i, len(evs), ev.Done)
		}
		b.WriteString(ev.Text)
	}
	return b.String()
}

func storedReply(t *testing.T, f *fixture, who twin.Participant, convID, msgID string) store.TwinMessage {
	t.Helper()
	ms, err := f.svc.Messages(context.Background(), who, convID, nil, 100)
	storetest.Must(t, err)
	for _, m := range ms {
		if m.ID == msgID {
			return m
		}
	}
	t.Fatalf("message %s not stored", msgID)
	return store.TwinMessage{}
}

func TestOwnerChatsWithLocalTwin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// No key: the local twin answers.
		f := setup(t, db, twin.Config{})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		ch := subscribe(t, f, owner, conv.ID)

		userMsg, pending, err := f.svc.Send(ctx, owner, conv.ID, "Do you sleep late at night?")
		storetest.Must(t, err)
		if userMsg.Text != "Do you sleep late at night?" || pending.Role != store.TwinRoleTwin || pending.Completed || pending.ID == "" {
			t.Fatalf("Send returned %+v and %+v", userMsg, pending)
		}
		evs := collect(t, ch)
		if len(evs) < 3 {
			t.Fatalf("reply came in %d events; the local twin streams a few words at a time", len(evs))
		}
		streamed := checkStream(t, evs, pending.ID)
		if evs[len(evs)-1].Error != "" {
			t.Fatalf("reply ended with error %q", evs[len(evs)-1].Error)
		}
		if !strings.HasPrefix(streamed, llm.LocalPrefix) {
			t.Fatalf("local reply %q does not say it is the local twin", streamed)
		}
		// The owner's own twin answers from what the assistant may see:
		// here the personal cluster (hidden from friends) but not the
		// creative one.
		if !strings.Contains(streamed, hiddenMarker) {
			t.Fatalf("owner's twin answered %q without the night insight the assistant may see", streamed)
		}
		if c := f.views.lastCall(t); len(c.audiences) != 1 || c.audiences[0] != privacy.AudienceAssistant || c.owner != f.ada.ID {
			t.Fatalf("view loaded as %+v, want the assistant's revealed view", c)
		}

		got := storedReply(t, f, owner, conv.ID, pending.ID)
		if got.Text != streamed || !got.Completed || got.Source != store.TwinSourceLocal || got.Error != "" {
			t.Fatalf("stored reply %+v, streamed %q", got, streamed)
		}
		ms, err := f.svc.Messages(ctx, owner, conv.ID, nil, 10)
		storetest.Must(t, err)
		if len(ms) != 2 || ms[0].ID != userMsg.ID || ms[1].ID != pending.ID {
			t.Fatalf("conversation holds %d messages", len(ms))
		}
	})
}

func TestShareGuestTwinNeverSeesHiddenCluster(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv)})

		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		if guest.ShareLinkID != friendsLink || guest.ShareOwnerID != f.ada.ID || guest.Audience != privacy.AudienceFriends {
			t.Fatalf("guest %+v", guest)
		}
		conv, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		if conv.OwnerUserID != f.ada.ID || conv.Audience == nil || *conv.Audience != privacy.AudienceFriends {
			t.Fatalf("conversation %+v", conv)
		}
		ch := subscribe(t, f, guest, conv.ID)

		var replies []domain.TwinMessage
		for _, q := range []string{"When do you go to sleep?", "And what do you do for work?"} {
			_, pending, err := f.svc.Send(ctx, guest, conv.ID, q)
			storetest.Must(t, err)
			checkStream(t, collect(t, ch), pending.ID)
			replies = append(replies, pending)
		}

		reqs := srv.Requests()
		if len(reqs) != 2 {
			t.Fatalf("fake API got %d requests", len(reqs))
		}
		for i, r := range reqs {
			if strings.Contains(string(r.Body), hiddenMarker) || strings.Contains(string(r.Body), "Night owl") {
				t.Fatalf("request %d carries the hidden personal cluster: %s", i, r.Body)
			}
			if !strings.Contains(r.Parsed.System, "Go programmer") {
				t.Fatalf("request %d lacks what friends may see: %s", i, r.Parsed.System)
			}
		}
		// The second request carries the first exchange.
		if msgs := reqs[1].Parsed.Messages; len(msgs) != 3 || msgs[1].Role != "assistant" || msgs[1].Content != "Hello from the fake." {
			t.Fatalf("second request messages %+v", msgs)
		}
		if c := f.views.lastCall(t); len(c.audiences) != 1 || c.audiences[0] != privacy.AudienceFriends || c.owner != f.ada.ID {
			t.Fatalf("guest view loaded as %+v, want friends' revealed view", c)
		}
		got := storedReply(t, f, guest, conv.ID, replies[0].ID)
		if got.Text != "Hello from the fake." || got.Source != store.TwinSourceLLM || !got.Completed {
			t.Fatalf("stored reply %+v", got)
		}
	})
}

func TestGuestTwinFailsClosed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv)})

		if _, err := f.svc.Guest(ctx, "tok_revoked", ""); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown token: %v, want NOT_FOUND", err)
		}
		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		conv, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		if _, err := f.svc.StartConversation(ctx, guest, privacy.AudienceIntimate); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("guest asking for another audience: %v, want BAD_USER_INPUT", err)
		}

		f.views.setErr(errors.New("soul: settings row unreadable"))
		_, _, err = f.svc.Send(ctx, guest, conv.ID, "Tell me everything")
		if err == nil {
			t.Fatal("Send succeeded although the revealed view could not be loaded")
		}
		if strings.Contains(apperr.MessageOf(err), "settings row") {
			t.Fatalf("internal detail shown: %q", apperr.MessageOf(err))
		}
		if n := len(srv.Requests()); n != 0 {
			t.Fatalf("the model was called %d times without a revealed view", n)
		}
		ms, err := f.svc.Messages(ctx, guest, conv.ID, nil, 10)
		storetest.Must(t, err)
		if len(ms) != 0 {
			t.Fatalf("a refused message stored %d messages", len(ms))
		}
	})
}

func TestOthersCannotReadOrPost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, twin.Config{})
		owner := twin.Owner(f.ada.ID)
		own, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		viaLink, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		otherGuest, err := f.svc.Guest(ctx, "tok_other", "")
		storetest.Must(t, err)
		signedInGuest, err := f.svc.Guest(ctx, friendsToken, f.bob.ID)
		storetest.Must(t, err)
		forged := guest
		forged.Audience = privacy.AudienceIntimate

		cases := []struct {
			name string
			who  twin.Participant
			conv string
		}{
			{"another user on the owner's conversation", twin.Owner(f.bob.ID), own.ID},
			{"a guest on the owner's conversation", guest, own.ID},
			{"another user on a guest's conversation", twin.Owner(f.bob.ID), viaLink.ID},
			{"the owner on a guest's conversation", owner, viaLink.ID},
			{"a guest of another link", otherGuest, viaLink.ID},
			{"a signed-in visitor on an anonymous guest's conversation", signedInGuest, viaLink.ID},
			{"a guest claiming another audience", forged, viaLink.ID},
			{"nobody", twin.Participant{}, own.ID},
		}
		for _, tc := range cases {
			if _, _, err := f.svc.Send(ctx, tc.who, tc.conv, "hello"); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: Send = %v, want NOT_FOUND", tc.name, err)
			}
			if _, err := f.svc.Messages(ctx, tc.who, tc.conv, nil, 10); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: Messages = %v, want NOT_FOUND", tc.name, err)
			}
			if _, err := f.svc.Subscribe(ctx, tc.who, tc.conv); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: Subscribe = %v, want NOT_FOUND", tc.name, err)
			}
		}
		for _, c := range []string{own.ID, viaLink.ID} {
			ms, err := db.ListTwinMessages(ctx, c, nil, 10)
			storetest.Must(t, err)
			if len(ms) != 0 {
				t.Fatalf("conversation %s got %d messages from outsiders", c, len(ms))
			}
		}
		if _, err := f.svc.StartConversation(ctx, twin.Participant{}, ""); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("start without anyone: %v, want UNAUTHENTICATED", err)
		}
		if _, err := f.svc.StartConversation(ctx, owner, "coworkers"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("start with unknown audience: %v, want BAD_USER_INPUT", err)
		}
	})
}

func TestSendRejectsBadText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, twin.Config{})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		for name, text := range map[string]string{
			"empty":              "",
			"blank":              " \n\t ",
			"4,001 ASCII":        strings.Repeat("a", 4001),
			"4,001 accented":     strings.Repeat("é", 4001),
			"invalid UTF-8 byte": "hi \xff",
		} {
			_, _, err := f.svc.Send(ctx, owner, conv.ID, text)
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Errorf("%s: %v, want BAD_USER_INPUT", name, err)
			}
		}
		ms, err := db.ListTwinMessages(ctx, conv.ID, nil, 10)
		storetest.Must(t, err)
		if len(ms) != 0 {
			t.Fatalf("rejected messages stored %d rows", len(ms))
		}
		// 4,000 characters (8,000 bytes) is within the limit.
		if _, _, err := f.svc.Send(ctx, owner, conv.ID, strings.Repeat("é", 4000)); err != nil {
			t.Fatalf("4,000 characters: %v", err)
		}
	})
}

func TestFiftyFirstMessageIsRateLimited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Default limit: 50 per 15 minutes. The local twin's replies run
		// in the background; no cap on them here.
		f := setup(t, db, twin.Config{MaxInFlight: 1000})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		for i := range 50 {
			if _, _, err := f.svc.Send(ctx, owner, conv.ID, "what music do you like?"); err != nil {
				t.Fatalf("message %d: %v", i+1, err)
			}
		}
		_, _, err = f.svc.Send(ctx, owner, conv.ID, "one more?")
		if apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("51st message: %v, want RATE_LIMITED", err)
		}
		// The limit is per participant: a guest of the owner's link still
		// chats.
		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		gconv, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		if _, _, err := f.svc.Send(ctx, guest, gconv.ID, "hi there"); err != nil {
			t.Fatalf("another participant: %v", err)
		}
		// Anonymous guests of one link are told apart by their
		// conversation: one who used up theirs does not lock out another.
		for i := range 49 {
			if _, _, err := f.svc.Send(ctx, guest, gconv.ID, "hello?"); err != nil {
				t.Fatalf("guest a message %d: %v", i+2, err)
			}
		}
		if _, _, err := f.svc.Send(ctx, guest, gconv.ID, "hello?"); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("guest a 51st message: %v, want RATE_LIMITED", err)
		}
		other, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		if _, _, err := f.svc.Send(ctx, guest, other.ID, "hello?"); err != nil {
			t.Fatalf("guest b: %v", err)
		}
		f.svc.Shutdown(ctx)
		ms, err := db.ListTwinMessages(ctx, conv.ID, nil, 200)
		storetest.Must(t, err)
		if len(ms) != 100 {
			t.Fatalf("stored %d messages, want 50 exchanges", len(ms))
		}
		for _, m := range ms {
			if !m.Completed {
				t.Fatalf("message %s left pending after shutdown", m.ID)
			}
		}
	})
}

func TestMidStreamErrorEndsReplyWithSafeError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv)})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		ch := subscribe(t, f, owner, conv.ID)

		srv.Respond(llmtest.MidStreamError(2, "overloaded_error", "Overloaded", "I code", " in Go", " and"))
		_, pending, err := f.svc.Send(ctx, owner, conv.ID, "What do you do?")
		storetest.Must(t, err)
		evs := collect(t, ch)
		streamed := checkStream(t, evs, pending.ID)
		last := evs[len(evs)-1]
		if streamed != "I code in Go" || last.Error != twin.ErrMsgFailed {
			t.Fatalf("streamed %q, last event %+v", streamed, last)
		}
		got := storedReply(t, f, owner, conv.ID, pending.ID)
		if got.Text != "I code in Go" || got.Error != twin.ErrMsgFailed || !got.Completed {
			t.Fatalf("stored %+v", got)
		}

		// A request the API refuses before streaming ends the reply too,
		// with the reason a user can act on.
		srv.Respond(llmtest.RateLimited("30"))
		_, pending, err = f.svc.Send(ctx, owner, conv.ID, "Still there?")
		storetest.Must(t, err)
		evs = collect(t, ch)
		if len(evs) != 1 || !strings.Contains(evs[0].Error, "rate limited") {
			t.Fatalf("events %+v", evs)
		}
		if got := storedReply(t, f, owner, conv.ID, pending.ID); got.Text != "" || got.Error != evs[0].Error || !got.Completed {
			t.Fatalf("stored %+v", got)
		}
	})
}

func TestReplyTimesOutOnTheClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv), ReplyTimeout: time.Minute})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		ch := subscribe(t, f, owner, conv.ID)

		gate := make(chan struct{}) // never opened: the model stalls after one delta
		t.Cleanup(func() { close(gate) })
		srv.Respond(llmtest.Response{Deltas: []string{"Let me think", " about that."}, ErrorAfter: -1, Gate: gate})
		_, pending, err := f.svc.Send(ctx, owner, conv.ID, "What is your favourite album?")
		storetest.Must(t, err)
		first := <-ch
		if first.Text != "Let me think" || first.Done {
			t.Fatalf("first event %+v", first)
		}
		f.clock.Advance(time.Minute)
		rest := collect(t, ch)
		last := rest[len(rest)-1]
		if len(rest) != 1 || last.Error != twin.ErrMsgTimeout || last.Seq != 1 {
			t.Fatalf("after the timeout: %+v", rest)
		}
		if got := storedReply(t, f, owner, conv.ID, pending.ID); got.Text != "Let me think" || got.Error != twin.ErrMsgTimeout {
			t.Fatalf("stored %+v", got)
		}
	})
}

func TestLongChunksFitInEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv)})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		// Raw bus events, to measure what would travel through NOTIFY.
		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		raw := f.bus.Subscribe(sub, events.Filter{Topic: events.TwinReply, UserID: f.ada.ID, Key: conv.ID})

		long := strings.Repeat("<é>", 1500) // 6,000 bytes, each "<" and ">" escaped to six in JSON
		srv.Respond(llmtest.Text(long))
		if _, _, err := f.svc.Send(ctx, owner, conv.ID, "Say a lot"); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for e := range raw {
			enc, _ := json.Marshal(e)
			if len(enc) > 7900 {
				t.Fatalf("event of %d bytes is over the NOTIFY limit", len(enc))
			}
			ev, err := twin.DecodeReplyEvent(e)
			storetest.Must(t, err)
			b.WriteString(ev.Text)
			if ev.Done {
				break
			}
		}
		if b.String() != long {
			t.Fatalf("reassembled %d bytes, want %d", b.Len(), len(long))
		}
	})
}

func TestShutdownInterruptsRunningReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		f := setup(t, db, twin.Config{Model: anthropic(t, srv)})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		ch := subscribe(t, f, owner, conv.ID)
		gate := make(chan struct{})
		t.Cleanup(func() { close(gate) })
		srv.Respond(llmtest.Response{Deltas: []string{"Half", " a reply"}, ErrorAfter: -1, Gate: gate})
		_, pending, err := f.svc.Send(ctx, owner, conv.ID, "Go on")
		storetest.Must(t, err)
		<-ch // the reply has begun

		expired, cancel := context.WithCancel(ctx)
		cancel()
		f.svc.Shutdown(expired)
		if got := storedReply(t, f, owner, conv.ID, pending.ID); got.Text != "Half" || got.Error != twin.ErrMsgInterrupted || !got.Completed {
			t.Fatalf("stored %+v", got)
		}
		// After shutdown a message is stored with its reply marked
		// interrupted, never left pending.
		_, pending, err = f.svc.Send(ctx, owner, conv.ID, "Anyone?")
		storetest.Must(t, err)
		if got := storedReply(t, f, owner, conv.ID, pending.ID); !got.Completed || got.Error != twin.ErrMsgInterrupted {
			t.Fatalf("stored after shutdown %+v", got)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Fatalf("model called %d times", n)
		}
	})
}

func TestRecoverStaleRepliesAndListConversations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, twin.Config{ReplyTimeout: time.Minute})
		owner := twin.Owner(f.ada.ID)
		first, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		f.clock.Advance(time.Second)
		second, err := f.svc.StartConversation(ctx, owner, privacy.AudienceDating)
		storetest.Must(t, err)
		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		_, err = f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)

		// A reply an instance began and never stored: it stopped mid-way.
		f.clock.Advance(time.Second)
		orphan := &store.TwinMessage{ConversationID: first.ID, Role: store.TwinRoleTwin, CreatedAt: f.clock.Now()}
		storetest.Must(t, db.AppendTwinMessages(ctx, orphan))
		if n, err := f.svc.RecoverStale(ctx); err != nil || n != 0 {
			t.Fatalf("recovered %d, %v while the reply may still be running", n, err)
		}
		f.clock.Advance(2 * time.Minute)
		if n, err := f.svc.RecoverStale(ctx); err != nil || n != 1 {
			t.Fatalf("recovered %d, %v; want 1", n, err)
		}
		if got := storedReply(t, f, owner, first.ID, orphan.ID); !got.Completed || got.Error != twin.ErrMsgInterrupted {
			t.Fatalf("stale reply %+v", got)
		}

		// The owner's own conversations, latest activity first; the guest's
		// is not among them, and a guest has no list.
		convs, err := f.svc.Conversations(ctx, owner, nil, 10)
		storetest.Must(t, err)
		if len(convs) != 2 || convs[0].ID != first.ID || convs[1].ID != second.ID {
			t.Fatalf("conversations %+v", convs)
		}
		if _, err := f.svc.Conversations(ctx, guest, nil, 10); apperr.CodeOf(err) != apperr.Unauthenticated {
			t.Fatalf("guest list: %v, want UNAUTHENTICATED", err)
		}
	})
}

func TestOwnerPreviewsAnAudience(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := setup(t, db, twin.Config{})
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, privacy.AudienceFriends)
		storetest.Must(t, err)
		ch := subscribe(t, f, owner, conv.ID)
		_, pending, err := f.svc.Send(ctx, owner, conv.ID, "Do you sleep late at night?")
		storetest.Must(t, err)
		reply := checkStream(t, collect(t, ch), pending.ID)
		if strings.Contains(reply, hiddenMarker) {
			t.Fatalf("preview as friends reveals the hidden cluster: %q", reply)
		}
		if c := f.views.lastCall(t); len(c.audiences) != 2 || c.audiences[0] != privacy.AudienceFriends || c.audiences[1] != privacy.AudienceAssistant {
			t.Fatalf("preview loaded view as %+v", c)
		}
	})
}

// One owner's twin writes at most MaxInFlight replies at once, whoever
// asks; a slot frees when a reply ends.
func TestRepliesInFlightAreCappedPerOwner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		srv := llmtest.NewServer(t, "")
		gate := make(chan struct{})
		resp := llmtest.Text("Hello", " there.")
		resp.Gate = gate
		srv.Respond(resp)
		f := setup(t, db, twin.Config{Model: anthropic(t, srv), MaxInFlight: 2})
		owner := twin.Owner(f.ada.ID)
		guest, err := f.svc.Guest(ctx, friendsToken, "")
		storetest.Must(t, err)
		oconv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		gconv, err := f.svc.StartConversation(ctx, guest, "")
		storetest.Must(t, err)
		och := subscribe(t, f, owner, oconv.ID)

		_, first, err := f.svc.Send(ctx, owner, oconv.ID, "one")
		storetest.Must(t, err)
		_, _, err = f.svc.Send(ctx, guest, gconv.ID, "two")
		storetest.Must(t, err)
		if _, _, err := f.svc.Send(ctx, guest, gconv.ID, "three"); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("third reply in flight: %v, want RATE_LIMITED", err)
		}
		// Another owner's twin is not held up.
		bob := twin.Owner(f.bob.ID)
		bconv, err := f.svc.StartConversation(ctx, bob, "")
		storetest.Must(t, err)
		if _, _, err := f.svc.Send(ctx, bob, bconv.ID, "hi"); err != nil {
			t.Fatalf("another owner's twin: %v", err)
		}
		close(gate)
		checkStream(t, collect(t, och), first.ID)
		f.svc.Shutdown(ctx) // waits for every reply, freeing the slots
	})
}

// Analysis and chat draw on one AI allowance per user.
func TestOneAIAllowancePerUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		lim := ratelimit.New(3, time.Hour)
		f := setup(t, db, twin.Config{Limiter: lim})
		for range 2 { // as requestAnalysis does
			storetest.Must(t, lim.Check(ctx, twin.AIKey(f.ada.ID), "AI operations"))
		}
		owner := twin.Owner(f.ada.ID)
		conv, err := f.svc.StartConversation(ctx, owner, "")
		storetest.Must(t, err)
		if _, _, err := f.svc.Send(ctx, owner, conv.ID, "hi"); err != nil {
			t.Fatalf("third AI operation: %v", err)
		}
		if _, _, err := f.svc.Send(ctx, owner, conv.ID, "hi again"); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("fourth AI operation: %v, want RATE_LIMITED", err)
		}
	})
}
