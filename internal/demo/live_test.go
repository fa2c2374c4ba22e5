package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// A live day goes through the ingest path and the analysis at once: a
// subscriber to insightAdded and soulSignatureUpdated hears of it without
// waiting for the debounce or the hourly job.
func TestFeedDayPublishesWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC))
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		bus := events.NewLocal(log)
		d := demo.Deps{DB: db, Auth: auth.NewService(db, clock, log, auth.Options{}),
			Ingest: ingest.New(db, ingest.Options{Clock: clock, Logger: log}),
			Soul:   soul.New(db, soul.Options{Clock: clock, Logger: log, Bus: bus}), Clock: clock, Logger: log, Every: 10}
		res, err := demo.SeedUser(ctx, d, "")
		storetest.Must(t, err)

		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		added := bus.Subscribe(sub, events.Filter{Topic: events.InsightAdded, UserID: res.UserID})
		updated := bus.Subscribe(sub, events.Filter{Topic: events.SoulSignatureUpdated, UserID: res.UserID})

		clock.Advance(time.Minute)
		day, err := demo.FeedDay(ctx, d, res.UserID, 1)
		storetest.Must(t, err)
		if day.Stored < 50 || day.Observer < 50 || day.Run.InsightsStored == 0 || !day.Run.SignatureChanged {
			t.Fatalf("live day %+v", day)
		}
		got := 0
		for got < day.Run.InsightsStored {
			select {
			case <-added:
				got++
			case <-time.After(5 * time.Second):
				t.Fatalf("%d of %d insightAdded events arrived", got, day.Run.InsightsStored)
			}
		}
		select {
		case <-updated:
		case <-time.After(5 * time.Second):
			t.Fatal("no soulSignatureUpdated")
		}
		// The same day again adds nothing: the ingest path deduplicates.
		again, err := demo.FeedDay(ctx, d, res.UserID, 1)
		storetest.Must(t, err)
		if again.Stored != 0 || again.Run.InsightsStored != 0 {
			t.Fatalf("the same day twice: %+v", again)
		}
	})
}
