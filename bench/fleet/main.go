// Command fleet measures the fleet analytics queries on PostgreSQL with a
// large fleet (1M connections by default). It creates a schema of its own,
// migrates it, fills it through the real tables (so the counting triggers
// run), runs store.FleetAnalytics once to capture every query it issues,
// then prints each query's EXPLAIN (ANALYZE, BUFFERS) plan and its median
// wall time over several runs against the 50 ms budget. The schema is
// dropped at the end (also after an error or Ctrl-C).
//
//	go run ./bench/fleet -database-url 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// It exits 1 when a query's median exceeds the budget.
package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/store"
)

type capture struct {
	mu  sync.Mutex
	sql []string
}

func (c *capture) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }
func (c *capture) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	c.mu.Lock()
	c.sql = append(c.sql, e.Query)
	c.mu.Unlock()
}

func main() {
	dbURL := flag.String("database-url", os.Getenv("TWINME_TEST_DATABASE_URL"), "PostgreSQL URL (a schema of its own is created and dropped)")
	conns := flag.Int("connections", 1_000_000, "platform connections to create (4 per user)")
	runs := flag.Int("runs", 7, "timed runs per query (the median is reported)")
	budget := flag.Duration("budget", 50*time.Millisecond, "largest acceptable median per query")
	flag.Parse()
	if *dbURL == "" {
		fmt.Fprintln(os.Stderr, "fleet: set -database-url or TWINME_TEST_DATABASE_URL to a PostgreSQL database")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ok, err := run(ctx, *dbURL, *conns, *runs, *budget)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
	if !ok {
		os.Exit(1)
	}
}

func run(ctx context.Context, base string, conns, runs int, budget time.Duration) (bool, error) {
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "bench_fleet_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return false, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return false, fmt.Errorf("create schema: %w", err)
	}
	defer func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintln(os.Stderr, "fleet: drop schema:", err)
		} else {
			fmt.Printf("\ndropped schema %s\n", schema)
		}
	}()
	u, err := url.Parse(base)
	if err != nil {
		return false, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	db, err := store.Open(ctx, u.String(), "")
	if err != nil {
		return false, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return false, err
	}

	now := time.Now().UTC()
	users := conns / 4
	fmt.Printf("schema %s: filling %d users, %d connections …\n", schema, users, conns)
	start := time.Now()
	if err := fill(ctx, db, users, now); err != nil {
		return false, err
	}
	fmt.Printf("filled in %s\n", time.Since(start).Round(time.Second))

	// The maintenance job folds the count deltas hourly; an hour of status
	// changes (10,000 here, through the triggers) is what a read sees on
	// top of the folded rows.
	if _, err := db.DB.DB.ExecContext(ctx, `UPDATE platform_connections SET status = 'token_expired' WHERE id IN (
		SELECT id FROM platform_connections WHERE status = 'connected' LIMIT 10000)`); err != nil {
		return false, err
	}
	if _, err := db.DB.DB.ExecContext(ctx, "VACUUM ANALYZE"); err != nil {
		return false, err
	}
	var n struct {
		Conns, Deltas, Counters int64
	}
	_ = db.DB.DB.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM platform_connections), (SELECT COUNT(*) FROM fleet_count_deltas), (SELECT COUNT(*) FROM ops_counters)`).Scan(&n.Conns, &n.Deltas, &n.Counters)
	fmt.Printf("rows: platform_connections %d, fleet_count_deltas %d (after an hour of 10,000 status changes), ops_counters %d\n", n.Conns, n.Deltas, n.Counters)

	platforms := []string{"spotify", "youtube", "github", "discord", "gmail", "linkedin", "slack"}
	c := &capture{}
	db.AddQueryHook(c)
	t0 := time.Now()
	snap, err := db.FleetAnalytics(ctx, now, platforms)
	if err != nil {
		return false, err
	}
	whole := time.Since(t0)
	c.mu.Lock()
	queries := c.sql
	c.sql = nil
	c.mu.Unlock()
	fmt.Printf("\nFleetAnalytics: %d queries, %s in all (first run); users %d, active 7 d %d, 30 d %d\n",
		len(queries), whole.Round(time.Microsecond), snap.Users.Total, snap.Users.Active7, snap.Users.Active30)

	allOK := true
	var medians []time.Duration
	for i, query := range queries {
		var plan []string
		rows, err := db.DB.DB.QueryContext(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+query)
		if err != nil {
			return false, fmt.Errorf("explain %q: %w", query, err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				rows.Close()
				return false, err
			}
			plan = append(plan, line)
		}
		rows.Close()
		times := make([]time.Duration, 0, runs)
		for range runs {
			t := time.Now()
			r, err := db.DB.DB.QueryContext(ctx, query)
			if err != nil {
				return false, err
			}
			for r.Next() {
			}
			r.Close()
			times = append(times, time.Since(t))
		}
		sort.Slice(times, func(a, b int) bool { return times[a] < times[b] })
		med := times[len(times)/2]
		medians = append(medians, med)
		verdict := "ok"
		if med > budget {
			verdict = "OVER BUDGET"
			allOK = false
		}
		fmt.Printf("\n--- query %d: median %s, max %s over %d runs (budget %s): %s\n%s\n", i+1,
			med.Round(time.Microsecond), times[len(times)-1].Round(time.Microsecond), runs, budget, verdict, query)
		for _, l := range plan {
			fmt.Println("    " + l)
		}
	}
	sum := time.Duration(0)
	for _, m := range medians {
		sum += m
	}
	fmt.Printf("\nsum of medians: %s for %d queries; every query within %s: %v\n", sum.Round(time.Microsecond), len(medians), budget, allOK)
	return allOK, nil
}

// fill creates the fleet with set-based SQL: users created over a year, 4
// connections each on distinct platforms with a realistic status mix, last
// syncs over the last two days, sessions and API tokens used over 60 days,
// and 30 days of hourly counters. Row triggers are off while loading (a
// million trigger rows would stand for a million status changes in one
// hour); the maintained counts and last_active_at are then seeded exactly
// as the migration seeds them for an existing fleet.
func fill(ctx context.Context, db *store.DB, users int, now time.Time) error {
	conn, err := db.DB.DB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	// The connection goes back to the pool: triggers on again first.
	defer conn.ExecContext(context.Background(), "RESET session_replication_role") //nolint:errcheck
	if _, err := conn.ExecContext(ctx, "SET session_replication_role = replica"); err != nil {
		return fmt.Errorf("fill: triggers off (needs a superuser): %w", err)
	}
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"users", `INSERT INTO users (id, email, name, role, created_at, updated_at)
			SELECT 'u' || g, 'user' || g || '@example.com', '', 'user', $1::timestamptz - (g % 365) * interval '1 day' - (g % 1440) * interval '1 minute', $1::timestamptz
			FROM generate_series(1, $2) g`, []any{now, users}},
		{"connections", `INSERT INTO platform_connections (id, user_id, platform, status, account_id, access_token_enc, refresh_token_enc,
				token_expires_at, connected_at, last_sync, next_sync_at, last_error, created_at, updated_at)
			SELECT 'c' || g || '-' || k, 'u' || g,
				(ARRAY['spotify','youtube','github','discord','gmail','linkedin','slack'])[1 + (g + k * 2) % 7],
				st.status, 'acct', 'sealed', 'sealed-refresh',
				$1::timestamptz + ((g * 7 + k) % 3600) * interval '1 second', $1::timestamptz - interval '30 days',
				CASE WHEN st.status = 'connected' AND (g + k) % 50 <> 0 THEN $1::timestamptz - ((g * 13 + k) % 2880) * interval '1 minute' END,
				$1::timestamptz + ((g + k) % 1800) * interval '1 second',
				CASE st.status WHEN 'error' THEN 'twinme has a problem with its Spotify setup; the connection resumes by itself once it is fixed, there is nothing you need to do'
					WHEN 'needs_reauth' THEN 'the provider did not accept the authorization; connect again' ELSE '' END,
				$1::timestamptz, $1::timestamptz
			FROM generate_series(1, $2) g, generate_series(0, 3) k,
				LATERAL (SELECT CASE WHEN (g + k) % 100 < 90 THEN 'connected' WHEN (g + k) % 100 < 93 THEN 'needs_reauth'
					WHEN (g + k) % 100 < 94 THEN 'error' WHEN (g + k) % 100 < 95 THEN 'token_expired' ELSE 'disconnected' END AS status) st`,
			[]any{now, users}},
		{"sessions", `INSERT INTO sessions (id, user_id, token_hash, created_at, last_used_at, expires_at)
			SELECT 's' || g, 'u' || (1 + (g * 7) % $2), 'h' || g, $1::timestamptz - interval '60 days',
				$1::timestamptz - (g % 60) * interval '1 day', $1::timestamptz + interval '30 days'
			FROM generate_series(1, $2 / 2) g`, []any{now, users}},
		{"api tokens", `INSERT INTO api_tokens (id, user_id, name, token_hash, scopes, created_at, last_used_at)
			SELECT 't' || g, 'u' || (1 + (g * 11) % $2), 'cli', 'th' || g, 'FULL', $1::timestamptz - interval '90 days',
				$1::timestamptz - (g % 60) * interval '1 day'
			FROM generate_series(1, $2 / 4) g`, []any{now, users}},
		{"counters", `INSERT INTO ops_counters (name, label, hour, count)
			SELECT n.name, n.label, date_trunc('hour', $1::timestamptz) - h * interval '1 hour', 100 + h % 17
			FROM generate_series(0, 24 * 30) h, (VALUES
				('token_refresh', 'spotify/refreshed'), ('token_refresh', 'spotify/transient'), ('token_refresh', 'github/refreshed'),
				('token_refresh', 'youtube/refreshed'), ('token_refresh', 'slack/unknown'), ('token_refresh', 'discord/needs_reauth'),
				('llm_calls', 'anthropic/ok'), ('llm_calls', 'anthropic/error'), ('observer_events', ''), ('imports', 'spotify'),
				('imported_items', 'spotify'), ('analysis_runs', ''), ('insights_stored', '')) AS n(name, label)`, []any{now}},
		// The migration's seeding (20261130160001_operator).
		{"seed counts", `TRUNCATE fleet_count_deltas`, nil},
		{"seed counts", `INSERT INTO fleet_count_deltas (name, label, delta)
			SELECT 'connections', platform || '/' || status, count(*) FROM platform_connections GROUP BY platform, status`, nil},
		{"seed counts", `INSERT INTO fleet_count_deltas (name, label, delta) SELECT 'users', '', count(*) FROM users`, nil},
		{"seed active", `UPDATE users SET last_active_at = a.at FROM (
			SELECT user_id, MAX(last_used_at) AS at FROM (
				SELECT user_id, last_used_at FROM sessions
				UNION ALL
				SELECT user_id, last_used_at FROM api_tokens WHERE last_used_at IS NOT NULL
			) used GROUP BY user_id) a WHERE users.id = a.user_id`, nil},
	}
	for _, s := range steps {
		t := time.Now()
		// Straight to pgx: $n placeholders, no bun formatting.
		if _, err := conn.ExecContext(ctx, s.sql, s.args...); err != nil {
			return fmt.Errorf("fill %s: %w", s.what, err)
		}
		fmt.Printf("  %-12s %s\n", s.what, strings.TrimSpace(time.Since(t).Round(time.Millisecond).String()))
	}
	return nil
}
