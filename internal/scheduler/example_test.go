package scheduler_test

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/metrics"
	"github.com/twinme/twinme/internal/scheduler"
	"github.com/twinme/twinme/internal/store"
)

// Wiring as main.go would do it: register the jobs, mount the HTTP trigger
// and /metrics, start, and stop after the HTTP server on shutdown.
func Example() {
	ctx := context.Background()
	db, err := store.Open(ctx, "", "/tmp/twinme-example")
	if err != nil {
		return
	}
	defer db.Close()
	clock := clockwork.NewRealClock()
	m := metrics.New()
	s := scheduler.New(db, clock, slog.Default(), scheduler.Options{
		Enabled:         true, // TWINME_SCHEDULER != "off"
		AlertWebhookURL: "",   // TWINME_ALERT_WEBHOOK_URL
		Metrics:         m,
		OnExecution:     func(ctx context.Context, e store.CronExecution) { /* publish cronExecutionCompleted */ },
	})
	jobs := []scheduler.Job{
		{Name: scheduler.JobTokenRefresh, Schedule: scheduler.DefaultSchedules[scheduler.JobTokenRefresh],
			Run: func(ctx context.Context) (scheduler.Result, error) { return scheduler.Result{}, nil }},
		scheduler.MaintenanceJob(db, clock, scheduler.MaintenanceOptions{Steps: []scheduler.CleanupStep{
			{Name: "sessions", Run: func(ctx context.Context) (int64, error) { return db.DeleteExpiredSessions(ctx, clock.Now()) }},
		}}),
	}
	for _, j := range jobs {
		if err := s.Register(j); err != nil {
			// A malformed schedule: report it under its variable's name.
			return
		}
	}
	mux := http.NewServeMux()
	mux.Handle("POST /api/cron/{job}", s.HTTPHandler("" /* TWINME_CRON_SECRET */))
	mux.Handle("GET /metrics", m.Handler())
	_ = m.Middleware(mux)

	if err := s.Start(); err != nil {
		return
	}
	stopCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_ = s.Stop(stopCtx)
}
