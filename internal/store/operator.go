package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ListConfigErrorConnections pages (by id, after afterID) through the
// connections in error because the provider rejected our OAuth client (a
// config_fingerprint is set). Served by platform_connections_config_error_idx.
func (db *DB) ListConfigErrorConnections(ctx context.Context, afterID string, limit int) ([]Connection, error) {
	var cs []Connection
	err := db.NewSelect().Model(&cs).
		Where("status = ? AND config_fingerprint <> ''", StatusError).
		Where("id > ?", afterID).
		OrderExpr("id ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list config-error connections: %w", err)
	}
	return cs, nil
}

// RecordRefreshOutcomeUnknown notes a refresh that was sent but whose
// answer never arrived (the provider may have rotated the refresh token):
// like RecordTransientFailure (status unchanged, failure counted, owner's
// lease released), plus refresh_outcome_unknown_at = now.
func (db *DB) RecordRefreshOutcomeUnknown(ctx context.Context, id, owner, message string, now time.Time) (*Connection, error) {
	return db.recordFailure(ctx, id, owner, message, now, "refresh_outcome_unknown_at = ?", UTC(now))
}

// OpsCounter is one maintained counter row: events named name (with label)
// during the hour starting at Hour.
type OpsCounter struct {
	bun.BaseModel `bun:"table:ops_counters"`

	Name  string    `bun:"name,pk"`
	Label string    `bun:"label,pk"`
	Hour  time.Time `bun:"hour,pk"`
	Count int64     `bun:"count,notnull"`
}

// Counter names written by BumpCounter.
const (
	CounterRefresh  = "token_refresh"   // label: platform/outcome
	CounterLLMCalls = "llm_calls"       // label: operation/outcome (ok, error)
	CounterImports  = "imports"         // label: platform
	CounterImported = "imported_items"  // label: platform
	CounterObserver = "observer_events" // label: ""
	CounterAnalysis = "analysis_runs"   // label: ""
	CounterInsights = "insights_stored" // label: ""
)

// BumpCounter adds n to counter (name, label) in now's hour: one UPSERT,
// the same on SQLite and PostgreSQL.
func (db *DB) BumpCounter(ctx context.Context, name, label string, n int64, now time.Time) error {
	if n == 0 {
		return nil
	}
	row := &OpsCounter{Name: name, Label: label, Hour: UTC(now).Truncate(time.Hour), Count: n}
	_, err := db.NewInsert().Model(row).
		On("CONFLICT (name, hour, label) DO UPDATE").
		Set("count = ?TableAlias.count + EXCLUDED.count").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: bump counter %s: %w", name, err)
	}
	return nil
}

// CounterTotals sums counter name per label over the hours starting at or
// after since.
func (db *DB) CounterTotals(ctx context.Context, name string, since time.Time) (map[string]int64, error) {
	var rows []struct {
		Label string `bun:"label"`
		Total int64  `bun:"total"`
	}
	err := db.NewSelect().TableExpr("ops_counters").
		ColumnExpr("label, SUM(count) AS total").
		Where("name = ? AND hour >= ?", name, UTC(since).Truncate(time.Hour)).
		GroupExpr("label").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: counter %s: %w", name, err)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Label] = r.Total
	}
	return out, nil
}

// DeleteCountersBefore removes counter rows of hours before t.
func (db *DB) DeleteCountersBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := db.NewDelete().TableExpr("ops_counters").Where("hour < ?", UTC(t)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete old counters: %w", err)
	}
	return res.RowsAffected()
}

// FleetCounts returns the exact row counts the triggers keep (name "users"
// with label "", name "connections" with label "platform/status").
func (db *DB) FleetCounts(ctx context.Context) (map[string]map[string]int64, error) {
	var rows []struct {
		Name  string `bun:"name"`
		Label string `bun:"label"`
		Total int64  `bun:"total"`
	}
	err := db.NewSelect().TableExpr("fleet_count_deltas").
		ColumnExpr("name, label, SUM(delta) AS total").
		GroupExpr("name, label").Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: fleet counts: %w", err)
	}
	out := map[string]map[string]int64{}
	for _, r := range rows {
		if out[r.Name] == nil {
			out[r.Name] = map[string]int64{}
		}
		out[r.Name][r.Label] = r.Total
	}
	return out, nil
}

// CompactFleetCounts folds the delta rows into one row per key (the
// maintenance job), so FleetCounts reads a few dozen rows; it returns how
// many rows fewer there are. Rows inserted
// meanwhile are not in the snapshot the DELETE sees and stay as they are.
func (db *DB) CompactFleetCounts(ctx context.Context) (folded int64, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if db.Dialect == Postgres {
			return tx.NewRaw(`WITH d AS (DELETE FROM fleet_count_deltas RETURNING name, label, delta),
ins AS (INSERT INTO fleet_count_deltas (name, label, delta)
    SELECT name, label, SUM(delta) FROM d GROUP BY name, label HAVING SUM(delta) <> 0 RETURNING 1)
SELECT (SELECT COUNT(*) FROM d) - (SELECT COUNT(*) FROM ins)`).Scan(ctx, &folded)
		}
		// SQLite: one writer at a time, so nothing interleaves.
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE IF NOT EXISTS fleet_fold (name TEXT, label TEXT, delta INTEGER)`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM fleet_fold`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fleet_fold SELECT name, label, SUM(delta) FROM fleet_count_deltas GROUP BY name, label HAVING SUM(delta) <> 0`); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM fleet_count_deltas`)
		if err != nil {
			return err
		}
		deleted, _ := res.RowsAffected()
		if res, err = tx.ExecContext(ctx, `INSERT INTO fleet_count_deltas (name, label, delta) SELECT name, label, delta FROM fleet_fold`); err != nil {
			return err
		}
		inserted, _ := res.RowsAffected()
		folded = deleted - inserted
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: compact fleet counts: %w", err)
	}
	return folded, nil
}

// PendingOAuthStatesAfter pages (by state hash) through unused OAuth
// states with a sealed PKCE verifier, for key rotation.
func (db *DB) PendingOAuthStatesAfter(ctx context.Context, after string, limit int) ([]OAuthState, error) {
	var ss []OAuthState
	err := db.NewSelect().Model(&ss).
		Where("pkce_verifier_enc <> '' AND used_at IS NULL").
		Where("state > ?", after).
		OrderExpr("state ASC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list oauth states: %w", err)
	}
	return ss, nil
}

// ReplaceVerifierCiphertext swaps a state's sealed PKCE verifier for one
// under another key, only if it is still the one read.
func (db *DB) ReplaceVerifierCiphertext(ctx context.Context, stateHash, old, next string) (bool, error) {
	res, err := db.NewUpdate().Model((*OAuthState)(nil)).
		Set("pkce_verifier_enc = ?", next).
		Where("state = ? AND pkce_verifier_enc = ?", stateHash, old).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: replace verifier ciphertext: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
