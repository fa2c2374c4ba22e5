package events_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strconv"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/logx"
)

func recv(t *testing.T, ch <-chan events.Event) (events.Event, bool) {
	t.Helper()
	select {
	case e, ok := <-ch:
		return e, ok
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
		return events.Event{}, false
	}
}

func none(t *testing.T, ch <-chan events.Event) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("unexpected event %+v", e)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestLocalScopesByUserAndKey(t *testing.T) {
	b := events.NewLocal(logx.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	alice := b.Subscribe(ctx, events.Filter{Topic: events.SyncProgress, UserID: "alice"})
	aliceSpotify := b.Subscribe(ctx, events.Filter{Topic: events.SyncProgress, UserID: "alice", Key: "spotify"})
	bob := b.Subscribe(ctx, events.Filter{Topic: events.SyncProgress, UserID: "bob"})

	e, _ := events.New(events.SyncProgress, "alice", "github", map[string]int{"items": 3})
	_ = b.Publish(ctx, e)
	if got, _ := recv(t, alice); got.Key != "github" {
		t.Fatalf("alice got %+v", got)
	}
	none(t, aliceSpotify)
	none(t, bob)

	cancel()
	// Each subscriber is removed (and its channel closed) once ctx ends.
	for _, ch := range []<-chan events.Event{alice, aliceSpotify, bob} {
		if _, ok := recv(t, ch); ok {
			t.Fatal("channel not closed after ctx ended")
		}
	}
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers left after cancel", n)
	}
}

func TestLocalDropsSlowSubscriberWithoutBlocking(t *testing.T) {
	b := events.NewLocal(logx.Discard())
	slow := b.Subscribe(context.Background(), events.Filter{Topic: events.InsightAdded, UserID: "u"})
	fast := b.Subscribe(context.Background(), events.Filter{Topic: events.InsightAdded, UserID: "u"})
	done := make(chan struct{})
	go func() {
		for range fast {
		}
		close(done)
	}()
	for i := 0; i < 1000; i++ { // far beyond the buffer; must not block
		_ = b.Publish(context.Background(), events.Event{Topic: events.InsightAdded, UserID: "u"})
	}
	n := 0
	for range slow {
		n++
	}
	if n == 0 || n >= 1000 {
		t.Fatalf("slow subscriber received %d events, want its buffer then a close", n)
	}
}

func TestPostgresFansOutAcrossInstances(t *testing.T) {
	url := os.Getenv("TWINME_TEST_DATABASE_URL")
	if url == "" {
		t.Skip("TWINME_TEST_DATABASE_URL is not set")
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	channel := "twinme_test_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	one := events.NewPostgres(db, url, channel, logx.Discard())
	two := events.NewPostgres(db, url, channel, logx.Discard())
	go one.Run(ctx)
	go two.Run(ctx)
	<-one.Ready()
	<-two.Ready()
	subOne := one.Subscribe(ctx, events.Filter{Topic: events.ConnectionUpdated, UserID: "alice"})
	subTwo := two.Subscribe(ctx, events.Filter{Topic: events.ConnectionUpdated, UserID: "alice"})
	e, _ := events.New(events.ConnectionUpdated, "alice", "spotify", map[string]string{"status": "NEEDS_REAUTH"})
	if err := one.Publish(ctx, e); err != nil {
		t.Fatal(err)
	}
	for _, ch := range []<-chan events.Event{subOne, subTwo} {
		got, _ := recv(t, ch)
		if got.Key != "spotify" || string(got.Payload) != `{"status":"NEEDS_REAUTH"}` {
			t.Fatalf("got %+v", got)
		}
		none(t, ch) // exactly once per instance
	}
	big := events.Event{Topic: events.ConnectionUpdated, UserID: "alice", Payload: []byte(`"` + string(make([]byte, 0)) + `"`)}
	big.Payload = []byte(`"` + stringOf('x', 9000) + `"`)
	if err := one.Publish(ctx, big); err == nil {
		t.Fatal("oversized event accepted")
	}
}

func stringOf(c byte, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

func TestLocalStateTopicKeepsLatestForSlowSubscriber(t *testing.T) {
	b := events.NewLocal(logx.Discard())
	slow := b.Subscribe(context.Background(), events.Filter{Topic: events.SoulSignatureUpdated, UserID: "u"})
	for i := 0; i < 1000; i++ {
		e, _ := events.New(events.SoulSignatureUpdated, "u", "", map[string]int{"n": i})
		_ = b.Publish(context.Background(), e)
	}
	if n := b.Subscribers(); n != 1 {
		t.Fatalf("a slow subscriber of a state topic was dropped (%d subscribers)", n)
	}
	var last events.Event
	n := 0
	for len(slow) > 0 {
		last = <-slow
		n++
	}
	if n == 0 || n > 64 || string(last.Payload) != `{"n":999}` {
		t.Fatalf("drained %d events ending with %s, want a bounded buffer ending with the latest", n, last.Payload)
	}
}

// BenchmarkPublishAmongManySubscribers publishes to one user among 10,000
// subscribed users: the cost must not grow with everyone else's
// subscriptions (compare -bench with the 10 and 10000 cases).
func BenchmarkPublishAmongManySubscribers(b *testing.B) {
	for _, others := range []int{10, 10000} {
		b.Run(strconv.Itoa(others), func(b *testing.B) {
			bus := events.NewLocal(logx.Discard())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < others; i++ {
				bus.Subscribe(ctx, events.Filter{Topic: events.InsightAdded, UserID: "u" + strconv.Itoa(i)})
			}
			mine := bus.Subscribe(ctx, events.Filter{Topic: events.InsightAdded, UserID: "me"})
			e := events.Event{Topic: events.InsightAdded, UserID: "me"}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_ = bus.Publish(ctx, e)
				<-mine
			}
		})
	}
}
