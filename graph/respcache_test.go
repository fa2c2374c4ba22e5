package graph

import (
	"context"
	"crypto/sha256"
	"testing"
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
