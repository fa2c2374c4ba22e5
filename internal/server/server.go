// Package server owns twinme's HTTP surface: routes, middleware (request id,
// access log, CORS, body limit, authentication, rate limits), health, the
// playground, and graceful shutdown.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/metrics"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/store"
)

type viewerSlotKey struct{}

func withViewerSlot(ctx context.Context, p *string) context.Context {
	return context.WithValue(ctx, viewerSlotKey{}, p)
}

// setViewer puts v in ctx and tells the access log who the request is.
func setViewer(ctx context.Context, v *auth.Viewer) context.Context {
	if p, ok := ctx.Value(viewerSlotKey{}).(*string); ok && p != nil {
		*p = v.User.ID
	}
	return auth.WithViewer(ctx, v)
}

// Options are the server's dependencies.
type Options struct {
	Config *config.Config
	Log    *slog.Logger
	DB     *store.DB
	Auth   *auth.Service
	// Handlers are the domain packages' handlers the routes serve
	// (routes.go).
	Handlers Handlers
	// MaxUploadBytes bounds multipart uploads on /graphql.
	MaxUploadBytes int64
	// Health adds sections (e.g. "scheduler") to /api/health.
	Health map[string]func(ctx context.Context) any
	// Metrics counts requests by route and open websockets; nil disables.
	Metrics *metrics.Metrics
	// Limits are the rate-limit buckets; nil ones are built in memory from
	// Config.
	Limits Limits
}

// Limits are the HTTP edge's rate-limit buckets.
type Limits struct {
	// API counts every request per user, or per IP when anonymous.
	API *ratelimit.Limiter
	// Ingest counts browser-extension batches per user.
	Ingest *ratelimit.Limiter
	// AuthFailures counts failed authentications per client address.
	AuthFailures *ratelimit.Limiter
}

// Server is twinme's HTTP server.
type Server struct {
	opts    Options
	handler http.Handler
	limiter *ratelimit.Limiter

	// closeSockets ends every websocket: http.Server.Shutdown does not
	// track hijacked connections.
	socketsCtx   context.Context
	closeSockets context.CancelFunc
}

// New builds the routes.
func New(o Options) *Server {
	s := &Server{opts: o}
	s.socketsCtx, s.closeSockets = context.WithCancel(context.Background())
	c := o.Config
	if o.Limits.API == nil {
		o.Limits.API = ratelimit.New(c.RateLimit.Limit, c.RateLimit.Period)
	}
	if o.Limits.Ingest == nil {
		o.Limits.Ingest = ratelimit.New(c.IngestRateLimit.Limit, c.IngestRateLimit.Period)
	}
	if o.Limits.AuthFailures == nil {
		o.Limits.AuthFailures = ratelimit.New(c.AuthFailureRateLimit.Limit, c.AuthFailureRateLimit.Period)
	}
	s.limiter = o.Limits.API
	s.opts = o
	s.handler = s.routes()
	return s
}

// endWithServer cancels a websocket's context when the server shuts down,
// so gqlgen closes the socket, and an upload's (a long import), so it
// stops within a second of SIGINT instead of holding the shutdown.
func (s *Server) endWithServer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				ctx, cancel := context.WithCancel(r.Context())
				defer cancel()
				stop := context.AfterFunc(s.socketsCtx, cancel)
				defer stop()
				r = r.WithContext(ctx)
			}
			next.ServeHTTP(w, r)
			return
		}
		s.opts.Metrics.WebsocketOpened()
		defer s.opts.Metrics.WebsocketClosed()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		stop := context.AfterFunc(s.socketsCtx, cancel)
		defer stop()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// Handler returns the root handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Limiter is the general request limiter (per user or IP).
func (s *Server) Limiter() *ratelimit.Limiter { return s.limiter }

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	type dbState struct {
		Connected bool    `json:"connected"`
		Dialect   string  `json:"dialect"`
		Error     *string `json:"error"`
	}
	body := map[string]any{"status": "ok", "environment": s.opts.Config.Environment}
	db := dbState{Connected: true, Dialect: string(s.opts.DB.Dialect)}
	status := http.StatusOK
	if err := s.opts.DB.PingContext(ctx); err != nil {
		msg := "database unreachable"
		if s.opts.Config.Environment == config.Development {
			msg = err.Error()
		}
		s.opts.Log.ErrorContext(ctx, "health: database ping failed", slog.Any("error", err))
		db = dbState{Connected: false, Dialect: db.Dialect, Error: &msg}
		body["status"] = "error"
		status = http.StatusServiceUnavailable
	}
	body["database"] = db
	for name, f := range s.opts.Health {
		body[name] = f(ctx)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// logout ends the cookie session and clears the cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if v := auth.ViewerFrom(r.Context()); v != nil {
		if err := s.opts.Auth.Logout(r.Context(), v); err != nil {
			s.opts.Log.ErrorContext(r.Context(), "auth: logout", slog.Any("error", err))
			apperr.WriteJSON(w, http.StatusInternalServerError, apperr.Internal, "logout failed")
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opts.Config.SecureCookies(), SameSite: http.SameSiteLaxMode})
	w.WriteHeader(http.StatusNoContent)
}

// Run serves on the configured address until ctx ends, then shuts down:
// it stops accepting, closes websockets, and lets requests finish within
// grace. It returns once the server is down.
func (s *Server) Run(ctx context.Context, ln net.Listener, grace time.Duration, onShutdown ...func()) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		// net/http's own complaints (and gqlgen's, through the standard
		// logger) go to the structured log, JSON in production.
		ErrorLog: slog.NewLogLogger(s.opts.Log.Handler(), slog.LevelWarn),
	}
	hs.RegisterOnShutdown(s.closeSockets)
	for _, f := range onShutdown {
		hs.RegisterOnShutdown(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = hs.Close()
	}
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
