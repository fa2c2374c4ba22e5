package app

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/server"
	"github.com/twinme/twinme/internal/server/gorillaws"
)

// socketGuard holds the websockets of this instance to the rules HTTP
// requests follow: every operation re-checks its credential and counts
// against its user's (or, anonymous, its address's) bucket; a credential
// that ends closes the socket with 4403; sockets per user and active
// subscriptions per socket and per user are capped.
type socketGuard struct {
	a *App

	mu      sync.Mutex
	sockets map[string]int // user id -> open sockets
	subs    map[string]int // user id -> active subscriptions
}

func newSocketGuard(a *App) *socketGuard {
	return &socketGuard{a: a, sockets: map[string]int{}, subs: map[string]int{}}
}

// socket is one websocket's state, in its context from the upgrade on.
type socket struct {
	handle *gorillaws.Handle
	ip     string

	mu        sync.Mutex
	viewer    *auth.Viewer // nil while anonymous
	subs      int
	stopWatch func()
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

func (s *socket) currentViewer() *auth.Viewer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.viewer
}

// track gives every websocket upgrade a socket and a handle to close it
// with, and releases what it held when the socket ends.
func (g *socketGuard) track(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") == "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, h := gorillaws.WithHandle(r.Context())
		s := &socket{handle: h, ip: server.ClientIP(r)}
		defer g.release(s)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, socketKey{}, s)))
	})
}

// open registers s as a socket of v, or refuses it (RATE_LIMITED) when v's
// user already holds the maximum.
func (g *socketGuard) open(s *socket, v *auth.Viewer) error {
	g.mu.Lock()
	if g.sockets[v.User.ID] >= g.a.Config.MaxSocketsPerUser {
		g.mu.Unlock()
		return apperr.New(apperr.RateLimited, "too many open websockets for this account (at most %d); close one first", g.a.Config.MaxSocketsPerUser)
	}
	g.sockets[v.User.ID]++
	g.mu.Unlock()
	stop := g.a.Auth.Watch(v, func(reason string) {
		g.a.Log.Info("app: closing websocket, its credential ended", slog.String("user_id", v.User.ID), slog.String("reason", reason))
		s.handle.Close(gorillaws.CloseForbidden, "Forbidden")
	})
	s.mu.Lock()
	s.viewer, s.stopWatch = v, stop
	s.mu.Unlock()
	return nil
}

func (g *socketGuard) release(s *socket) {
	s.mu.Lock()
	v, stop, subs := s.viewer, s.stopWatch, s.subs
	s.viewer, s.stopWatch, s.subs = nil, nil, 0
	s.mu.Unlock()
	if stop != nil {
		stop()
	}
	if v == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sockets[v.User.ID]--; g.sockets[v.User.ID] <= 0 {
		delete(g.sockets, v.User.ID)
	}
	if g.subs[v.User.ID] -= subs; g.subs[v.User.ID] <= 0 {
		delete(g.subs, v.User.ID)
	}
}

// startSubscription counts one more active subscription on s, or refuses it.
func (g *socketGuard) startSubscription(s *socket, v *auth.Viewer) error {
	cfg := g.a.Config
	g.mu.Lock()
	defer g.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs >= cfg.MaxSubscriptionsPerSocket {
		return apperr.New(apperr.RateLimited, "too many subscriptions on this websocket (at most %d)", cfg.MaxSubscriptionsPerSocket)
	}
	if v != nil && g.subs[v.User.ID] >= cfg.MaxSubscriptionsPerUser {
		return apperr.New(apperr.RateLimited, "too many subscriptions for this account (at most %d)", cfg.MaxSubscriptionsPerUser)
	}
	s.subs++
	if v != nil {
		g.subs[v.User.ID]++
	}
	return nil
}

func (g *socketGuard) endSubscription(s *socket, v *auth.Viewer) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.subs == 0 { // released with the socket already
		return
	}
	s.subs--
	if v != nil {
		if g.subs[v.User.ID]--; g.subs[v.User.ID] <= 0 {
			delete(g.subs, v.User.ID)
		}
	}
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = (*socketGuard)(nil)

func (*socketGuard) ExtensionName() string                   { return "TwinmeSocketGuard" }
func (*socketGuard) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation runs before every operation; on a websocket it
// re-checks the credential, counts the operation against the bucket and
// applies the subscription caps. HTTP requests passed the same checks in
// the middleware.
func (g *socketGuard) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s := socketFrom(ctx)
	if s == nil {
		return next(ctx)
	}
	key := "ip:" + s.ip
	v := s.currentViewer()
	if v != nil {
		nv, err := g.a.Auth.Revalidate(ctx, v)
		if err != nil {
			if apperr.CodeOf(err) == apperr.Unauthenticated {
				s.handle.Close(gorillaws.CloseForbidden, "Forbidden")
				return refuse(apperr.Unauthenticated, "your sign-in ended; reconnect with a valid credential")
			}
			g.a.Log.ErrorContext(ctx, "app: re-check websocket credential", slog.Any("error", err))
			return refuse(apperr.Internal, "authentication is unavailable right now")
		}
		v = nv
		s.mu.Lock()
		s.viewer = nv
		s.mu.Unlock()
		ctx = auth.WithViewer(ctx, nv)
		key = "user:" + nv.User.ID
	}
	if res, err := g.a.APILimit.Take(ctx, key); err != nil {
		g.a.Log.WarnContext(ctx, "ratelimit: failed open", slog.Any("error", err))
	} else if !res.Allowed {
		return refuse(apperr.RateLimited, "too many requests; retry after "+res.RetryAfter.String())
	}
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Subscription {
		if err := g.startSubscription(s, v); err != nil {
			return refuse(apperr.RateLimited, apperr.MessageOf(err))
		}
		// gqlgen cancels an operation's context when it ends (complete,
		// stop, or the socket closing).
		context.AfterFunc(ctx, func() { g.endSubscription(s, v) })
	}
	return next(ctx)
}

func refuse(code apperr.Code, msg string) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}}})
}

// websocketInit authenticates a websocket from its connection_init payload
// ({"Authorization": "Bearer …"}); without one, the upgrade request's
// session cookie (already in ctx) counts. A refused token counts as a failed
// authentication of the address (4403; 4429 once the address is over its
// allowance). An authenticated socket counts against its user's socket cap
// (4429 above it) and is watched: when its credential ends, it closes. An
// anonymous socket is charged once to its address's bucket.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	s := socketFrom(ctx)
	h := payload.Authorization()
	if h == "" {
		if str, ok := payload["authorization"].(string); ok {
			h = str
		}
	}
	v := auth.ViewerFrom(ctx)
	if h != "" {
		if s != nil {
			if res, err := a.AuthFailures.Peek(ctx, "ip:"+s.ip); err == nil && !res.Allowed {
				return ctx, nil, apperr.New(apperr.RateLimited, "too many failed sign-ins from this address; retry after %s", res.RetryAfter)
			}
		}
		// The bare token is accepted too (GraphiQL users paste it).
		token, ok := auth.BearerToken(h)
		if !ok {
			token = strings.TrimSpace(h)
		}
		var err error
		v, err = a.Auth.AuthenticateToken(ctx, token)
		if err != nil {
			if apperr.CodeOf(err) == apperr.Unauthenticated && s != nil {
				if _, err := a.AuthFailures.Take(ctx, "ip:"+s.ip); err != nil {
					a.Log.WarnContext(ctx, "ratelimit: count failed authentication", slog.Any("error", err))
				}
			}
			return ctx, nil, apperr.New(apperr.Unauthenticated, "invalid token in connection_init")
		}
		ctx = auth.WithViewer(ctx, v)
	}
	if s == nil {
		return ctx, nil, nil
	}
	if v == nil {
		if res, err := a.APILimit.Take(ctx, "ip:"+s.ip); err == nil && !res.Allowed {
			return ctx, nil, apperr.New(apperr.RateLimited, "too many requests; retry after %s", res.RetryAfter)
		}
		return ctx, nil, nil
	}
	if err := a.sockets.open(s, v); err != nil {
		return ctx, nil, err
	}
	return ctx, nil, nil
}
