package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/graph"
	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/console"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/server"
	"github.com/twinme/twinme/internal/server/gorillaws"
	"github.com/twinme/twinme/internal/store"
)

func (a *App) buildServer(o Options) *server.Server {
	cfg := a.Config
	a.sockets = newSocketGuard(a)
	resolver := &graph.Resolver{
		Auth: a.Auth, Clock: a.Clock, Log: a.Log, Events: a.Events, Views: a.Views,
		Connect: a.Connect, Tokens: a.Tokens, Provider: a.Providers, Jobs: a.Scheduler,
		Ingest: a.Ingest, Sync: a.Sync, Soul: a.Soul, Twin: a.Twin, AILimit: a.AILimit,
		Accounts: a.Accounts, Fleet: a.Fleet,
		Exports: a.Exports, ArchiveImport: a.ArchiveImport, AccessLog: a.AccessLog, Retentions: a.Retention,
	}
	gql := graph.NewHandler(resolver, graph.HandlerOptions{
		MaxComplexity:     cfg.MaxComplexity,
		OpenIntrospection: cfg.Environment == config.Development,
		Websocket:         a.websocket(),
		MaxUploadBytes:    cfg.MaxUploadBytes,
		Extensions:        []graphql.HandlerExtension{a.Metrics.GraphQLExtension(), a.sockets},
		ResponseCache:     a.responses,
	})
	var google *auth.GoogleSignIn
	if cfg.GoogleSignInEnabled() {
		google = auth.NewGoogleSignIn(a.Auth, a.Log, auth.GoogleConfig{
			ClientID: cfg.GoogleClientID, ClientSecret: cfg.GoogleClientSecret,
			IssuerURL: cfg.GoogleIssuerURL, RedirectURL: cfg.PublicURL + "/auth/google/callback",
			AppURL: cfg.AppURL, SecureCookies: cfg.SecureCookies(), HTTPClient: o.HTTPClient,
		})
	}
	adminConsole, err := console.New(console.Options{Endpoint: "/graphql", GoogleSignIn: google != nil, Environment: string(cfg.Environment)})
	if err != nil {
		// The assets are embedded: this is a build defect, not configuration.
		panic("app: admin console: " + err.Error())
	}
	var metricsRoute http.Handler
	if cfg.MetricsListen == "" {
		metricsRoute = a.metricsHandler()
	}
	return server.New(server.Options{
		Config: cfg, Log: a.Log, DB: a.DB, Auth: a.Auth, MaxUploadBytes: cfg.MaxUploadBytes,
		Handlers: server.Handlers{
			GraphQL:        accesslog.Middleware(a.sockets.track(gql)),
			Console:        adminConsole,
			Google:         google,
			OAuthCallback:  http.HandlerFunc(a.Connect.Callback),
			ExportDownload: a.Exports.DownloadHandler(),
			ObserverEvents: a.Ingest.ObserverHandler(),
			CronTrigger:    a.Scheduler.HTTPHandler(cfg.CronSecret),
			Metrics:        metricsRoute,
		},
		Limits: server.Limits{
			API: a.APILimit, AuthFailures: a.AuthFailures,
			Ingest: a.Limits.Limiter("ingest", cfg.IngestRateLimit.Limit, cfg.IngestRateLimit.Period),
		},
		Health: map[string]func(context.Context) any{
			"scheduler": func(context.Context) any { return a.Scheduler.State() },
		},
		Metrics: a.Metrics,
	})
}

// platforms applies configuration to every provider and builds OAuth clients
// for the configured ones.
func platforms(cfg *config.Config, log *slog.Logger) (map[platform.ID]platform.Provider, map[platform.ID]connect.Platform) {
	all := platform.Providers()
	configured := map[platform.ID]connect.Platform{}
	for id, p := range all {
		pc := cfg.Platforms[string(id)]
		if pc.RevokeURL != "" && !p.CanRevoke() {
			// Spotify (and LinkedIn) document no revocation endpoint: an
			// override would make disconnect call a URL that means nothing.
			log.Warn("app: "+p.Name+" has no token revocation endpoint; TWINME_"+strings.ToUpper(string(id))+"_REVOKE_URL is ignored (disconnect deletes the tokens; people remove access in their "+p.Name+" account settings)",
				slog.String("platform", string(id)))
			pc.RevokeURL = ""
		}
		p = p.WithEndpoints(platform.Endpoints{AuthURL: pc.AuthURL, TokenURL: pc.TokenURL, RevokeURL: pc.RevokeURL, APIBaseURL: pc.APIURL})
		all[id] = p
		if pc.Configured() {
			redirect := cfg.PublicURL + "/oauth/" + string(id) + "/callback"
			configured[id] = connect.Platform{Provider: p, OAuth: p.OAuth2Config(pc.ClientID, pc.ClientSecret, redirect)}
		}
	}
	return all, configured
}

// openEvents picks the event bus: in memory on SQLite (one instance), and
// PostgreSQL LISTEN/NOTIFY when instances share a PostgreSQL database.
func (a *App) openEvents(o Options) events.Bus {
	if a.DB.Dialect != store.Postgres {
		return events.NewLocal(a.Log)
	}
	bus := events.NewPostgres(a.DB.DB.DB, a.Config.DatabaseURL, "twinme_events_"+eventChannelSuffix(a.Config.DatabaseURL), a.Log)
	ctx, cancel := context.WithCancel(context.Background())
	a.stopEvents = cancel
	go bus.Run(ctx)
	select {
	case <-bus.Ready():
	case <-time.After(5 * time.Second):
		a.Log.Warn("app: event listener not ready after 5s; live updates may start late")
	}
	return bus
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

// eventChannelSuffix keeps instances on different databases or schemas of
// one PostgreSQL server (NOTIFY channels are per database, schemas are not)
// from hearing each other.
func eventChannelSuffix(databaseURL string) string {
	key := databaseURL
	if u, err := url.Parse(databaseURL); err == nil {
		key = u.Host + u.Path + "?" + u.Query().Get("search_path")
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}
