package graph

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/logx"
)

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// One rendering per event for every subscriber of a view; a subscriber that
// never reads is dropped without holding up the others; the last one to
// leave ends the view's bus subscription.
func TestViewsRenderOncePerEvent(t *testing.T) {
	bus := events.NewLocal(logx.Discard())
	vs := NewViews(bus)
	var renders atomic.Int32
	render := func(_ context.Context, e events.Event) (string, bool) {
		renders.Add(1)
		return string(e.Payload), true
	}
	f := events.Filter{Topic: events.InsightAdded, UserID: "u"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fast := share(ctx, vs, f, "", render)
	slowCtx, slowCancel := context.WithCancel(context.Background())
	defer slowCancel()
	slow := share(slowCtx, vs, f, "", render)
	if n := bus.Subscribers(); n != 1 {
		t.Fatalf("%d bus subscriptions for one view, want 1", n)
	}
	const n = memberBuffer * 3
	for i := 0; i < n; i++ {
		_ = bus.Publish(ctx, events.Event{Topic: events.InsightAdded, UserID: "u", Payload: []byte{'a' + byte(i%26)}})
		<-fast // the reading subscriber gets every event
	}
	if got := renders.Load(); got != n {
		t.Fatalf("%d renderings for %d events, want one each", got, n)
	}
	got := 0
	for range slow {
		got++
	}
	if got != memberBuffer {
		t.Fatalf("the slow subscriber got %d values before being dropped, want its buffer (%d)", got, memberBuffer)
	}
	cancel()
	waitFor(t, func() bool { return bus.Subscribers() == 0 && vs.Subscribers() == 0 })
}

// On a state topic a lagging subscriber keeps its subscription and sees the
// latest state.
func TestViewsStateTopicLatestWins(t *testing.T) {
	bus := events.NewLocal(logx.Discard())
	vs := NewViews(bus)
	var renders atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := events.Filter{Topic: events.SoulSignatureUpdated, UserID: "u"}
	ch := share(ctx, vs, f, "owner", func(_ context.Context, e events.Event) (string, bool) {
		renders.Add(1)
		return string(e.Payload), true
	})
	for i := 0; i < 100; i++ {
		_ = bus.Publish(ctx, events.Event{Topic: events.SoulSignatureUpdated, UserID: "u", Payload: []byte{'0' + byte(i%10)}})
	}
	_ = bus.Publish(ctx, events.Event{Topic: events.SoulSignatureUpdated, UserID: "u", Payload: []byte("last")})
	waitFor(t, func() bool { return len(ch) == 1 && renders.Load() > 0 })
	var v string
	waitFor(t, func() bool {
		select {
		case v = <-ch:
		default:
		}
		return v == "last"
	})
	if vs.Subscribers() != 1 {
		t.Fatal("a lagging subscriber of a state topic was dropped")
	}
}
