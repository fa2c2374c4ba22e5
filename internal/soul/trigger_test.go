package soul

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/events"
)

// debounceEnv runs RunTrigger with a fake clock and an analyze that reports
// each call on a channel.
func debounceEnv(t *testing.T) (*Service, *clockwork.FakeClock, chan string) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC))
	s := New(nil, Options{Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	runs := make(chan string, 16)
	s.analyze = func(_ context.Context, userID string) (RunResult, error) {
		runs <- userID
		return RunResult{UserID: userID}, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	wait := s.Start(ctx)
	t.Cleanup(func() { cancel(); wait() })
	return s, clock, runs
}

func noRun(t *testing.T, runs chan string) {
	t.Helper()
	select {
	case u := <-runs:
		t.Fatalf("unexpected analysis of %s", u)
	default:
	}
}

func TestNotifyCoalescesABurstIntoOneRunAfterTheWindow(t *testing.T) {
	s, clock, runs := debounceEnv(t)
	ctx := context.Background()

	s.Notify("ada")
	// The loop has armed its timer for ada.
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	s.Notify("ada")
	s.Notify("ada")
	if s.Waiting() != 1 {
		t.Fatalf("%d users waiting, want ada once", s.Waiting())
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(19 * time.Second) // 29 s after the first notification
	noRun(t, runs)

	clock.Advance(time.Second)
	if u := <-runs; u != "ada" {
		t.Fatalf("analysed %s", u)
	}
	// Nothing waits any more: no second run for the coalesced notifications.
	for s.Waiting() != 0 {
		time.Sleep(time.Millisecond)
	}
	noRun(t, runs)

	// A notification after the run starts a new window.
	s.Notify("ada")
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(DefaultDebounce)
	if u := <-runs; u != "ada" {
		t.Fatalf("analysed %s", u)
	}
}

func TestNotifyKeepsUsersApart(t *testing.T) {
	s, clock, runs := debounceEnv(t)
	ctx := context.Background()
	s.Notify("ada")
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(20 * time.Second)
	s.Notify("bob")
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	if u := <-runs; u != "ada" {
		t.Fatalf("first run for %s, want ada", u)
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	noRun(t, runs)
	clock.Advance(20 * time.Second)
	if u := <-runs; u != "bob" {
		t.Fatalf("second run for %s, want bob", u)
	}
}

// DataChanged is the analysis hook producers are given: it notifies the
// user's debounced analysis whatever the source.
func TestDataChangedNotifies(t *testing.T) {
	s, clock, runs := debounceEnv(t)
	ctx := context.Background()
	var hook events.AnalysisTrigger = s
	hook.DataChanged(ctx, "ada", "spotify")
	hook.DataChanged(ctx, "ada", "observer")
	if s.Waiting() != 1 {
		t.Fatalf("%d users waiting, want ada once", s.Waiting())
	}
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	noRun(t, runs)
	clock.Advance(DefaultDebounce)
	if u := <-runs; u != "ada" {
		t.Fatalf("analysed %s", u)
	}
	noRun(t, runs)
}
