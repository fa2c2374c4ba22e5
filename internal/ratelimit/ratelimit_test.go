package ratelimit_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/ratelimit"
)

func redisStore(t *testing.T, prefix string) *ratelimit.Store {
	t.Helper()
	url := os.Getenv("TWINME_TEST_REDIS_URL")
	if url == "" {
		t.Skip("TWINME_TEST_REDIS_URL is not set (.ci/run sets it)")
	}
	s, err := ratelimit.Redis(context.Background(), url, prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestRedisSharesOneLimit: two stores on one Redis (two instances) enforce
// one limit together; buckets and prefixes never share counts.
func TestRedisSharesOneLimit(t *testing.T) {
	prefix := fmt.Sprintf("test-%d", time.Now().UnixNano())
	a, b := redisStore(t, prefix), redisStore(t, prefix)
	if !a.Shared() {
		t.Fatal("a Redis store says it is not shared")
	}
	la, lb := a.Limiter("api", 5, time.Hour), b.Limiter("api", 5, time.Hour)
	ctx := context.Background()
	allowed := 0
	for i := range 10 {
		l := la
		if i%2 == 1 {
			l = lb
		}
		r, err := l.Take(ctx, "user:u1")
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 10 allowed across two stores, want 5", allowed)
	}
	if r, _ := lb.Take(ctx, "user:u2"); !r.Allowed {
		t.Fatal("another key was limited")
	}
	if r, _ := b.Limiter("ai", 5, time.Hour).Take(ctx, "user:u1"); !r.Allowed {
		t.Fatal("another bucket shares the count")
	}
	if r, _ := redisStore(t, prefix+"-other").Limiter("api", 5, time.Hour).Take(ctx, "user:u1"); !r.Allowed {
		t.Fatal("another prefix shares the count")
	}
}

func TestRedisRefusesAnUnreachableServer(t *testing.T) {
	if _, err := ratelimit.Redis(context.Background(), "redis://127.0.0.1:1/0", "x", nil); err == nil {
		t.Fatal("no error for a Redis that does not answer")
	}
	if _, err := ratelimit.Redis(context.Background(), "not a url", "x", nil); err == nil {
		t.Fatal("no error for a malformed URL")
	}
}

// TestPeekDoesNotCount: the failed-authentication check peeks before it
// counts, and a key that used its whole limit cannot take more.
func TestPeekDoesNotCount(t *testing.T) {
	l := ratelimit.Memory().Limiter("auth-failure", 2, time.Hour)
	ctx := context.Background()
	for range 5 {
		if r, _ := l.Peek(ctx, "ip:1"); !r.Allowed {
			t.Fatal("peek counted")
		}
	}
	_, _ = l.Take(ctx, "ip:1")
	_, _ = l.Take(ctx, "ip:1")
	if r, _ := l.Peek(ctx, "ip:1"); r.Allowed || r.RetryAfter <= 0 {
		t.Fatalf("after the limit: %+v", r)
	}
	if r, _ := ratelimit.Memory().Limiter("x", 0, time.Hour).Peek(ctx, "k"); !r.Allowed {
		t.Fatal("a disabled limiter refused")
	}
}
