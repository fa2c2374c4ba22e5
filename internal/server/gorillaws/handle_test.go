package gorillaws_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/server/gorillaws"
)

// TestHandleClosesWithItsCode: code outside gqlgen ends a live socket with
// its own close code (gqlgen alone would send 1000), on both protocols, and
// the socket's subscriptions end with it.
func TestHandleClosesWithItsCode(t *testing.T) {
	for _, proto := range []string{transportWS, legacyWS} {
		t.Run(proto, func(t *testing.T) {
			handles := make(chan *gorillaws.Handle, 1)
			h := testserver.New()
			h.AddTransport(transport.Websocket{Implementation: gorillaws.Implementation{}})
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, hd := gorillaws.WithHandle(r.Context())
				if gorillaws.HandleFrom(ctx) != hd {
					t.Error("HandleFrom does not find the handle")
				}
				handles <- hd
				h.ServeHTTP(w, r.WithContext(ctx))
			}))
			defer srv.Close()
			c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil, proto)
			c.init("")
			c.expect("connection_ack", "", "")
			start := "subscribe"
			if proto == legacyWS {
				start = "start"
				c.expect("ka", "", "")
			}
			c.send(message{ID: "1", Type: start, Payload: []byte(`{"query":"subscription { name }"}`)})
			hd := <-handles
			hd.Close(gorillaws.CloseForbidden, "Forbidden")
			hd.Close(1000, "ignored: only the first Close counts")
			ce := c.closed()
			if ce.Code != gorillaws.CloseForbidden || ce.Text != "Forbidden" {
				t.Fatalf("close %d %q, want 4403 Forbidden", ce.Code, ce.Text)
			}
		})
	}
}

// TestRateLimitedInitClosesWith4429: a connection_init refused as
// RATE_LIMITED (too many sockets, too many failed logins) closes with 4429
// so the client backs off instead of retrying at once.
func TestRateLimitedInitClosesWith4429(t *testing.T) {
	srv := newServer(t, transport.Websocket{InitFunc: gorillaws.GuardInit(func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		return ctx, nil, apperr.New(apperr.RateLimited, "too many open websockets")
	})})
	c := dial(t, srv.url, nil, transportWS)
	c.init("")
	ce := c.closed()
	if ce.Code != gorillaws.CloseTooMany || ce.Text != "Too Many Requests" {
		t.Fatalf("close %d %q, want 4429 Too Many Requests", ce.Code, ce.Text)
	}
}
