// Package ratelimit counts requests per key (user or IP) in fixed windows.
// It wraps github.com/ulule/limiter: a maintained limiter with an in-memory
// store (and a Redis store should limits ever need to be shared between
// instances), so twinme does not hand-roll window bookkeeping.
package ratelimit

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"

	"github.com/twinme/twinme/internal/apperr"
)

// Limiter allows Limit events per Period per key. The zero Limit allows everything.
type Limiter struct {
	lim   *limiter.Limiter
	limit int64
}

// New returns a limiter of limit events per period; limit 0 disables it.
func New(limit int64, period time.Duration) *Limiter {
	if limit <= 0 {
		return &Limiter{}
	}
	store := memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "twinme", CleanUpInterval: time.Minute})
	return &Limiter{lim: limiter.New(store, limiter.Rate{Period: period, Limit: limit}), limit: limit}
}

// Enabled reports whether l limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.lim != nil }

// Result is the state of a key after one event.
type Result struct {
	Allowed    bool
	Limit      int64
	Remaining  int64
	Reset      time.Time
	RetryAfter time.Duration
}

// Take counts one event for key.
func (l *Limiter) Take(ctx context.Context, key string) (Result, error) {
	if !l.Enabled() {
		return Result{Allowed: true, Limit: math.MaxInt64, Remaining: math.MaxInt64}, nil
	}
	c, err := l.lim.Get(ctx, key)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: %w", err)
	}
	reset := time.Unix(c.Reset, 0)
	r := Result{Allowed: !c.Reached, Limit: c.Limit, Remaining: c.Remaining, Reset: reset}
	if c.Reached {
		r.RetryAfter = max(time.Until(reset).Round(time.Second), time.Second)
	}
	return r, nil
}

// Check takes one event for key and returns a RATE_LIMITED error when the
// limit is reached.
func (l *Limiter) Check(ctx context.Context, key, what string) error {
	r, err := l.Take(ctx, key)
	if err != nil {
		return err
	}
	if !r.Allowed {
		return apperr.New(apperr.RateLimited, "too many %s; try again in %s", what, r.RetryAfter)
	}
	return nil
}
