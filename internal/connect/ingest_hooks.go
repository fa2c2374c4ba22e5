package connect

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/twinme/twinme/internal/store"
)

// MarkNeedsReauth records that a platform API rejected connection id's
// token even after a refresh (or refused it for missing scopes): the person
// must connect again. It changes a connected or token_expired connection to
// needs_reauth with a message naming the platform, and tells OnStatusChange
// like every other status change. It returns the connection as it is now;
// a connection in another status is returned unchanged.
func (m *Manager) MarkNeedsReauth(ctx context.Context, id string) (*store.Connection, error) {
	c, err := m.db.ConnectionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	name := m.platformName(c)
	after, changed, err := m.db.SetConnectionStatus(context.WithoutCancel(ctx), id, store.StatusChange{
		Status: store.StatusNeedsReauth,
		Error:  fmt.Sprintf("%s no longer accepts twinme's access; connect %s again", name, name),
		From:   []store.ConnectionStatus{store.StatusConnected, store.StatusTokenExpired},
	}, m.clock.Now())
	if err != nil {
		return nil, err
	}
	if !changed {
		return m.db.ConnectionByID(ctx, id)
	}
	m.log.Info("connect: platform API rejected the token after a refresh; connection needs reauthorization",
		slog.String("platform", string(c.Platform)), slog.String("connection_id", id))
	m.notify(ctx, *after)
	return after, nil
}
