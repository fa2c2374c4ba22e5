package graph

import (
	"bytes"
	"container/list"
	"context"
	"crypto/sha256"
	"io"
	"mime"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/twinme/twinme/internal/auth"
)

// CacheableRootFields are the root fields whose responses ResponseCache
// may keep: the dashboard's reads. Each is a function of the viewer and
// of rows the data version covers (store.DB.UserDataVersion: the user's
// connections, privacy settings, soul signature and insights) and of
// nothing else — no clock, no other table, no configuration. A field
// added here, or a change making one of these read another table, needs
// that table's version triggers first (migrations *_user_data_versions)
// and a case in TestResponseCacheNeverStale.
var CacheableRootFields = map[string]bool{
	"connections":   true,
	"lifeClusters":  true,
	"privacy":       true,
	"soulSignature": true,
	"insights":      true,
	"__typename":    true,
}

// ResponseCache keeps the bodies of a viewer's own read-only dashboard
// queries and serves them again while nothing they were computed from
// changed.
//
// An entry is keyed by the viewer (user, API token or session, role and
// scopes) and the exact request (body and Accept header), so it is only
// ever served to the credential whose request produced it; and it is
// tagged with the user's data version read before the query ran. The
// version lives in the database and rises in the same transaction as
// every write the cached fields could see, on whichever instance made it:
// an entry is served only while the version read for the new request is
// still the one it was computed at. A write racing the query leaves the
// version above the tag, so at worst a fresh response is computed again.
// A credential that ended is refused by authentication before the cache
// is reached (its entries are dropped too, Forget).
//
// Only POST application/json queries whose root fields are all in
// CacheableRootFields and whose response has no error are kept. A nil
// *ResponseCache caches nothing.
type ResponseCache struct {
	version  func(ctx context.Context, userID string) (int64, error)
	maxBytes int64
	maxEntry int64

	mu    sync.Mutex
	lru   *list.List // of *cacheEntry, most recently used first
	items map[[sha256.Size]byte]*list.Element
	size  int64

	// docs remembers, by the hash of a request body, whether its
	// operation is a cacheable query (that depends on the body alone:
	// document, operation name, variables), so a request that never could
	// be cached (me, a mutation) costs no version read.
	docs *lru.LRU[bool]

	hits, misses atomic.Int64
}

type cacheEntry struct {
	key         [sha256.Size]byte
	userID      string
	version     int64
	contentType string
	body        []byte
}

// NewResponseCache returns a cache holding at most maxBytes of response
// bodies (none larger than maxBytes/16); version reads a user's data
// version (store.DB.UserDataVersion). maxBytes ≤ 0 returns nil: no cache.
func NewResponseCache(maxBytes int64, version func(ctx context.Context, userID string) (int64, error)) *ResponseCache {
	if maxBytes <= 0 {
		return nil
	}
	return &ResponseCache{version: version, maxBytes: maxBytes, maxEntry: max(maxBytes/16, 1),
		lru: list.New(), items: map[[sha256.Size]byte]*list.Element{}, docs: lru.New[bool](1000)}
}

// Hits counts requests served from the cache; Misses counts responses
// computed and kept (for metrics and tests).
func (c *ResponseCache) Hits() int64   { return c.hits.Load() }
func (c *ResponseCache) Misses() int64 { return c.misses.Load() }

// Forget drops every entry of userID (a credential of theirs ended).
func (c *ResponseCache) Forget(userID string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.Front(); e != nil; {
		next := e.Next()
		if ce := e.Value.(*cacheEntry); ce.userID == userID {
			c.removeLocked(e)
		}
		e = next
	}
}

func (c *ResponseCache) removeLocked(e *list.Element) {
	ce := e.Value.(*cacheEntry)
	c.lru.Remove(e)
	delete(c.items, ce.key)
	c.size -= int64(len(ce.body))
}

func (c *ResponseCache) get(key [sha256.Size]byte, version int64) *cacheEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.items[key]
	if !ok {
		return nil
	}
	if ce := e.Value.(*cacheEntry); ce.version == version {
		c.lru.MoveToFront(e)
		return ce
	}
	c.removeLocked(e) // computed from data that changed since
	return nil
}

func (c *ResponseCache) put(ce *cacheEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[ce.key]; ok {
		if e.Value.(*cacheEntry).version > ce.version {
			return // a newer response is there already
		}
		c.removeLocked(e)
	}
	c.items[ce.key] = c.lru.PushFront(ce)
	c.size += int64(len(ce.body))
	for c.size > c.maxBytes {
		c.removeLocked(c.lru.Back())
	}
}

// cacheKey names one credential's exact request (body: the body's hash).
func cacheKey(v *auth.Viewer, accept string, body [sha256.Size]byte) [sha256.Size]byte {
	h := sha256.New()
	for _, part := range []string{v.User.ID, v.TokenID, v.SessionID, string(v.User.Role), strings.Join(v.Scopes, " "), accept} {
		io.WriteString(h, part)
		h.Write([]byte{0})
	}
	h.Write(body[:])
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// wrap serves cached responses in front of next (the gqlgen server).
func (c *ResponseCache) wrap(next http.Handler) http.Handler {
	if c == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := auth.ViewerFrom(r.Context())
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if v == nil || v.User == nil || r.Method != http.MethodPost || mt != "application/json" || r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the body limit answered already
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		ctx := r.Context()
		bodyHash := sha256.Sum256(body)
		doc := string(bodyHash[:])
		if cacheable, known := c.docs.Get(ctx, doc); known && !cacheable {
			next.ServeHTTP(w, r)
			return
		}
		version, err := c.version(ctx, v.User.ID)
		if err != nil {
			next.ServeHTTP(w, r) // no version, no cache: computed as usual
			return
		}
		key := cacheKey(v, strings.Join(r.Header.Values("Accept"), ","), bodyHash)
		if ce := c.get(key, version); ce != nil {
			c.hits.Add(1)
			w.Header().Set("Content-Type", ce.contentType)
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(ce.body)
			return
		}
		m := &cacheMark{}
		rec := &recordingWriter{ResponseWriter: w, limit: c.maxEntry}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(ctx, cacheMarkKey{}, m)))
		c.docs.Add(ctx, doc, m.isCandidate())
		if !m.cacheable() || rec.status != http.StatusOK || rec.overflow || rec.flushed {
			return
		}
		c.misses.Add(1)
		c.put(&cacheEntry{key: key, userID: v.User.ID, version: version,
			contentType: w.Header().Get("Content-Type"), body: rec.buf.Bytes()})
	})
}

// cacheMark is how the gqlgen server tells wrap that the response it
// wrote may be kept: one query of cacheable root fields, answered once,
// without errors.
type cacheMark struct {
	mu        sync.Mutex
	candidate bool
	responses int
	failed    bool
}

type cacheMarkKey struct{}

// isCandidate: the operation is a query of cacheable root fields only
// (whatever its outcome).
func (m *cacheMark) isCandidate() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.candidate
}

func (m *cacheMark) cacheable() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.candidate && m.responses == 1 && !m.failed
}

// markCacheable is the operation middleware filling in a request's
// cacheMark (only wrap puts one in the context).
func markCacheable(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	m, _ := ctx.Value(cacheMarkKey{}).(*cacheMark)
	oc := graphql.GetOperationContext(ctx)
	if m == nil || oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Query {
		return next(ctx)
	}
	candidate := true
	for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Query"}) {
		if !CacheableRootFields[f.Name] {
			candidate = false
		}
	}
	m.mu.Lock()
	m.candidate = candidate
	m.mu.Unlock()
	rh := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := rh(ctx)
		if resp == nil {
			return nil
		}
		m.mu.Lock()
		m.responses++
		if len(resp.Errors) > 0 || resp.HasNext != nil {
			m.failed = true
		}
		m.mu.Unlock()
		return resp
	}
}

// recordingWriter passes a response through and keeps a copy of its body
// (up to limit bytes).
type recordingWriter struct {
	http.ResponseWriter
	status   int
	buf      bytes.Buffer
	limit    int64
	overflow bool
	flushed  bool
}

func (w *recordingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if !w.overflow {
		if int64(w.buf.Len()+len(b)) > w.limit {
			w.overflow = true
			w.buf = bytes.Buffer{}
		} else {
			w.buf.Write(b)
		}
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes through; a flushed response is streamed (incremental
// delivery) and never kept.
func (w *recordingWriter) Flush() {
	w.flushed = true
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
