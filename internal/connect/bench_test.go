package connect_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// BenchmarkSweep10k: 10,000 connections expiring within the margin,
// refreshed by one Sweep at the default concurrency (8) against a provider
// answering each token request after 20 ms. With 8 requests in flight the
// provider alone allows at most 8/20ms = 400 refreshes/s; the rest is the
// database (lease, re-read, one-statement save) and AES-GCM.
func BenchmarkSweep10k(b *testing.B) {
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) { benchmarkSweep(b, d, 10_000) })
	}
}

func benchmarkSweep(b *testing.B, d store.Dialect, n int) {
	ctx := context.Background()
	db := storetest.Open(b, d)
	f := platformtest.New(b, platform.Spotify, platformtest.WithRotation(true))
	e := newEnv(b, db, f)

	// Connect n people, 8 at a time.
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				u := &store.User{Email: fmt.Sprintf("bench%d@example.com", i), CreatedAt: start, UpdatedAt: start}
				if err := db.CreateUser(ctx, u); err != nil {
					b.Error(err)
					continue
				}
				e.connectUser(u)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if b.Failed() {
		return
	}
	f.SetLatency(20 * time.Millisecond)

	var refreshed int
	var elapsed time.Duration
	for b.Loop() {
		// Everything expires within the margin again.
		e.clock.Advance(55 * time.Minute)
		t0 := time.Now()
		res, err := e.m.Sweep(ctx)
		elapsed += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if res.Refreshed != n || res.Failed != 0 {
			b.Fatalf("sweep refreshed %d, failed %d of %d", res.Refreshed, res.Failed, n)
		}
		refreshed += res.Refreshed
	}
	b.ReportMetric(float64(refreshed)/elapsed.Seconds(), "refreshes/s")
}
