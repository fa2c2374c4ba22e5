package soul

import (
	"context"
	"sync"

	"github.com/twinme/twinme/internal/privacy"
)

// memo holds what one read-only request has already read of a user, so a
// dashboard asking for lifeClusters, privacy and soulSignature at once
// reads the settings and the owner's view once. It lives only as long as
// the request's context: nothing read in one request reaches another.
type memo struct {
	mu       sync.Mutex
	settings map[string]*memoEntry[privacy.Settings]
	owners   map[string]*memoEntry[ownerRead]
	versions map[string]*memoEntry[int64]
}

type memoEntry[T any] struct {
	once sync.Once
	v    T
	err  error
}

type ownerRead struct {
	view privacy.View
	doc  signatureDoc
	an   analyzedAt
}

type memoKey struct{}

// WithRequestMemo returns ctx carrying an empty per-request memo of
// privacy settings and owners' views. Give it only to read-only requests
// (GraphQL queries): within it a value read once is never read again, so
// a write in the same request would not be seen.
func WithRequestMemo(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{})
}

// memoized returns the value of key in table m (created by pick), reading
// it with read once per request; without a memo in ctx it just reads.
func memoized[T any](ctx context.Context, pick func(*memo) map[string]*memoEntry[T], key string, read func() (T, error)) (T, error) {
	m, _ := ctx.Value(memoKey{}).(*memo)
	if m == nil {
		return read()
	}
	m.mu.Lock()
	table := pick(m)
	e := table[key]
	if e == nil {
		e = &memoEntry[T]{}
		table[key] = e
	}
	m.mu.Unlock()
	e.once.Do(func() { e.v, e.err = read() })
	return e.v, e.err
}

func (m *memo) settingsTable() map[string]*memoEntry[privacy.Settings] {
	if m.settings == nil {
		m.settings = map[string]*memoEntry[privacy.Settings]{}
	}
	return m.settings
}

func (m *memo) ownersTable() map[string]*memoEntry[ownerRead] {
	if m.owners == nil {
		m.owners = map[string]*memoEntry[ownerRead]{}
	}
	return m.owners
}

// settingsOf reads userID's privacy settings, once per request.
func (s *Service) settingsOf(ctx context.Context, userID string) (privacy.Settings, error) {
	return memoized(ctx, (*memo).settingsTable, userID, func() (privacy.Settings, error) {
		return s.db.PrivacySettings(ctx, userID)
	})
}

func (m *memo) versionsTable() map[string]*memoEntry[int64] {
	if m.versions == nil {
		m.versions = map[string]*memoEntry[int64]{}
	}
	return m.versions
}
