package connect

import (
	"context"

	"github.com/twinme/twinme/internal/store"
)

// RefreshSeen runs the refresh a sweep worker runs for row seen, as it read
// it before anything else happened.
func (m *Manager) RefreshSeen(ctx context.Context, seen *store.Connection) (string, error) {
	r, err := m.refreshShared(ctx, seen.ID, seen, false)
	return r.access, err
}
