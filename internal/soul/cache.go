package soul

import (
	"context"
	"strings"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/twinme/twinme/internal/privacy"
)

// viewCacheSize bounds the owners' views and the revealed views kept
// (each an LRU of this many users or user × audiences).
const viewCacheSize = 1024

// versioned is a value computed from a user's data at one data version
// (store.DB.UserDataVersion): it is current while the version is.
type versioned[T any] struct {
	version int64
	v       T
}

// viewCache keeps decoded signatures with their insights (per user) and
// revealed views (per user and audience set), each tagged with the data
// version read before it was computed. The version rises in the same
// transaction as every write to the user's insights, signature, privacy
// settings or connections, on any instance, so an entry whose tag still
// matches was computed from exactly the data stored now: a privacy change
// or a new analysis is seen by the next read, here or on any instance.
// Entries are keyed by the owner (and audience), never by the viewer: the
// same owner's view for an audience is the same for everyone who may see it.
type viewCache struct {
	owners   *lru.Cache[string, versioned[ownerRead]]
	revealed *lru.Cache[string, versioned[revealedRead]]
}

// revealedRead is what an audience may see of a signature, and when it was
// analysed.
type revealedRead struct {
	view privacy.View
	an   analyzedAt
}

func newViewCache() *viewCache {
	owners, _ := lru.New[string, versioned[ownerRead]](viewCacheSize)
	revealed, _ := lru.New[string, versioned[revealedRead]](viewCacheSize)
	return &viewCache{owners: owners, revealed: revealed}
}

// dataVersion reads userID's data version, once per request.
func (s *Service) dataVersion(ctx context.Context, userID string) (int64, error) {
	return memoized(ctx, (*memo).versionsTable, userID, func() (int64, error) {
		return s.db.UserDataVersion(ctx, userID)
	})
}

// cachedOwnerView is readOwnerView served from the cache while userID's
// data version holds.
func (s *Service) cachedOwnerView(ctx context.Context, userID string) (ownerRead, error) {
	version, verr := s.dataVersion(ctx, userID)
	if verr == nil {
		if e, ok := s.views.owners.Get(userID); ok && e.version == version {
			return e.v, nil
		}
	}
	v, doc, an, err := s.readOwnerView(ctx, userID)
	r := ownerRead{v, doc, an}
	if err == nil && verr == nil {
		s.views.owners.Add(userID, versioned[ownerRead]{version, r})
	}
	return r, err
}

// cachedRevealed returns compute() — what audiences may see of owner's
// signature — served from the cache while owner's data version holds. The
// version is read before compute reads anything, so an entry is never
// tagged with a version newer than the data it was built from.
func (s *Service) cachedRevealed(ctx context.Context, owner string, audiences []privacy.Audience, compute func() (revealedRead, error)) (revealedRead, error) {
	parts := make([]string, 0, len(audiences)+1)
	parts = append(parts, owner)
	for _, a := range audiences {
		parts = append(parts, string(a))
	}
	key := strings.Join(parts, "\x00")
	version, verr := s.dataVersion(ctx, owner)
	if verr == nil {
		if e, ok := s.views.revealed.Get(key); ok && e.version == version {
			return e.v, nil
		}
	}
	r, err := compute()
	if err == nil && verr == nil {
		s.views.revealed.Add(key, versioned[revealedRead]{version, r})
	}
	return r, err
}
