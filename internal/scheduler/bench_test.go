package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// BenchmarkRunOverhead measures what the scheduler adds to a run that does
// nothing: the guard, the timeout timer and the cron_executions insert (no
// webhook configured, so no failure-streak queries). Run on SQLite, and on
// PostgreSQL when TWINME_TEST_DATABASE_URL is set.
func BenchmarkRunOverhead(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			s := New(db, clockwork.NewRealClock(), nil, Options{Instance: "bench"})
			if err := s.Register(Job{Name: "noop", Schedule: "every 1h", Run: noop}); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := s.RunNow(ctx, "noop", store.TriggerCLI); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			stop, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			_ = s.Stop(stop)
		})
	}
}

// BenchmarkClaimTick measures one (job, tick) claim, the per-tick cost of
// cross-instance locking.
func BenchmarkClaimTick(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			db := storetest.Open(b, d)
			ctx := context.Background()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := db.ClaimCronTick(ctx, "job", t0.Add(time.Duration(i)*time.Minute), "bench", t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
