// Package ratelimit counts events per key (user or IP) in fixed windows.
// It wraps github.com/ulule/limiter: a maintained limiter with an in-memory
// store and a Redis store, so twinme does not hand-roll window bookkeeping
// and several instances sharing one Redis enforce one limit in total.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	libredis "github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/twinme/twinme/internal/apperr"
)

// Store is where buckets count: this process's memory, or a Redis shared by
// every instance.
type Store struct {
	store  limiter.Store
	client *libredis.Client // nil in memory
}

// Memory returns a store counting in this process only.
func Memory() *Store {
	return &Store{store: memory.NewStoreWithOptions(limiter.StoreOptions{Prefix: "twinme", CleanUpInterval: time.Minute})}
}

// Redis connects to the Redis at url (redis://[:password@]host:port/db or
// rediss:// for TLS) and returns a store whose keys start with prefix; it
// fails when the server does not answer, so a misconfigured instance does not
// start with limits that silently count per instance. The Redis client's own
// messages go to log (go-redis has one process-wide logger).
func Redis(ctx context.Context, url, prefix string, log *slog.Logger) (*Store, error) {
	if log != nil {
		libredis.SetLogger(redisLog{log})
	}
	opts, err := libredis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("ratelimit: TWINME_REDIS_URL: %w", err)
	}
	client := libredis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := client.Ping(pctx).Err(); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("ratelimit: redis at %s: %w", opts.Addr, err)
	}
	st, err := redisstore.NewStoreWithOptions(client, limiter.StoreOptions{Prefix: prefix})
	if err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("ratelimit: redis store: %w", err)
	}
	return &Store{store: st, client: client}, nil
}

// redisLog writes go-redis's messages as structured lines (JSON in production).
type redisLog struct{ log *slog.Logger }

func (l redisLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.WarnContext(ctx, "ratelimit: redis client", slog.String("message", fmt.Sprintf(format, v...)))
}

// Shared reports whether the store is shared between instances (Redis).
func (s *Store) Shared() bool { return s != nil && s.client != nil }

// Close releases the Redis connection, if any.
func (s *Store) Close() error {
	if s == nil || s.client == nil {
		return nil
	}
	return s.client.Close()
}

// Limiter returns bucket's limiter of limit events per period on s; limit 0
// disables it. Buckets never share counts: each key is prefixed with bucket.
func (s *Store) Limiter(bucket string, limit int64, period time.Duration) *Limiter {
	if limit <= 0 {
		return &Limiter{}
	}
	return &Limiter{lim: limiter.New(s.store, limiter.Rate{Period: period, Limit: limit}), bucket: bucket + ":", limit: limit}
}

// Limiter allows Limit events per Period per key. The zero Limit allows everything.
type Limiter struct {
	lim    *limiter.Limiter
	bucket string
	limit  int64
}

// New returns an in-memory limiter of limit events per period; limit 0 disables it.
func New(limit int64, period time.Duration) *Limiter {
	return Memory().Limiter("default", limit, period)
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
	c, err := l.lim.Get(ctx, l.bucket+key)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: %w", err)
	}
	return result(c), nil
}

// Peek reports the state of key without counting an event: Allowed is false
// once the key has used its whole limit.
func (l *Limiter) Peek(ctx context.Context, key string) (Result, error) {
	if !l.Enabled() {
		return Result{Allowed: true, Limit: math.MaxInt64, Remaining: math.MaxInt64}, nil
	}
	c, err := l.lim.Peek(ctx, l.bucket+key)
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: %w", err)
	}
	r := result(c)
	// Peek's Reached means "over"; a key that used exactly its limit can take no more.
	if c.Remaining == 0 {
		r.Allowed = false
		r.RetryAfter = max(time.Until(r.Reset).Round(time.Second), time.Second)
	}
	return r, nil
}

func result(c limiter.Context) Result {
	reset := time.Unix(c.Reset, 0)
	r := Result{Allowed: !c.Reached, Limit: c.Limit, Remaining: c.Remaining, Reset: reset}
	if c.Reached {
		r.RetryAfter = max(time.Until(reset).Round(time.Second), time.Second)
	}
	return r
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
