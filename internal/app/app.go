// Package app assembles twinme's services from a configuration: the one
// place that knows every dependency. main.go calls it for each command and
// tests use it to drive the real handler.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/graph"
	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/account"
	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/errtrack"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/fleet"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/metrics"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/retention"
	"github.com/twinme/twinme/internal/scheduler"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/server"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/twin"
)

// App is a wired twinme instance.
type App struct {
	Config *config.Config
	Log    *slog.Logger
	Clock  clockwork.Clock
	DB     *store.DB
	Auth   *auth.Service
	// Fleet computes the admin fleet analytics and twinme_fleet_* gauges.
	Fleet *fleet.Service
	// tracker sends errors to Sentry (nil without TWINME_SENTRY_DSN).
	tracker *errtrack.Tracker
	// Keyring encrypts OAuth tokens at rest.
	Keyring *secret.Keyring
	Events  events.Bus
	// Views shares each event's rendering among the subscriptions of a view.
	Views *graph.Views
	// Providers describes every platform (endpoint overrides applied);
	// Platforms holds the configured ones with their OAuth clients.
	Providers map[platform.ID]platform.Provider
	Platforms map[platform.ID]connect.Platform
	Tokens    *connect.Manager
	Connect   *connect.Flow
	Metrics   *metrics.Metrics
	Scheduler *scheduler.Scheduler
	Ingest    *ingest.Service
	Sync      *ingest.Engine
	Soul      *soul.Service
	Twin      *twin.Service
	AILimit   *ratelimit.Limiter
	// Data rights: exports, archive imports, the access log of shared
	// twins, retention choices and account deletion.
	Exports       *export.Service
	ArchiveImport *export.Importer
	AccessLog     *accesslog.Service
	Retention     *retention.Service
	Accounts      *account.Service
	// Limits is where every rate-limit bucket counts: memory, or the Redis
	// of TWINME_REDIS_URL shared by all instances.
	Limits *ratelimit.Store
	// APILimit and AuthFailures are the general and failed-authentication
	// buckets (HTTP and websocket operations alike).
	APILimit, AuthFailures *ratelimit.Limiter
	sockets                *socketGuard
	// responses keeps viewers' dashboard responses while their data
	// version holds (nil when TWINME_RESPONSE_CACHE_BYTES is 0).
	responses *graph.ResponseCache
	stopAuth  context.CancelFunc

	// poll runs the polling engine (platform-polling job).
	poll func(ctx context.Context) (scheduler.Result, error)

	stopEvents context.CancelFunc

	server *server.Server
}

// Options tune New.
type Options struct {
	// Clock defaults to the real clock.
	Clock clockwork.Clock
	// Migrate applies pending migrations after opening the database.
	Migrate bool
	// HTTPClient is used for outgoing calls (Google sign-in); tests point it at fakes.
	HTTPClient *http.Client
}

// New opens the database and wires every service.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, o Options) (*App, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	var tracker *errtrack.Tracker
	if cfg.SentryDSN != "" {
		// Every ERROR record (internal errors, panics, failed jobs) also
		// goes to Sentry, scrubbed; see internal/errtrack.
		var err error
		if tracker, err = errtrack.New(errtrack.Options{DSN: cfg.SentryDSN, Environment: string(cfg.Environment), HTTPClient: o.HTTPClient}); err != nil {
			return nil, err
		}
		log = slog.New(errtrack.Handler(log.Handler(), tracker))
	}
	// The keyring is checked before anything touches the database.
	kr, err := openKeyring(cfg, log)
	if err != nil {
		return nil, err
	}
	limits := ratelimit.Memory()
	if cfg.RedisURL != "" {
		if limits, err = ratelimit.Redis(ctx, cfg.RedisURL, cfg.RedisPrefix, log); err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		_ = limits.Close()
		return nil, err
	}
	if o.Migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		for _, m := range applied {
			log.Info("store: applied migration", slog.String("migration", m))
		}
	}
	a := &App{Config: cfg, Log: log, Clock: o.Clock, DB: db, Keyring: kr, Limits: limits, tracker: tracker}
	h := a.hooks()
	a.Metrics = metrics.New()
	a.Events = a.openEvents(o)
	a.responses = graph.NewResponseCache(cfg.ResponseCacheBytes, db.UserDataVersion)
	a.Auth = auth.NewService(db, o.Clock, log, auth.Options{SessionTTL: cfg.SessionTTL, AdminEmails: cfg.AdminEmails, Bus: a.Events,
		OnEnd: h.credentialEnded})
	authCtx, stopAuth := context.WithCancel(context.Background())
	a.stopAuth = stopAuth
	a.Auth.Listen(authCtx)
	a.APILimit = limits.Limiter("api", cfg.RateLimit.Limit, cfg.RateLimit.Period)
	a.AuthFailures = limits.Limiter("auth-failure", cfg.AuthFailureRateLimit.Limit, cfg.AuthFailureRateLimit.Period)
	a.Views = graph.NewViews(a.Events)
	a.Providers, a.Platforms = platforms(cfg, log)
	a.Tokens = connect.NewManager(db, kr, a.Platforms, connect.Options{
		Margin: cfg.TokenRefreshMargin, HTTPClient: o.HTTPClient, Clock: o.Clock, Logger: log,
		OnStatusChange: h.connectionChanged,
	})
	a.AILimit = limits.Limiter("ai", cfg.AIRateLimit.Limit, cfg.AIRateLimit.Period)
	anthropic := llm.AnthropicConfig{APIKey: cfg.AnthropicAPIKey, Model: cfg.AnthropicModel, BaseURL: cfg.AnthropicBaseURL, HTTPClient: o.HTTPClient, Logger: log, Clock: o.Clock}
	model, remote := llm.ModelFor(anthropic)
	if remote {
		model = fleet.CountingModel(model, "anthropic", db, a.Clock, log)
	}
	platformNames := make([]string, 0, len(platform.All))
	for _, id := range platform.All {
		platformNames = append(platformNames, string(id))
	}
	a.Fleet = fleet.New(db, a.Clock, log, platformNames)
	a.Metrics.Registry().MustRegister(a.Fleet.Collector())
	a.Soul = soul.New(db, soul.Options{Clock: o.Clock, Logger: log, Bus: a.Events, Model: model, OnSharedView: h.sharedView})
	a.Twin = twin.New(twin.Config{DB: db, Views: twinViews{a}, Bus: a.Events, Model: model, Limiter: a.AILimit, Clock: o.Clock, Logger: log, OnGuestAccess: h.guestAccess})
	a.Ingest = ingest.New(db, ingest.Options{ObserverRetention: cfg.ObserverRetention, Analysis: h.dataChanged, Clock: o.Clock, Logger: log,
		ImportLimits: importer.Limits{
			MaxRecordBytes: cfg.ImportMaxRecordBytes, MaxStringBytes: cfg.ImportMaxStringBytes,
			MaxFileBytes: cfg.ImportMaxFileBytes, MaxTotalBytes: cfg.ImportMaxTotalBytes, MaxRatio: cfg.ImportMaxRatio,
		}})
	providers := map[platform.ID]platform.Provider{}
	for id, p := range a.Platforms {
		providers[id] = p.Provider
	}
	a.Sync = ingest.NewEngine(db, a.Tokens, ingest.EngineOptions{
		Providers: providers, HTTPClient: o.HTTPClient, Workers: cfg.SyncWorkers, Interval: cfg.SyncInterval,
		Bus: a.Events, Analysis: h.dataChanged, Clock: o.Clock, Logger: log,
	})
	a.poll = a.runPolling
	a.Connect = connect.NewFlow(a.Tokens, connect.FlowOptions{PublicURL: cfg.PublicURL, AppURL: cfg.AppURL, DeleteData: h.disconnectDelete, SecureCookies: cfg.SecureCookies()})
	if err := a.buildDataRights(h); err != nil {
		a.Close()
		return nil, err
	}
	if a.Scheduler, err = a.buildScheduler(o, h); err != nil {
		a.Close()
		return nil, err
	}
	a.server = a.buildServer(o)
	return a, nil
}

// Close lets running twin replies finish (briefly), stops the event
// listener and releases the database.
func (a *App) Close() error {
	if a.Twin != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.Twin.Shutdown(ctx)
		cancel()
	}
	if a.stopAuth != nil {
		a.stopAuth()
	}
	if a.stopEvents != nil {
		a.stopEvents()
	}
	_ = a.Limits.Close()
	a.tracker.Flush(2 * time.Second)
	return a.DB.Close()
}

// Handler is the root HTTP handler.
func (a *App) Handler() http.Handler { return a.server.Handler() }

// Serve runs the HTTP server on cfg.Listen and the schedule until ctx ends,
// then shuts down in order: stop accepting and close websockets, let
// requests finish, then stop the scheduler (running jobs get 30 seconds to
// finish). The caller closes the database afterwards.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := listen(a.Config.Listen)
	if err != nil {
		return fmt.Errorf("app: listen on %s: %w", a.Config.Listen, err)
	}
	if n, err := a.Twin.RecoverStale(ctx); err != nil {
		a.Log.Warn("app: recover unfinished twin replies", slog.Any("error", err))
	} else if n > 0 {
		a.Log.Info("app: marked twin replies cut by the last shutdown as failed", slog.Int64("replies", n))
	}
	if err := a.Scheduler.Start(); err != nil {
		_ = ln.Close()
		return err
	}
	if a.Config.MetricsListen != "" {
		stop, err := a.serveMetrics()
		if err != nil {
			_ = ln.Close()
			_ = a.Scheduler.Stop(context.Background())
			return err
		}
		defer stop()
	}
	analysisCtx, stopAnalysis := context.WithCancel(context.Background())
	waitAnalysis := a.Soul.Start(analysisCtx)
	exportsCtx, stopExports := context.WithCancel(context.Background())
	waitExports := a.Exports.Start(exportsCtx)
	if ready != nil {
		ready(ln.Addr().String())
	}
	err = a.server.Run(ctx, ln, 20*time.Second)
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if serr := a.Scheduler.Stop(sctx); serr != nil && err == nil {
		err = serr
	}
	stopAnalysis()
	waitAnalysis()
	stopExports()
	waitExports()
	a.Twin.Shutdown(sctx)
	return err
}

// openKeyring loads TWINME_ENCRYPTION_KEYS, or in development a key file
// generated in the data directory (production refuses to start without keys;
// config already checked that).
func openKeyring(cfg *config.Config, log *slog.Logger) (*secret.Keyring, error) {
	if cfg.EncryptionKeys != "" {
		keys, err := secret.ParseKeys(cfg.EncryptionKeys)
		if err != nil {
			return nil, fmt.Errorf("config: TWINME_ENCRYPTION_KEYS %w", err)
		}
		return secret.NewKeyring(keys)
	}
	path := filepath.Join(cfg.DataDir, "encryption.key")
	key, created, err := secret.LoadOrCreateKeyFile(path)
	if err != nil {
		return nil, fmt.Errorf("app: development encryption key: %w", err)
	}
	if created {
		log.Warn("app: TWINME_ENCRYPTION_KEYS is not set; generated a development key file (set the variable in production)", slog.String("path", path))
	}
	return secret.NewKeyring([]secret.Key{key})
}

// twinViews gives twin chat the signature views, always revealed for an
// audience (soul.RevealedView).
type twinViews struct{ a *App }

func (v twinViews) View(ctx context.Context, ownerID string, audiences ...privacy.Audience) (privacy.View, error) {
	return v.a.Soul.RevealedView(ctx, ownerID, audiences...)
}

func (v twinViews) ResolveShare(ctx context.Context, token string) (twin.ShareLink, error) {
	return v.a.Soul.ResolveShare(ctx, token)
}

// ResponseCache is the cache of viewers' dashboard responses (nil when
// disabled), for tests and metrics.
func (a *App) ResponseCache() *graph.ResponseCache { return a.responses }
