package soul

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/events"
)

// trigger holds the users waiting for a debounced analysis: each is due
// Debounce after the first notification that found it not waiting; later
// notifications before then are coalesced into that run.
type trigger struct {
	clock  clockwork.Clock
	window time.Duration

	mu      sync.Mutex
	pending map[string]time.Time
	wake    chan struct{}
}

func newTrigger(clock clockwork.Clock, window time.Duration) *trigger {
	return &trigger{clock: clock, window: window, pending: map[string]time.Time{}, wake: make(chan struct{}, 1)}
}

func (t *trigger) notify(userID string) {
	t.mu.Lock()
	if _, ok := t.pending[userID]; !ok {
		t.pending[userID] = t.clock.Now().Add(t.window)
	}
	t.mu.Unlock()
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// due removes and returns the users due at now, and the earliest time
// another one is (zero when none waits).
func (t *trigger) due(now time.Time) (users []string, next time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for u, at := range t.pending {
		if !at.After(now) {
			users = append(users, u)
			delete(t.pending, u)
		} else if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	return users, next
}

func (t *trigger) waiting() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}

// Notify asks for an analysis of userID: it runs in RunTrigger's loop
// Debounce after the first Notify that found the user not waiting, so a
// burst of new data (every page of a sync, every observer batch) costs one
// analysis, and one user is analysed at most once per Debounce this way.
// It never blocks.
func (s *Service) Notify(userID string) {
	if userID != "" {
		s.trig.notify(userID)
	}
}

var _ events.AnalysisTrigger = (*Service)(nil)

// DataChanged is the analysis hook every producer of user data is given at
// wiring (sync runs, imports, observer batches, archive imports): it
// notifies userID's debounced analysis (Notify), whatever the source.
func (s *Service) DataChanged(_ context.Context, userID, _ string) { s.Notify(userID) }

// RunTrigger analyses notified users as they fall due, one at a time (the
// SQLite writer is single anyway), until ctx ends; it then returns after
// the analysis under way, if any, finished or saw ctx end.
func (s *Service) RunTrigger(ctx context.Context) {
	for {
		users, next := s.trig.due(s.clock.Now())
		for _, u := range users {
			if ctx.Err() != nil {
				return
			}
			if _, err := s.analyze(ctx, u); err != nil && ctx.Err() == nil {
				s.log.Error("soul: triggered analysis failed", slog.String("user_id", u), slog.Any("error", err))
			}
		}
		if len(users) > 0 {
			continue // time passed while analysing: look again
		}
		var timer clockwork.Timer
		var fire <-chan time.Time
		if !next.IsZero() {
			timer = s.clock.NewTimer(next.Sub(s.clock.Now()))
			fire = timer.Chan()
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-s.trig.wake:
		case <-fire:
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// Start runs RunTrigger in a goroutine; the returned wait blocks until it
// has returned (after ctx ends), for an ordered shutdown.
func (s *Service) Start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.RunTrigger(ctx)
	}()
	return func() { <-done }
}

// Waiting returns how many users wait for a debounced analysis (metrics,
// tests).
func (s *Service) Waiting() int { return s.trig.waiting() }
