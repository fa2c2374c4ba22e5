package graph

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
)

// The cache holds at most its byte budget, dropping the least recently
// used; an entry is served only at the version it was computed at, and an
// older computation never replaces a newer one.
func TestResponseCacheBoundsAndVersions(t *testing.T) {
	c := NewResponseCache(1600, func(context.Context, string) (int64, error) { return 0, nil })
	key := func(i byte) [sha256.Size]byte { return [sha256.Size]byte{i} }
	body := make([]byte, 100) // maxEntry is 1600/16 = 100
	for i := byte(0); i < 20; i++ {
		c.put(&cacheEntry{key: key(i), userID: "u", version: 1, body: body})
		if i == 10 && c.get(key(0), 1) == nil { // keeps 0 recently used
			t.Fatal("entry 0 gone while within budget")
		}
	}
	if c.size > 1600 || len(c.items) != 16 {
		t.Fatalf("size %d bytes, %d entries; want ≤ 1600 and 16", c.size, len(c.items))
	}
	if c.get(key(0), 1) == nil || c.get(key(1), 1) != nil {
		t.Fatal("eviction is not least recently used first")
	}
	if c.get(key(19), 2) != nil {
		t.Fatal("served at another version")
	}
	if c.get(key(19), 1) != nil {
		t.Fatal("an entry found stale is not dropped")
	}
	c.put(&cacheEntry{key: key(30), userID: "u", version: 5, body: []byte("new")})
	c.put(&cacheEntry{key: key(30), userID: "u", version: 4, body: []byte("old")})
	if e := c.get(key(30), 5); e == nil || string(e.body) != "new" {
		t.Fatal("an older computation replaced a newer one")
	}
	c.put(&cacheEntry{key: key(31), userID: "v", version: 1, body: []byte("v")})
	c.Forget("u")
	if len(c.items) != 1 || c.get(key(31), 1) == nil {
		t.Fatalf("Forget(u) left %d entries", len(c.items))
	}
	if NewResponseCache(0, nil) != nil {
		t.Fatal("a zero budget builds a cache")
	}
}

// A body whose operation cannot be cached (me, a mutation) is known after
// its first request: later ones cost no version read and are passed on
// untouched; a cacheable one is served from the cache from its second.
func TestResponseCacheReadsVersionsOnlyForCacheableBodies(t *testing.T) {
	reads := 0
	c := NewResponseCache(1<<20, func(context.Context, string) (int64, error) { reads++; return 7, nil })
	ran := 0
	h := c.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ran++
		body, _ := io.ReadAll(r.Body)
		if m, _ := r.Context().Value(cacheMarkKey{}).(*cacheMark); m != nil {
			m.candidate = strings.Contains(string(body), "privacy")
			m.responses = 1
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	v := &auth.Viewer{User: &domain.User{ID: "u1", Role: domain.RoleUser}, TokenID: "t1", Scopes: []string{auth.ScopeFull}}
	do := func(q string) string {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"`+q+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req = req.WithContext(auth.WithViewer(req.Context(), v))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for i := 0; i < 3; i++ {
		do("{ me { id } }")
	}
	if reads != 1 || ran != 3 {
		t.Fatalf("me ×3: %d version reads, %d executions; want 1 and 3", reads, ran)
	}
	for i := 0; i < 3; i++ {
		if got := do("{ privacy { clusters { level } } }"); got != `{"data":{}}` {
			t.Fatalf("cached body %q", got)
		}
	}
	if reads != 4 || ran != 4 || c.Hits() != 2 {
		t.Fatalf("privacy ×3: %d version reads, %d executions, %d hits; want 4, 4, 2", reads, ran, c.Hits())
	}
}
