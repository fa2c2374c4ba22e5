package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/scheduler"
	"github.com/twinme/twinme/internal/server"
)

// buildScheduler registers twinme's jobs. A malformed configured schedule
// is an error naming its variable.
func (a *App) buildScheduler(o Options, h hooks) (*scheduler.Scheduler, error) {
	cfg := a.Config
	s := scheduler.New(a.DB, a.Clock, a.Log, scheduler.Options{
		Instance: cfg.Instance, Enabled: cfg.Scheduler,
		AlertWebhookURL: cfg.AlertWebhookURL, AlertAfter: cfg.AlertAfter,
		HTTPClient: o.HTTPClient, Metrics: a.Metrics, OnExecution: h.cronRecorded,
	})
	schedule := func(job string) (string, error) {
		v, ok := cfg.Schedules[job]
		if !ok {
			return scheduler.DefaultSchedules[job], nil
		}
		if _, err := scheduler.ParseSchedule(v); err != nil {
			return "", fmt.Errorf("config: %s %v", cfg.ScheduleVars[job], err)
		}
		return v, nil
	}
	jobs := []struct {
		name string
		run  func(ctx context.Context) (scheduler.Result, error)
	}{
		{scheduler.JobTokenRefresh, a.runTokenRefresh},
		{scheduler.JobPlatformPolling, a.runPlatformPolling},
		{scheduler.JobAnalysis, a.runAnalysis},
	}
	for _, j := range jobs {
		sch, err := schedule(j.name)
		if err != nil {
			return nil, err
		}
		if err := s.Register(scheduler.Job{Name: j.name, Schedule: sch, Run: j.run}); err != nil {
			return nil, err
		}
	}
	msch, err := schedule(scheduler.JobMaintenance)
	if err != nil {
		return nil, err
	}
	maint := scheduler.MaintenanceJob(a.DB, a.Clock, scheduler.MaintenanceOptions{
		Schedule: msch, Retention: cfg.CronRetention,
		Steps: []scheduler.CleanupStep{
			{Name: "sessions", Run: a.Auth.DeleteExpiredSessions},
			// Fleet analytics: fold the count deltas, keep 35 days of counters.
			{Name: "fleet_count_deltas", Run: a.DB.CompactFleetCounts},
			{Name: "ops_counters", Run: func(ctx context.Context) (int64, error) {
				return a.DB.DeleteCountersBefore(ctx, a.Clock.Now().AddDate(0, 0, -35))
			}},
			{Name: "oauth_states", Run: func(ctx context.Context) (int64, error) {
				return a.DB.DeleteExpiredOAuthStates(ctx, a.Clock.Now())
			}},
			{Name: "observer_events", Run: a.Ingest.ApplyObserverRetention},
			{Name: "twin_replies", Run: a.Twin.RecoverStale},
			{Name: "data_exports", Run: a.Exports.Maintain},
			{Name: "access_log", Run: a.AccessLog.Prune},
			{Name: "retention", Run: a.Retention.Apply},
		},
	})
	if err := s.Register(maint); err != nil {
		return nil, err
	}
	return s, nil
}

// runTokenRefresh is the 5-minute sweep: every connection expiring within
// the margin is refreshed through the token manager.
func (a *App) runTokenRefresh(ctx context.Context) (scheduler.Result, error) {
	res, err := a.Tokens.Sweep(ctx)
	type outcome struct {
		ConnectionID string `json:"connection_id"`
		UserID       string `json:"user_id"`
		Platform     string `json:"platform"`
		Outcome      string `json:"outcome"`
		Error        string `json:"error,omitempty"`
	}
	per := make([]outcome, 0, len(res.PerConnection))
	for _, o := range res.PerConnection {
		per = append(per, outcome{o.ConnectionID, o.UserID, o.Platform, string(o.Kind), o.Error})
		switch o.Kind {
		case connect.OutcomeRefreshed, connect.OutcomeFresh, connect.OutcomeBackoff:
		default:
			a.Metrics.TokenRefreshFailed(string(o.Kind))
		}
	}
	data := map[string]any{"checked": res.Checked, "refreshed": res.Refreshed, "failed": res.Failed, "connections": per}
	return scheduler.Result{TokensChecked: res.Checked, TokensRefreshed: res.Refreshed, Data: data}, err
}

// runPlatformPolling runs the polling engine once it is installed; until
// then there is nothing to poll and the run says so.
func (a *App) runPlatformPolling(ctx context.Context) (scheduler.Result, error) {
	if a.poll == nil {
		return scheduler.Result{Data: map[string]string{"note": "no polling engine installed"}}, nil
	}
	return a.poll(ctx)
}

// runPolling is one run of the polling engine over every due connection.
func (a *App) runPolling(ctx context.Context) (scheduler.Result, error) {
	res, err := a.Sync.RunDue(ctx)
	// result_data keeps the counts and the connections that did not sync
	// cleanly (at most 200): a run over thousands of connections would
	// otherwise store a large document every 30 minutes.
	var notable []ingest.ConnectionResult
	for _, c := range res.PerConnection {
		if c.Outcome != ingest.OutcomeSynced && len(notable) < 200 {
			notable = append(notable, c)
		}
	}
	res.PerConnection = notable
	return scheduler.Result{PlatformsPolled: res.Connections, Data: res}, err
}

// runAnalysis analyses the users whose data changed since their last analysis.
func (a *App) runAnalysis(ctx context.Context) (scheduler.Result, error) {
	res, err := a.Soul.RunDue(ctx)
	return scheduler.Result{Data: res}, err
}

// metricsHandler serves /metrics, behind TWINME_METRICS_TOKEN when set.
func (a *App) metricsHandler() http.Handler {
	h := a.Metrics.Handler()
	token := a.Config.MetricsToken
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !auth.BearerMatches(r.Header.Get("Authorization"), token) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="twinme-metrics"`)
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveMetrics serves /metrics alone on TWINME_METRICS_LISTEN (a private
// address), so the public listener has no /metrics at all.
func (a *App) serveMetrics() (stop func(), err error) {
	ln, err := listen(a.Config.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("app: listen on TWINME_METRICS_LISTEN %s: %w", a.Config.MetricsListen, err)
	}
	hs := &http.Server{Handler: server.MetricsRoutes(a.metricsHandler()), ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn)}
	go func() { _ = hs.Serve(ln) }()
	a.Log.Info("app: metrics listening", slog.String("addr", ln.Addr().String()))
	return func() { _ = hs.Close() }, nil
}
