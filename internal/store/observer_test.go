package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestObserverSettingsDefaultOff(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		s, err := db.ObserverSettings(ctx, u.ID)
		storetest.Must(t, err)
		if s.Enabled || s.FullPaths {
			t.Fatalf("default settings %+v", s)
		}
		storetest.Must(t, db.SetObserverSettings(ctx, store.ObserverSettings{UserID: u.ID, Enabled: true, FullPaths: true, UpdatedAt: t0}))
		storetest.Must(t, db.SetObserverSettings(ctx, store.ObserverSettings{UserID: u.ID, Enabled: true, UpdatedAt: t0}))
		s, err = db.ObserverSettings(ctx, u.ID)
		storetest.Must(t, err)
		if !s.Enabled || s.FullPaths {
			t.Fatalf("settings %+v", s)
		}
	})
}

func TestInsertObserverEventsIdempotentAndRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		v := newUser(t, db, "bob@example.com")
		var evs []store.NewObserverEvent
		for i := 0; i < 1200; i++ {
			evs = append(evs, store.NewObserverEvent{ClientEventID: fmt.Sprintf("e%d", i), Type: "scroll",
				OccurredAt: t0.Add(time.Duration(i) * time.Second), Domain: "example.com"})
		}
		evs[0].URL = "https://example.com/a"
		n, err := db.InsertObserverEvents(ctx, u.ID, evs, t0)
		storetest.Must(t, err)
		if n != 1200 {
			t.Fatalf("inserted %d", n)
		}
		n, err = db.InsertObserverEvents(ctx, u.ID, evs[1000:], t0)
		storetest.Must(t, err)
		if n != 0 {
			t.Fatalf("retry inserted %d", n)
		}
		// Client ids are per user.
		n, err = db.InsertObserverEvents(ctx, v.ID, evs[:10], t0)
		storetest.Must(t, err)
		if n != 10 {
			t.Fatalf("other user inserted %d", n)
		}
		got, err := db.ListObserverEvents(ctx, u.ID, t0, t0.Add(2*time.Second), 10)
		storetest.Must(t, err)
		if len(got) != 2 || got[0].URL == nil || *got[0].URL != "https://example.com/a" || got[1].URL != nil || got[0].Data != "{}" {
			t.Fatalf("events %+v", got)
		}
		del, err := db.DeleteObserverEventsBefore(ctx, t0.Add(600*time.Second))
		storetest.Must(t, err)
		if del != 610 {
			t.Fatalf("deleted %d, want 610", del)
		}
		rest, err := db.ListObserverEvents(ctx, u.ID, t0, t0.Add(time.Hour), 2000)
		storetest.Must(t, err)
		if len(rest) != 600 || !rest[0].OccurredAt.Equal(t0.Add(600*time.Second)) {
			t.Fatalf("kept %d, first at %v", len(rest), rest[0].OccurredAt)
		}
	})
}
