package scheduler

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

type claim struct {
	instance string
	tick     time.Time
	won      bool
}

// TestTwoInstancesRunEachTickOnce runs two schedulers on one database (one
// SQLite file; one PostgreSQL schema when TWINME_TEST_DATABASE_URL is set),
// with clocks two seconds apart, and checks that every tick ran exactly once.
func TestTwoInstancesRunEachTickOnce(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			open := func() *store.DB {
				db, err := store.Open(ctx, url, "")
				storetest.Must(t, err)
				t.Cleanup(func() { _ = db.Close() })
				_, err = db.Migrate(ctx)
				storetest.Must(t, err)
				return db
			}
			dbA, dbB := open(), open()

			claims := make(chan claim, 100)
			var runsA, runsB atomic.Int32
			start := t0.Add(time.Minute)
			mk := func(db *store.DB, clock *clockwork.FakeClock, name string, runs *atomic.Int32) *harness {
				h := newHarness(t, db, clock, Options{Enabled: true, Instance: name},
					Job{Name: JobTokenRefresh, Schedule: "every 5m", Run: func(context.Context) (Result, error) {
						runs.Add(1)
						return Result{}, nil
					}})
				h.s.afterTick = func(_ string, tick time.Time, won bool) { claims <- claim{name, tick, won} }
				storetest.Must(t, h.s.Start())
				return h
			}
			a := mk(dbA, clockwork.NewFakeClockAt(start), "a", &runsA)
			// b's clock runs two seconds ahead of a's.
			b := mk(dbB, clockwork.NewFakeClockAt(start.Add(2*time.Second)), "b", &runsB)

			const ticks = 4
			for i := 1; i <= ticks; i++ {
				a.waiters(t, 1)
				b.waiters(t, 1)
				step := 5 * time.Minute
				if i == 1 {
					step = 4 * time.Minute // from 12:01 to 12:05
				}
				a.clock.Advance(step)
				b.clock.Advance(step)
				want := t0.Add(time.Duration(i) * 5 * time.Minute)
				winners := 0
				for n := 0; n < 2; n++ {
					select {
					case c := <-claims:
						if !c.tick.Equal(want) {
							t.Fatalf("tick %d: %s claimed %s, want %s", i, c.instance, c.tick, want)
						}
						if c.won {
							winners++
						}
					case <-time.After(guard):
						t.Fatalf("tick %d: an instance never claimed", i)
					}
				}
				if winners != 1 {
					t.Fatalf("tick %d: %d instances won", i, winners)
				}
				// Wait for the winner's run to be recorded before the next tick.
				select {
				case e := <-a.execs:
					if e.Instance != "a" {
						t.Fatalf("a reported %+v", e)
					}
				case e := <-b.execs:
					if e.Instance != "b" {
						t.Fatalf("b reported %+v", e)
					}
				case <-time.After(guard):
					t.Fatalf("tick %d: no run recorded", i)
				}
			}
			if got := runsA.Load() + runsB.Load(); got != ticks {
				t.Fatalf("%d runs for %d ticks (a %d, b %d)", got, ticks, runsA.Load(), runsB.Load())
			}
			es, err := dbA.ListCronExecutions(ctx, store.CronExecutionFilter{Job: JobTokenRefresh}, nil, 100)
			storetest.Must(t, err)
			if len(es) != ticks {
				t.Fatalf("%d rows for %d ticks", len(es), ticks)
			}
		})
	}
}
