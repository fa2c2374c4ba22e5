package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func raw(id, typ string, at time.Time, url string) observe.RawEvent {
	return observe.RawEvent{ClientEventID: id, Type: typ, OccurredAt: at.Format(time.RFC3339Nano), URL: url, Data: []byte(`{"deltaY":120}`)}
}

func observed(t *testing.T, db *store.DB, userID string) []store.ObserverEvent {
	t.Helper()
	evs, err := db.ListObserverEvents(context.Background(), userID, start.Add(-48*time.Hour), start.Add(time.Hour), 1000)
	storetest.Must(t, err)
	return evs
}

func TestRecordEventsRequiresOptIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := service(e)
		u := newUser(t, db, "ada@example.com")
		batch := []observe.RawEvent{raw("e1", "scroll", start, "")}
		_, _, err := s.RecordEvents(ctx, u.ID, batch)
		if apperr.CodeOf(err) != apperr.Forbidden || !errors.Is(err, ingest.ErrObservationOff) || apperr.MessageOf(err) == "" {
			t.Fatalf("observation off: %v", err)
		}
		if n := len(observed(t, db, u.ID)); n != 0 {
			t.Fatalf("stored %d events while off", n)
		}
		_, err = s.SetObserverSettings(ctx, u.ID, true, false)
		storetest.Must(t, err)
		if acc, _, err := s.RecordEvents(ctx, u.ID, batch); err != nil || acc != 1 {
			t.Fatalf("after opting in: %d %v", acc, err)
		}
		// Turning it off again stops storing.
		_, err = s.SetObserverSettings(ctx, u.ID, false, false)
		storetest.Must(t, err)
		if _, _, err := s.RecordEvents(ctx, u.ID, []observe.RawEvent{raw("e2", "scroll", start, "")}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Fatalf("after opting out: %v", err)
		}
	})
}

func TestRecordEventsPartialIdempotentAndReduced(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := service(e)
		u := newUser(t, db, "ada@example.com")
		_, err := s.SetObserverSettings(ctx, u.ID, true, false)
		storetest.Must(t, err)
		batch := []observe.RawEvent{
			raw("a", "navigation", start.Add(-time.Minute), "https://mail.example.com/u/0/inbox?token=secret#x"),
			raw("b", "keylogger", start, ""),
			raw("c", "scroll", start.Add(time.Hour), ""), // far in the future
			raw("d", "scroll", start.Add(-time.Second), "https://news.example.org/story/42"),
		}
		acc, rej, err := s.RecordEvents(ctx, u.ID, batch)
		storetest.Must(t, err)
		if acc != 2 || len(rej) != 2 || rej[0].Index != 1 || rej[0].Reason != observe.ReasonUnknownType || rej[1].Reason != observe.ReasonInFuture {
			t.Fatalf("accepted %d rejected %+v", acc, rej)
		}
		evs := observed(t, db, u.ID)
		if len(evs) != 2 || evs[0].Domain != "mail.example.com" || evs[0].URL != nil {
			t.Fatalf("stored %+v", evs)
		}
		// A retried batch adds nothing and still counts as accepted.
		acc, _, err = s.RecordEvents(ctx, u.ID, batch)
		storetest.Must(t, err)
		if acc != 2 || len(observed(t, db, u.ID)) != 2 {
			t.Fatalf("retry: accepted %d, stored %d", acc, len(observed(t, db, u.ID)))
		}
		// Full paths when opted in, never the query.
		_, err = s.SetObserverSettings(ctx, u.ID, true, true)
		storetest.Must(t, err)
		_, _, err = s.RecordEvents(ctx, u.ID, []observe.RawEvent{raw("e", "navigation", start, "https://mail.example.com/u/0/inbox?token=secret")})
		storetest.Must(t, err)
		evs = observed(t, db, u.ID)
		last := evs[len(evs)-1]
		if last.URL == nil || *last.URL != "https://mail.example.com/u/0/inbox" {
			t.Fatalf("full path stored as %v", last.URL)
		}
		// A batch over the limit is refused as a whole.
		big := make([]observe.RawEvent, observe.MaxBatchEvents+1)
		for i := range big {
			big[i] = raw(fmt.Sprintf("big%d", i), "scroll", start, "")
		}
		if _, _, err := s.RecordEvents(ctx, u.ID, big); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("oversized batch: %v", err)
		}
	})
}

func TestObserverRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := ingest.New(db, ingest.Options{Clock: e.clock, ObserverRetention: 24 * time.Hour})
		u := newUser(t, db, "ada@example.com")
		_, err := s.SetObserverSettings(ctx, u.ID, true, false)
		storetest.Must(t, err)
		_, _, err = s.RecordEvents(ctx, u.ID, []observe.RawEvent{
			raw("old", "scroll", start.Add(-20*time.Hour), ""), raw("new", "scroll", start.Add(-time.Hour), ""),
			raw("too-old", "scroll", start.Add(-25*time.Hour), ""),
		})
		storetest.Must(t, err)
		e.clock.Advance(5 * time.Hour)
		n, err := s.ApplyObserverRetention(ctx)
		storetest.Must(t, err)
		evs := observed(t, db, u.ID)
		if n != 1 || len(evs) != 1 || evs[0].ClientEventID != "new" {
			t.Fatalf("retention deleted %d, kept %+v", n, evs)
		}
	})
}
