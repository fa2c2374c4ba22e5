package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// captureQueries records the SQL of every SELECT or UPDATE the store runs.
type captureQueries struct {
	mu  sync.Mutex
	sql []string
}

func (c *captureQueries) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *captureQueries) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sql = append(c.sql, e.Query)
}

func (c *captureQueries) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.sql
	c.sql = nil
	return out
}

// TestKeysetQueriesWalkTheirIndex runs every keyset-paged list (with a
// cursor) and the polling claim, and asks the database how it would run
// each: from an index, with the cursor as an index bound, and with no sort.
// On PostgreSQL sequential scans and sorts are priced out, so a plan that
// still sorts or scans the table has no index to walk.
func TestKeysetQueriesWalkTheirIndex(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		cur := &store.Cursor{Time: t0, ID: "m"}
		hook := &captureQueries{}
		db.AddQueryHook(hook)

		cases := []struct {
			name string
			run  func() error
		}{
			{"users", func() error { _, err := db.ListUsers(ctx, "", cur, 10); return err }},
			{"expiring connections", func() error { _, err := db.ListExpiringConnections(ctx, t0, cur, 10); return err }},
			{"cron executions", func() error {
				_, err := db.ListCronExecutions(ctx, store.CronExecutionFilter{}, cur, 10)
				return err
			}},
			{"cron executions of a job", func() error {
				_, err := db.ListCronExecutions(ctx, store.CronExecutionFilter{Job: "analysis"}, cur, 10)
				return err
			}},
			{"platform data", func() error { _, err := db.ListPlatformData(ctx, u.ID, "spotify", "", cur, 10); return err }},
			{"platform data of a type", func() error {
				_, err := db.ListPlatformData(ctx, u.ID, "spotify", "play", cur, 10)
				return err
			}},
			{"insights", func() error { _, err := db.ListInsights(ctx, u.ID, "", cur, 10); return err }},
			{"insights of a cluster", func() error { _, err := db.ListInsights(ctx, u.ID, "personal", cur, 10); return err }},
			{"twin messages", func() error { _, err := db.ListTwinMessages(ctx, "c", cur, 10); return err }},
			{"twin conversations", func() error { _, err := db.ListTwinConversations(ctx, u.ID, cur, 10); return err }},
			{"claim", func() error {
				_, err := db.ClaimDueConnections(ctx, []string{"spotify", "github"}, t0, t0.Add(time.Minute), 1)
				return err
			}},
		}
		for _, c := range cases {
			hook.take()
			if err := c.run(); err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			qs := hook.take()
			if len(qs) != 1 {
				t.Fatalf("%s: %d queries, want 1", c.name, len(qs))
			}
			plan := explain(t, db, qs[0])
			if strings.Contains(plan, "TEMP B-TREE") || strings.Contains(plan, "Sort") ||
				strings.Contains(plan, "Seq Scan") || strings.Contains(plan, "SCAN ") {
				t.Errorf("%s: does not walk an index:\n%s\n%s", c.name, qs[0], plan)
			}
			if c.name != "claim" && !cursorBoundsIndex(plan) {
				t.Errorf("%s: the cursor is not an index bound:\n%s\n%s", c.name, qs[0], plan)
			}
		}
	})
}

func explain(t *testing.T, db *store.DB, query string) string {
	t.Helper()
	var lines []string
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		if db.Dialect == store.Postgres {
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "SET LOCAL enable_sort = off"); err != nil {
				return err
			}
			rows, err := tx.QueryContext(ctx, "EXPLAIN "+query)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var l string
				if err := rows.Scan(&l); err != nil {
					return err
				}
				lines = append(lines, l)
			}
			return rows.Err()
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				return err
			}
			lines = append(lines, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	return strings.Join(lines, "\n")
}

// cursorBoundsIndex reports whether the row-value cursor is part of the
// index search (SQLite's "SEARCH … (… AND (t,id)<(?,?))", PostgreSQL's
// "Index Cond: … ROW(t, id) < ROW(…)"), not a filter applied afterwards.
func cursorBoundsIndex(plan string) bool {
	for _, l := range strings.Split(plan, "\n") {
		if strings.HasPrefix(l, "SEARCH ") && strings.Contains(l, "id)<(?,?)") || strings.HasPrefix(l, "SEARCH ") && strings.Contains(l, "id)>(?,?)") {
			return true
		}
		if strings.Contains(l, "Index Cond:") && strings.Contains(l, "ROW(") {
			return true
		}
	}
	return false
}

// A connection is due for its first sync the moment it is connected, and
// again when it is reconnected after a disconnect: the claim has no IS NULL
// branch, so next_sync_at must never be left empty on a connected row.
func TestNewAndReconnectedConnectionsAreDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", nil, "")
		if c.NextSyncAt == nil || !c.NextSyncAt.Equal(t0) {
			t.Fatalf("next_sync_at of a new connection = %v, want its connection time", c.NextSyncAt)
		}
		_, _, err := db.DisconnectConnection(ctx, u.ID, "spotify", t0)
		storetest.Must(t, err)
		later := t0.Add(time.Hour)
		again := &store.Connection{UserID: u.ID, Platform: "spotify", AccountID: "acct-" + u.ID, ConnectedAt: later}
		storetest.Must(t, db.UpsertConnection(ctx, again, sealed("access2", "")))
		got, err := db.ClaimDueConnections(ctx, []string{"spotify"}, later, later.Add(time.Minute), 10)
		storetest.Must(t, err)
		if len(got) != 1 || got[0].ID != c.ID {
			t.Fatalf("claimed %+v after reconnecting, want the connection", got)
		}
	})
}
