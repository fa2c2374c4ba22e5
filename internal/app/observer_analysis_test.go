package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
)

// Observer batches are new data like a sync: posted through the real
// handler, they trigger the user's debounced analysis (one run for a burst
// of batches, once the window passed on the injected clock) instead of
// waiting for the hourly analysis job.
func TestObserverBatchesTriggerOneDebouncedAnalysis(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		u, full := e.user("browser@example.com", false)
		ext, _, err := e.app.Auth.CreateAPIToken(context.Background(), u.ID, "extension", []string{auth.ScopeObserverWrite}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r := e.gql(full, `mutation { setObservation(enabled: true) { enabled } }`, nil); dig(r.Data, "setObservation", "enabled") != true {
			t.Fatalf("setObservation: %s", r.Raw)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		wait := e.app.Soul.Start(ctx)
		defer func() { cancel(); wait() }()
		updated := e.app.Events.Subscribe(ctx, events.Filter{Topic: events.SoulSignatureUpdated, UserID: u.ID})

		runs := func() int64 {
			t.Helper()
			n, err := e.app.DB.CounterTotals(context.Background(), store.CounterAnalysis, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			return n[""]
		}
		now := e.clock.Now().UTC()
		for i, typ := range []string{"navigation", "focus"} {
			batch := fmt.Sprintf(`{"events":[{"clientEventId":"b%d","type":%q,"occurredAt":%q,"url":"https://docs.example.com/a"}]}`,
				i, typ, now.Add(time.Duration(i)*time.Second).Format(time.RFC3339))
			if code, body := e.postObserver(ext, batch); code != http.StatusOK || body["accepted"] != 1.0 {
				t.Fatalf("batch %d: %d %v", i, code, body)
			}
		}
		if w := e.app.Soul.Waiting(); w != 1 {
			t.Fatalf("%d users waiting for analysis after two batches, want the one user once", w)
		}
		// Not before the debounce window ends.
		e.clock.Advance(soul.DefaultDebounce - time.Second)
		if w, n := e.app.Soul.Waiting(), runs(); w != 1 || n != 0 {
			t.Fatalf("before the window: %d waiting, %d runs", w, n)
		}
		e.clock.Advance(time.Second)
		select {
		case ev := <-updated:
			if ev.UserID != u.ID {
				t.Fatalf("signature event for %q", ev.UserID)
			}
		case <-ctx.Done():
			t.Fatal("no analysis after the debounce window")
		}
		// The run counts itself after publishing.
		for runs() == 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
		if w, n := e.app.Soul.Waiting(), runs(); w != 0 || n != 1 {
			t.Fatalf("after the window: %d waiting, %d runs, want 0 and 1", w, n)
		}
		if r := e.gql(full, `{ soulSignature { analyzed } }`, nil); dig(r.Data, "soulSignature", "analyzed") != true {
			t.Fatalf("signature after the triggered analysis: %s", r.Raw)
		}
	})
}
