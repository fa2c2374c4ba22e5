package gorillaws

import (
	"context"
	"sync"
)

// CloseTooMany is the close code of a socket refused for exceeding a cap or
// rate limit (4429, after HTTP 429); clients should back off before retrying.
const CloseTooMany = 4429

// Handle lets code outside gqlgen end one websocket with a close code of its
// choosing (gqlgen itself closes a socket whose context ends with 1000,
// which clients read as a normal end and reconnect with the same
// credentials). Put one in the upgrade request's context with WithHandle;
// Accept attaches the connection to it.
type Handle struct {
	cancel context.CancelFunc

	mu     sync.Mutex
	c      *conn
	code   int
	reason string
}

type handleKey struct{}

// WithHandle returns a context for the upgrade request that Close can end,
// and the handle.
func WithHandle(ctx context.Context) (context.Context, *Handle) {
	ctx, cancel := context.WithCancel(ctx)
	h := &Handle{cancel: cancel}
	return context.WithValue(ctx, handleKey{}, h), h
}

// HandleFrom returns the handle of ctx, or nil.
func HandleFrom(ctx context.Context) *Handle {
	h, _ := ctx.Value(handleKey{}).(*Handle)
	return h
}

func (h *Handle) attach(c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.c = c
	if h.code != 0 {
		c.overrideClose(h.code, h.reason)
	}
}

// Close ends the websocket with code and reason (at most 123 bytes, shown to
// the client, so never a secret): gqlgen stops every operation of the socket
// and sends the close frame. Only the first Close counts.
func (h *Handle) Close(code int, reason string) {
	h.mu.Lock()
	if h.code == 0 {
		h.code, h.reason = code, reason
		if h.c != nil {
			h.c.overrideClose(code, reason)
		}
	}
	h.mu.Unlock()
	h.cancel()
}
