package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/domain"
)

// Fleet analytics: every figure comes from a trigger-maintained count
// (fleet_count_deltas), an hourly counter (ops_counters) or a query that
// walks a small index range, so an admin dashboard and a Prometheus scrape
// stay cheap with millions of connections (bench/fleet prints the plans).

// The snapshot's types are the domain's (see domain.FleetSnapshot).
type (
	FleetCount          = domain.FleetCount
	FleetProblem        = domain.FleetProblem
	FleetFreshness      = domain.FleetFreshness
	FleetDay            = domain.FleetDay
	FleetLabelCount     = domain.FleetLabelCount
	FleetUsers          = domain.FleetUsers
	FleetActivity       = domain.FleetActivity
	FleetSnapshot       = domain.FleetSnapshot
	FleetRefreshOutcome = domain.FleetRefreshOutcome
)

// problemReasonsLimit bounds the reasons listed.
const problemReasonsLimit = 100

// FleetAnalytics computes the fleet snapshot at now. platforms lists the
// platforms to report freshness for.
func (db *DB) FleetAnalytics(ctx context.Context, now time.Time, platforms []string) (*FleetSnapshot, error) {
	now = UTC(now)
	s := &FleetSnapshot{At: now}
	counts, err := db.FleetCounts(ctx)
	if err != nil {
		return nil, err
	}
	s.Users.Total = counts["users"][""]
	for label, n := range counts["connections"] {
		p, st, _ := strings.Cut(label, "/")
		if n != 0 {
			s.Connections = append(s.Connections, FleetCount{Platform: p, Status: ConnectionStatus(st), Count: n})
		}
	}
	sort.Slice(s.Connections, func(i, j int) bool {
		a, b := s.Connections[i], s.Connections[j]
		return a.Platform < b.Platform || (a.Platform == b.Platform && a.Status < b.Status)
	})
	s.Activity24h.InsightsTotal = counts["insights"][""]

	if s.Users.NewPerDay, err = db.FleetNewUsers(ctx, now.AddDate(0, 0, -30)); err != nil {
		return nil, err
	}
	if s.Users.Active7, err = db.FleetActiveUsers(ctx, now.AddDate(0, 0, -7)); err != nil {
		return nil, err
	}
	if s.Users.Active30, err = db.FleetActiveUsers(ctx, now.AddDate(0, 0, -30)); err != nil {
		return nil, err
	}
	if s.Problems, err = db.FleetProblems(ctx); err != nil {
		return nil, err
	}
	connected := map[string]int64{}
	for _, c := range s.Connections {
		if c.Status == StatusConnected {
			connected[c.Platform] = c.Count
		}
	}
	for _, p := range platforms {
		f, err := db.FleetFreshness(ctx, p, connected[p], now)
		if err != nil {
			return nil, err
		}
		s.Freshness = append(s.Freshness, f)
	}
	since := now.Add(-24 * time.Hour)
	refresh, err := db.CounterTotals(ctx, CounterRefresh, since)
	if err != nil {
		return nil, err
	}
	for label, n := range refresh {
		p, o, _ := strings.Cut(label, "/")
		s.RefreshOutcomes24h = append(s.RefreshOutcomes24h, FleetRefreshOutcome{Platform: p, Outcome: o, Count: n})
	}
	sort.Slice(s.RefreshOutcomes24h, func(i, j int) bool {
		a, b := s.RefreshOutcomes24h[i], s.RefreshOutcomes24h[j]
		return a.Platform < b.Platform || (a.Platform == b.Platform && a.Outcome < b.Outcome)
	})
	sum := func(name string, match func(label string) bool) (int64, error) {
		m, err := db.CounterTotals(ctx, name, since)
		var n int64
		for l, v := range m {
			if match == nil || match(l) {
				n += v
			}
		}
		return n, err
	}
	a := &s.Activity24h
	for _, f := range []struct {
		dst   *int64
		name  string
		match func(string) bool
	}{
		{&a.Imports, CounterImports, nil},
		{&a.ImportedItems, CounterImported, nil},
		{&a.ObserverEvents, CounterObserver, nil},
		{&a.AnalysisRuns, CounterAnalysis, nil},
		{&a.InsightsStored, CounterInsights, nil},
	} {
		if *f.dst, err = sum(f.name, f.match); err != nil {
			return nil, err
		}
	}
	llm, err := db.CounterTotals(ctx, CounterLLMCalls, since)
	if err != nil {
		return nil, err
	}
	for label, n := range llm {
		a.LLMCalls += n
		if strings.HasSuffix(label, "/error") {
			a.LLMErrors += n
		}
	}
	return s, nil
}

// FleetNewUsers counts sign-ups per UTC day since since (users_created_at_idx).
func (db *DB) FleetNewUsers(ctx context.Context, since time.Time) ([]FleetDay, error) {
	day := "date(created_at)"
	if db.Dialect == Postgres {
		day = "(created_at AT TIME ZONE 'UTC')::date::text"
	}
	var rows []struct {
		Day   string `bun:"day"`
		Count int64  `bun:"count"`
	}
	err := db.NewSelect().TableExpr("users").
		ColumnExpr(day+" AS day, COUNT(*) AS count").
		Where("created_at >= ?", UTC(since)).
		GroupExpr("1").OrderExpr("1").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: new users per day: %w", err)
	}
	out := make([]FleetDay, 0, len(rows))
	for _, r := range rows {
		d, err := time.Parse("2006-01-02", r.Day)
		if err != nil {
			return nil, fmt.Errorf("store: new users per day: day %q: %w", r.Day, err)
		}
		out = append(out, FleetDay{Day: d, Count: r.Count})
	}
	return out, nil
}

// FleetActiveUsers counts the users who used a session or an API token at
// or after since: users.last_active_at, kept by triggers on sessions and
// api_tokens (users_last_active_idx).
func (db *DB) FleetActiveUsers(ctx context.Context, since time.Time) (int64, error) {
	var n int64
	err := db.NewSelect().TableExpr("users").ColumnExpr("COUNT(*)").
		Where("last_active_at >= ?", UTC(since)).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("store: active users: %w", err)
	}
	return n, nil
}

// FleetProblems groups connections in error or needing reauthorization by
// platform, status and reason, largest groups first
// (platform_connections_problem_idx).
func (db *DB) FleetProblems(ctx context.Context) ([]FleetProblem, error) {
	var out []FleetProblem
	err := db.NewSelect().TableExpr("platform_connections").
		ColumnExpr("platform, status, last_error AS reason, COUNT(*) AS count").
		Where("status IN (?, ?)", StatusError, StatusNeedsReauth).
		GroupExpr("platform, status, last_error").
		OrderExpr("count DESC, platform, status, reason").
		Limit(problemReasonsLimit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("store: connection problems: %w", err)
	}
	return out, nil
}

// FleetFreshness computes the p50/p95 age of last_sync of platform's
// connected connections, given connected (their number, from the
// maintained counts): the never-synced ones are counted on a small partial
// index, and each percentile is one row read at its offset in
// platform_connections_platform_last_sync_idx.
func (db *DB) FleetFreshness(ctx context.Context, platform string, connected int64, now time.Time) (FleetFreshness, error) {
	f := FleetFreshness{Platform: platform}
	err := db.NewSelect().TableExpr("platform_connections").ColumnExpr("COUNT(*)").
		Where("platform = ? AND status = ? AND last_sync IS NULL", platform, StatusConnected).
		Scan(ctx, &f.NeverSynced)
	if err != nil {
		return f, fmt.Errorf("store: never synced: %w", err)
	}
	f.Synced = max(connected-f.NeverSynced, 0)
	if f.Synced == 0 {
		return f, nil
	}
	at := func(p float64) (*time.Duration, error) {
		// Newest first, so the p-quantile of the age is at offset p×(n-1).
		off := int64(p * float64(f.Synced-1))
		var ts []time.Time
		err := db.NewSelect().TableExpr("platform_connections").Column("last_sync").
			Where("platform = ? AND status = ? AND last_sync IS NOT NULL", platform, StatusConnected).
			OrderExpr("last_sync DESC").Offset(off).Limit(1).Scan(ctx, &ts)
		if err != nil || len(ts) == 0 {
			return nil, err
		}
		d := now.Sub(ts[0])
		return &d, nil
	}
	if f.P50, err = at(0.50); err != nil {
		return f, fmt.Errorf("store: sync freshness: %w", err)
	}
	if f.P95, err = at(0.95); err != nil {
		return f, fmt.Errorf("store: sync freshness: %w", err)
	}
	return f, nil
}
