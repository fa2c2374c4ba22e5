package twin_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/twin"
)

// BenchmarkSendLocalReply measures one message to the local twin on SQLite,
// from Send until the stored reply's Done event: two inserts, the view, the
// history read, the streamed answer and the finishing update.
func BenchmarkSendLocalReply(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	// The limiter is off: the benchmark measures the work, not the allowance.
	f := setup(b, db, twin.Config{Limiter: ratelimit.New(0, time.Minute)})
	ctx := context.Background()
	owner := twin.Owner(f.ada.ID)
	conv, err := f.svc.StartConversation(ctx, owner, "")
	if err != nil {
		b.Fatal(err)
	}
	sub, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := f.svc.Subscribe(sub, owner, conv.ID)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := f.svc.Send(ctx, owner, conv.ID, "What music do you like?"); err != nil {
			b.Fatal(err)
		}
		for ev := range ch {
			if ev.Done {
				break
			}
		}
	}
}
