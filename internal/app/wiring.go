package app

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/graph"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/server"
	"github.com/twinme/twinme/internal/server/gorillaws"
)

// maxUploadBytes bounds GraphQL multipart uploads (data exports).
const maxUploadBytes = 512 << 20

func (a *App) buildServer(o Options) *server.Server {
	cfg := a.Config
	resolver := &graph.Resolver{Auth: a.Auth, Clock: a.Clock, Log: a.Log}
	gql := graph.NewHandler(resolver, graph.HandlerOptions{
		MaxComplexity:     cfg.MaxComplexity,
		OpenIntrospection: cfg.Environment == config.Development,
		Websocket:         a.websocket(),
		MaxUploadBytes:    maxUploadBytes,
	})
	var google *auth.GoogleSignIn
	if cfg.GoogleSignInEnabled() {
		google = auth.NewGoogleSignIn(a.Auth, a.Log, auth.GoogleConfig{
			ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret,
			IssuerURL: cfg.GoogleIssuerURL, RedirectURL: cfg.PublicURL + "/auth/google/callback",
			AppURL: cfg.AppURL, SecureCookies: cfg.SecureCookies(), HTTPClient: o.HTTPClient,
		})
	}
	return server.New(server.Options{
		Config: cfg, Log: a.Log, DB: a.DB, Auth: a.Auth, GraphQL: gql, Google: google,
		MaxUploadBytes: maxUploadBytes,
	})
}

// websocketInit authenticates a websocket from its connection_init payload
// ({"Authorization": "Bearer …"}); without one, the upgrade request's
// session cookie (already in ctx) counts.
func (a *App) websocketInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	h := payload.Authorization()
	if h == "" {
		if s, ok := payload["authorization"].(string); ok {
			h = s
		}
	}
	if h == "" {
		return ctx, nil, nil
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		token = h
	}
	v, err := a.Auth.AuthenticateToken(ctx, strings.TrimSpace(token))
	if err != nil {
		return ctx, nil, apperr.New(apperr.Unauthenticated, "invalid token in connection_init")
	}
	return auth.WithViewer(ctx, v), nil, nil
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// websocket is the graphql-transport-ws / graphql-ws transport on
// gorilla/websocket: origins from the allow-list (and same-origin),
// authentication in connection_init (refused with 4403), an init timeout and
// keep-alive pings.
func (a *App) websocket() *transport.Websocket {
	limit := int64(64 << 10)
	return &transport.Websocket{
		Implementation: gorillaws.Implementation{
			CheckOrigin: gorillaws.OriginChecker(a.Config.CORSOrigins),
			Logger:      a.Log,
		},
		InitFunc:              gorillaws.GuardInit(a.websocketInit),
		InitTimeout:           10 * time.Second,
		KeepAlivePingInterval: 25 * time.Second,
		PingPongInterval:      30 * time.Second,
		PayloadReadLimit:      &limit,
	}
}
