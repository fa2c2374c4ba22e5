// Package fleet gives operators fleet-wide figures: users, connections by
// platform and status (with the reasons of the broken ones), sync
// freshness, token refresh outcomes, imports, browser-extension volume,
// analysis and LLM use. The same snapshot answers the admin GraphQL field
// fleetAnalytics and the twinme_fleet_* Prometheus gauges. Everything comes
// from maintained counts or small index ranges (see store.FleetAnalytics),
// so a scrape stays cheap on a large fleet.
package fleet

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
)

// ScrapeTTL is how long a snapshot serves Prometheus scrapes: several
// scrapers (or instances behind one service) cost one computation.
const ScrapeTTL = 30 * time.Second

// Service computes fleet snapshots.
type Service struct {
	db        *store.DB
	clock     clockwork.Clock
	log       *slog.Logger
	platforms []string

	mu       sync.Mutex
	cached   *store.FleetSnapshot
	cachedAt time.Time
}

// New returns the fleet service; platforms are the ones freshness is
// reported for (every known platform).
func New(db *store.DB, clock clockwork.Clock, log *slog.Logger, platforms []string) *Service {
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{db: db, clock: clock, log: log, platforms: platforms}
}

// Snapshot computes the fleet as it is now.
func (s *Service) Snapshot(ctx context.Context) (*domain.FleetSnapshot, error) {
	snap, err := s.db.FleetAnalytics(ctx, s.clock.Now(), s.platforms)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.cached, s.cachedAt = snap, s.clock.Now()
	s.mu.Unlock()
	return snap, nil
}

// ConnectionHealth counts every connection by platform and status.
func (s *Service) ConnectionHealth(ctx context.Context) ([]domain.ConnectionHealth, error) {
	return s.db.CountConnectionsByPlatformStatus(ctx)
}

func (s *Service) recent(ctx context.Context) (*store.FleetSnapshot, error) {
	s.mu.Lock()
	snap, at := s.cached, s.cachedAt
	s.mu.Unlock()
	if snap != nil && s.clock.Since(at) < ScrapeTTL {
		return snap, nil
	}
	return s.Snapshot(ctx)
}

// Collector exposes the snapshot as twinme_fleet_* gauges.
func (s *Service) Collector() prometheus.Collector { return collector{s} }

var (
	descUsers        = prometheus.NewDesc("twinme_fleet_users", "Users in the database.", nil, nil)
	descActive       = prometheus.NewDesc("twinme_fleet_users_active", "Users who used a session or API token within the window.", []string{"window"}, nil)
	descNew          = prometheus.NewDesc("twinme_fleet_users_new", "Users created on the UTC day (today, yesterday).", []string{"day"}, nil)
	descConnections  = prometheus.NewDesc("twinme_fleet_connections", "Platform connections by platform and status.", []string{"platform", "status"}, nil)
	descProblems     = prometheus.NewDesc("twinme_fleet_connection_problems", "Connections in error or needing reauthorization, by the reason they show.", []string{"platform", "status", "reason"}, nil)
	descSyncAge      = prometheus.NewDesc("twinme_fleet_sync_age_seconds", "Age of the last successful sync of connected connections (quantiles).", []string{"platform", "quantile"}, nil)
	descNeverSynced  = prometheus.NewDesc("twinme_fleet_connections_never_synced", "Connected connections never synced yet.", []string{"platform"}, nil)
	descRefresh      = prometheus.NewDesc("twinme_fleet_token_refreshes_24h", "Token refreshes over the last 24 hours by outcome.", []string{"platform", "outcome"}, nil)
	descActivity     = prometheus.NewDesc("twinme_fleet_activity_24h", "Work over the last 24 hours.", []string{"kind"}, nil)
	descInsights     = prometheus.NewDesc("twinme_fleet_insights", "Insights stored.", nil, nil)
	descScrapeErrors = prometheus.NewDesc("twinme_fleet_scrape_error", "1 when the fleet figures could not be read at this scrape.", nil, nil)
)

type collector struct{ s *Service }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descUsers, descActive, descNew, descConnections, descProblems, descSyncAge,
		descNeverSynced, descRefresh, descActivity, descInsights, descScrapeErrors} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	snap, err := c.s.recent(ctx)
	if err != nil {
		c.s.log.Warn("fleet: metrics snapshot", slog.Any("error", err))
		ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, 0)
	g := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	g(descUsers, float64(snap.Users.Total))
	g(descActive, float64(snap.Users.Active7), "7d")
	g(descActive, float64(snap.Users.Active30), "30d")
	today := snap.At.Truncate(24 * time.Hour)
	var nToday, nYesterday int64
	for _, d := range snap.Users.NewPerDay {
		switch {
		case d.Day.Equal(today):
			nToday = d.Count
		case d.Day.Equal(today.AddDate(0, 0, -1)):
			nYesterday = d.Count
		}
	}
	g(descNew, float64(nToday), "today")
	g(descNew, float64(nYesterday), "yesterday")
	for _, x := range snap.Connections {
		g(descConnections, float64(x.Count), x.Platform, string(x.Status))
	}
	for _, x := range snap.Problems {
		g(descProblems, float64(x.Count), x.Platform, string(x.Status), x.Reason)
	}
	for _, f := range snap.Freshness {
		g(descNeverSynced, float64(f.NeverSynced), f.Platform)
		if f.P50 != nil {
			g(descSyncAge, f.P50.Seconds(), f.Platform, "0.5")
		}
		if f.P95 != nil {
			g(descSyncAge, f.P95.Seconds(), f.Platform, "0.95")
		}
	}
	for _, r := range snap.RefreshOutcomes24h {
		g(descRefresh, float64(r.Count), r.Platform, r.Outcome)
	}
	a := snap.Activity24h
	for kind, v := range map[string]int64{
		"imports": a.Imports, "imported_items": a.ImportedItems, "observer_events": a.ObserverEvents,
		"analysis_runs": a.AnalysisRuns, "insights_stored": a.InsightsStored, "llm_calls": a.LLMCalls, "llm_errors": a.LLMErrors,
	} {
		g(descActivity, float64(v), kind)
	}
	g(descInsights, float64(a.InsightsTotal))
}

// CountingModel wraps an LLM so every call is counted in the fleet counters
// (label "<kind>/ok" or "<kind>/error"): a call that cannot start, or a
// stream that ends with an error, is an error.
func CountingModel(m llm.Model, kind string, db *store.DB, clock clockwork.Clock, log *slog.Logger) llm.Model {
	return countingModel{m: m, kind: kind, db: db, clock: clock, log: log}
}

type countingModel struct {
	m     llm.Model
	kind  string
	db    *store.DB
	clock clockwork.Clock
	log   *slog.Logger
}

var _ llm.Model = countingModel{}

func (c countingModel) count(ctx context.Context, outcome string) {
	if err := c.db.BumpCounter(context.WithoutCancel(ctx), store.CounterLLMCalls, c.kind+"/"+outcome, 1, c.clock.Now()); err != nil {
		c.log.Warn("fleet: count llm call", slog.Any("error", err))
	}
}

func (c countingModel) Stream(ctx context.Context, req llm.Request) (<-chan llm.Chunk, error) {
	in, err := c.m.Stream(ctx, req)
	if err != nil {
		c.count(ctx, "error")
		return nil, err
	}
	out := make(chan llm.Chunk)
	go func() {
		defer close(out)
		outcome := "error" // a stream closed without its last chunk was cut
		defer func() { c.count(ctx, outcome) }()
		for ch := range in {
			if ch.Done && ch.Err == nil {
				outcome = "ok"
			}
			select {
			case out <- ch:
			case <-ctx.Done():
				// The caller left; drain so the model's goroutine ends.
				for range in {
				}
				return
			}
		}
	}()
	return out, nil
}
