package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
)

// Data export statuses, as stored.
const (
	ExportPending    = "pending"
	ExportRunning    = "running"
	ExportReady      = "ready"
	ExportFailed     = "failed"
	ExportDownloaded = "downloaded"
	ExportExpired    = "expired"
)

// DataExport is one requested archive of everything twinme holds of a
// user. Its file is <ID>.zip in the export directory; only the SHA-256 of
// the download token is stored.
type DataExport struct {
	bun.BaseModel `bun:"table:data_exports"`

	ID           string     `bun:"id,pk"`
	UserID       string     `bun:"user_id,notnull"`
	Status       string     `bun:"status,notnull"`
	ItemsTotal   int64      `bun:"items_total,notnull"`
	ItemsDone    int64      `bun:"items_done,notnull"`
	SizeBytes    int64      `bun:"size_bytes,notnull"`
	TokenHash    *string    `bun:"token_hash"`
	ErrorMessage string     `bun:"error_message,notnull"`
	Instance     string     `bun:"instance,notnull"`
	HeartbeatAt  *time.Time `bun:"heartbeat_at"`
	CreatedAt    time.Time  `bun:"created_at,notnull"`
	StartedAt    *time.Time `bun:"started_at"`
	FinishedAt   *time.Time `bun:"finished_at"`
	ExpiresAt    time.Time  `bun:"expires_at,notnull"`
	DownloadedAt *time.Time `bun:"downloaded_at"`
}

// ErrExportNotFound is the NOT_FOUND error of an unknown export (or another
// user's, or a download token that is unknown, used or expired: never told
// apart).
var ErrExportNotFound = apperr.New(apperr.NotFound, "export not found")

// CreateDataExport inserts e unless its user already has an export pending
// or running; then that one is returned with created false.
func (db *DB) CreateDataExport(ctx context.Context, e *DataExport) (out *DataExport, created bool, err error) {
	e.CreatedAt, e.ExpiresAt = UTC(e.CreatedAt), UTC(e.ExpiresAt)
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		if !IsUniqueViolation(err) {
			return nil, false, fmt.Errorf("store: create data export: %w", err)
		}
		active := new(DataExport)
		if err := db.NewSelect().Model(active).Where("user_id = ? AND status IN (?, ?)", e.UserID, ExportPending, ExportRunning).Limit(1).Scan(ctx); err != nil {
			return nil, false, fmt.Errorf("store: create data export: %w", err)
		}
		return active, false, nil
	}
	return e, true, nil
}

// DataExportByID returns userID's export id; ErrExportNotFound otherwise.
func (db *DB) DataExportByID(ctx context.Context, userID, id string) (*DataExport, error) {
	e := new(DataExport)
	if err := db.NewSelect().Model(e).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		if IsNoRows(err) {
			return nil, ErrExportNotFound
		}
		return nil, fmt.Errorf("store: data export: %w", err)
	}
	return e, nil
}

// ListDataExports returns userID's newest exports.
func (db *DB) ListDataExports(ctx context.Context, userID string, limit int) ([]DataExport, error) {
	var out []DataExport
	if err := db.NewSelect().Model(&out).Where("user_id = ?", userID).
		OrderExpr("created_at DESC, id DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list data exports: %w", err)
	}
	return out, nil
}

// RotateExportToken replaces the download token of userID's export id
// (pending, running or ready and not expired).
func (db *DB) RotateExportToken(ctx context.Context, userID, id, tokenHash string, now time.Time) (*DataExport, error) {
	e := new(DataExport)
	err := db.NewUpdate().Model(e).Set("token_hash = ?", tokenHash).
		Where("id = ? AND user_id = ? AND status IN (?, ?, ?) AND expires_at > ?", id, userID, ExportPending, ExportRunning, ExportReady, UTC(now)).
		Returning("*").Scan(ctx)
	if err != nil {
		if IsNoRows(err) {
			return nil, ErrExportNotFound
		}
		return nil, fmt.Errorf("store: rotate export token: %w", err)
	}
	return e, nil
}

// ClaimPendingExport marks the oldest pending export as running on
// instance and returns it; nil when none is pending. Two instances never
// claim the same export: the update re-checks the status.
func (db *DB) ClaimPendingExport(ctx context.Context, instance string, now time.Time) (*DataExport, error) {
	now = UTC(now)
	for attempt := 0; attempt < 5; attempt++ {
		var id string
		err := db.NewSelect().Model((*DataExport)(nil)).Column("id").
			Where("status = ?", ExportPending).OrderExpr("created_at ASC").Limit(1).Scan(ctx, &id)
		if IsNoRows(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("store: claim export: %w", err)
		}
		e := new(DataExport)
		err = db.NewUpdate().Model(e).
			Set("status = ?", ExportRunning).Set("instance = ?", instance).
			Set("started_at = ?", now).Set("heartbeat_at = ?", now).
			Where("id = ? AND status = ?", id, ExportPending).Returning("*").Scan(ctx)
		if err == nil {
			return e, nil
		}
		if !IsNoRows(err) {
			return nil, fmt.Errorf("store: claim export: %w", err)
		}
	}
	return nil, nil
}

// ExportProgress records a running export's progress (and its heartbeat).
// It reports false when the export no longer runs (deleted with its user,
// or failed as stale): the writer must stop and remove its file.
func (db *DB) ExportProgress(ctx context.Context, id string, done, total int64, now time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*DataExport)(nil)).
		Set("items_done = ?", done).Set("items_total = ?", total).Set("heartbeat_at = ?", UTC(now)).
		Where("id = ? AND status = ?", id, ExportRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: export progress: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FinishExport marks a running export ready; false when it no longer runs.
func (db *DB) FinishExport(ctx context.Context, id string, done, size int64, now time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*DataExport)(nil)).
		Set("status = ?", ExportReady).Set("items_done = ?", done).Set("items_total = ?", done).
		Set("size_bytes = ?", size).Set("finished_at = ?", UTC(now)).Set("heartbeat_at = ?", UTC(now)).
		Where("id = ? AND status = ?", id, ExportRunning).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: finish export: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FailExport marks a pending or running export failed with a client-safe
// message.
func (db *DB) FailExport(ctx context.Context, id, msg string, now time.Time) error {
	_, err := db.NewUpdate().Model((*DataExport)(nil)).
		Set("status = ?", ExportFailed).Set("error_message = ?", msg).Set("finished_at = ?", UTC(now)).
		Set("token_hash = NULL").
		Where("id = ? AND status IN (?, ?)", id, ExportPending, ExportRunning).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: fail export: %w", err)
	}
	return nil
}

// ClaimExportDownload spends the download token of export id: the export
// must be ready, unexpired and the token's. The token is cleared in the same
// statement, so a second download with it finds nothing. A token that
// matches an export still being written reports pending true.
func (db *DB) ClaimExportDownload(ctx context.Context, id, tokenHash string, now time.Time) (e *DataExport, pending bool, err error) {
	now = UTC(now)
	e = new(DataExport)
	err = db.NewUpdate().Model(e).
		Set("status = ?", ExportDownloaded).Set("downloaded_at = ?", now).Set("token_hash = NULL").
		Where("id = ? AND token_hash = ? AND status = ? AND expires_at > ?", id, tokenHash, ExportReady, now).
		Returning("*").Scan(ctx)
	if err == nil {
		return e, false, nil
	}
	if !IsNoRows(err) {
		return nil, false, fmt.Errorf("store: claim export download: %w", err)
	}
	n, err := db.NewSelect().Model((*DataExport)(nil)).
		Where("id = ? AND token_hash = ? AND status IN (?, ?) AND expires_at > ?", id, tokenHash, ExportPending, ExportRunning, now).Count(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: claim export download: %w", err)
	}
	return nil, n > 0, ErrExportNotFound
}

// ExpireExports marks exports past their expiry expired (and running ones
// whose heartbeat is older than staleBefore failed) and returns their ids,
// whose files the caller deletes. At most limit per call.
func (db *DB) ExpireExports(ctx context.Context, now, staleBefore time.Time, limit int) ([]string, error) {
	now, staleBefore = UTC(now), UTC(staleBefore)
	var ids []string
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids = ids[:0]
		var expired []string
		if err := tx.NewSelect().Model((*DataExport)(nil)).Column("id").
			Where("status IN (?, ?, ?, ?) AND expires_at <= ?", ExportReady, ExportFailed, ExportPending, ExportRunning, now).
			Limit(int64(limit)).Scan(ctx, &expired); err != nil && !IsNoRows(err) {
			return err
		}
		if len(expired) > 0 {
			if _, err := tx.NewUpdate().Model((*DataExport)(nil)).Set("status = ?", ExportExpired).Set("token_hash = NULL").
				Where("id IN (?)", bun.In(expired)).Exec(ctx); err != nil {
				return err
			}
		}
		var stale []string
		if err := tx.NewSelect().Model((*DataExport)(nil)).Column("id").
			Where("status = ? AND heartbeat_at < ?", ExportRunning, staleBefore).
			Limit(int64(limit)).Scan(ctx, &stale); err != nil && !IsNoRows(err) {
			return err
		}
		if len(stale) > 0 {
			if _, err := tx.NewUpdate().Model((*DataExport)(nil)).
				Set("status = ?", ExportFailed).Set("error_message = ?", "the export was interrupted; request a new one").
				Set("finished_at = ?", now).Set("token_hash = NULL").
				Where("id IN (?) AND status = ?", bun.In(stale), ExportRunning).Exec(ctx); err != nil {
				return err
			}
		}
		ids = append(append(ids, expired...), stale...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: expire exports: %w", err)
	}
	return ids, nil
}

// ExportIDs returns the ids of every export of userID (their files are
// deleted with the account).
func (db *DB) ExportIDs(ctx context.Context, userID string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().Model((*DataExport)(nil)).Column("id").Where("user_id = ?", userID).Scan(ctx, &ids); err != nil && !IsNoRows(err) {
		return nil, fmt.Errorf("store: export ids: %w", err)
	}
	return ids, nil
}

// RunningExports returns how many exports are running on instance.
func (db *DB) RunningExports(ctx context.Context, instance string) (int, error) {
	n, err := db.NewSelect().Model((*DataExport)(nil)).Where("status = ? AND instance = ?", ExportRunning, instance).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: running exports: %w", err)
	}
	return int(n), nil
}

// Access log kinds.
const (
	AccessView         = "view"
	AccessConversation = "conversation"
	AccessMessage      = "message"
)

// AccessLogEntry is one non-owner view of a twin through a share link.
type AccessLogEntry struct {
	bun.BaseModel `bun:"table:twin_access_log"`

	ID              string    `bun:"id,pk"`
	OwnerUserID     string    `bun:"owner_user_id,notnull"`
	ShareLinkID     string    `bun:"share_link_id,notnull"`
	Audience        string    `bun:"audience,notnull"`
	Kind            string    `bun:"kind,notnull"`
	ConversationID  *string   `bun:"conversation_id"`
	UserAgentFamily string    `bun:"user_agent_family,notnull"`
	ClientHash      string    `bun:"client_hash,notnull"`
	OccurredAt      time.Time `bun:"occurred_at,notnull"`
}

// Cursor is the entry's keyset position.
func (e AccessLogEntry) Cursor() Cursor { return Cursor{Time: e.OccurredAt, ID: e.ID} }

// InsertAccessLog stores e (its id and time are set by the caller).
func (db *DB) InsertAccessLog(ctx context.Context, e *AccessLogEntry) error {
	e.OccurredAt = UTC(e.OccurredAt)
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert access log: %w", err)
	}
	return nil
}

// ListAccessLog returns ownerID's access log, newest first, after the
// cursor, optionally of one share link.
func (db *DB) ListAccessLog(ctx context.Context, ownerID, shareLinkID string, after *Cursor, limit int) ([]AccessLogEntry, error) {
	var out []AccessLogEntry
	q := db.NewSelect().Model(&out).Where("owner_user_id = ?", ownerID).
		OrderExpr("occurred_at DESC, id DESC").Limit(int64(limit))
	if shareLinkID != "" {
		q = q.Where("share_link_id = ?", shareLinkID)
	}
	if after != nil {
		q = q.Where("(occurred_at, id) < (?, ?)", UTC(after.Time), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list access log: %w", err)
	}
	return out, nil
}

// AccessLogEntryByID returns ownerID's entry id; NOT_FOUND otherwise.
func (db *DB) AccessLogEntryByID(ctx context.Context, ownerID, id string) (*AccessLogEntry, error) {
	e := new(AccessLogEntry)
	if err := db.NewSelect().Model(e).Where("id = ? AND owner_user_id = ?", id, ownerID).Scan(ctx); err != nil {
		if IsNoRows(err) {
			return nil, apperr.New(apperr.NotFound, "access log entry not found")
		}
		return nil, fmt.Errorf("store: access log entry: %w", err)
	}
	return e, nil
}

// EachAccessLog calls fn for every entry of ownerID, oldest first, streamed.
func (db *DB) EachAccessLog(ctx context.Context, ownerID string, fn func(AccessLogEntry) error) error {
	rows, err := db.NewSelect().Model((*AccessLogEntry)(nil)).Where("owner_user_id = ?", ownerID).
		OrderExpr("occurred_at ASC, id ASC").Rows(ctx)
	if err != nil {
		return fmt.Errorf("store: read access log: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var e AccessLogEntry
		if err := db.ScanRow(ctx, rows, &e); err != nil {
			return fmt.Errorf("store: read access log: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// deleteChunk bounds one delete of a batched sweep: each chunk is its own
// short statement, so neither SQLite's write lock nor PostgreSQL row locks
// are held for long.
const deleteChunk = 5000

// deleteInChunks runs del (which deletes at most deleteChunk rows) until it
// deletes fewer, and returns the total.
func deleteInChunks(ctx context.Context, what string, del func(ctx context.Context) (sql.Result, error)) (int64, error) {
	var total int64
	for {
		res, err := del(ctx)
		if err != nil {
			return total, fmt.Errorf("store: delete %s: %w", what, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: delete %s: %w", what, err)
		}
		total += n
		if n < deleteChunk {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: delete %s: %w", what, err)
		}
	}
}

// DeleteAccessLogBefore deletes entries older than before, in chunks.
func (db *DB) DeleteAccessLogBefore(ctx context.Context, before time.Time) (int64, error) {
	before = UTC(before)
	return deleteInChunks(ctx, "access log", func(ctx context.Context) (sql.Result, error) {
		sub := db.NewSelect().Model((*AccessLogEntry)(nil)).Column("id").Where("occurred_at < ?", before).Limit(deleteChunk)
		return db.NewDelete().Model((*AccessLogEntry)(nil)).Where("id IN (?)", sub).Exec(ctx)
	})
}

// DeleteShareLink deletes userID's link id and its access log.
// ErrShareLinkNotFound when userID has no such link.
func (db *DB) DeleteShareLink(ctx context.Context, userID, id string) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewDelete().Model((*AccessLogEntry)(nil)).Where("share_link_id = ? AND owner_user_id = ?", id, userID).Exec(ctx); err != nil {
			return fmt.Errorf("store: delete share link: %w", err)
		}
		res, err := tx.NewDelete().Model((*ShareLink)(nil)).Where("id = ? AND user_id = ?", id, userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store: delete share link: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrShareLinkNotFound
		}
		return nil
	})
}

// ShareLinkByID returns userID's link id; ErrShareLinkNotFound otherwise.
func (db *DB) ShareLinkByID(ctx context.Context, userID, id string) (*ShareLink, error) {
	l := new(ShareLink)
	if err := db.NewSelect().Model(l).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		if IsNoRows(err) {
			return nil, ErrShareLinkNotFound
		}
		return nil, fmt.Errorf("store: share link: %w", err)
	}
	return l, nil
}

// RetentionObserver is the retention source of browser-extension events;
// every other source is a platform name.
const RetentionObserver = "observer"

// Retention is one person's choice of how long raw items of a source are
// kept.
type Retention struct {
	bun.BaseModel `bun:"table:data_retention"`

	UserID    string    `bun:"user_id,pk"`
	Source    string    `bun:"source,pk"`
	Days      int       `bun:"days,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// SetRetention stores userID's retention of source in days, or removes it
// (the service default) when days is nil.
func (db *DB) SetRetention(ctx context.Context, userID, source string, days *int, now time.Time) error {
	if days == nil {
		if _, err := db.NewDelete().Model((*Retention)(nil)).Where("user_id = ? AND source = ?", userID, source).Exec(ctx); err != nil {
			return fmt.Errorf("store: clear retention: %w", err)
		}
		return nil
	}
	r := Retention{UserID: userID, Source: source, Days: *days, UpdatedAt: UTC(now)}
	if _, err := db.NewInsert().Model(&r).On("CONFLICT (user_id, source) DO UPDATE").
		Set("days = EXCLUDED.days").Set("updated_at = EXCLUDED.updated_at").Exec(ctx); err != nil {
		return fmt.Errorf("store: set retention: %w", err)
	}
	return nil
}

// Retentions returns userID's retention choices by source.
func (db *DB) Retentions(ctx context.Context, userID string) (map[string]int, error) {
	var rows []Retention
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: retentions: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Source] = r.Days
	}
	return out, nil
}

// RetentionRules returns up to limit choices of every user after the
// keyset (userID, source), in that order.
func (db *DB) RetentionRules(ctx context.Context, afterUser, afterSource string, limit int) ([]Retention, error) {
	var out []Retention
	q := db.NewSelect().Model(&out).OrderExpr("user_id ASC, source ASC").Limit(int64(limit))
	if afterUser != "" {
		q = q.Where("(user_id, source) > (?, ?)", afterUser, afterSource)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: retention rules: %w", err)
	}
	return out, nil
}

// DeleteOldPlatformData deletes userID's items of platform that occurred
// before before, in chunks of short statements, and returns how many.
func (db *DB) DeleteOldPlatformData(ctx context.Context, userID, platform string, before time.Time) (int64, error) {
	before = UTC(before)
	// SQLite's table has no index on id (see the migration): rows are
	// addressed by rowid there.
	key := "id"
	if db.Dialect == SQLite {
		key = "rowid"
	}
	return deleteInChunks(ctx, "old platform data", func(ctx context.Context) (sql.Result, error) {
		sub := db.NewSelect().Model((*PlatformData)(nil)).ColumnExpr(key).
			Where("user_id = ? AND platform = ? AND occurred_at < ?", userID, platform, before).Limit(deleteChunk)
		return db.NewDelete().Model((*PlatformData)(nil)).Where("? IN (?)", bun.Ident(key), sub).Exec(ctx)
	})
}

// DeleteUserObserverEventsBefore deletes userID's browser events that
// occurred before before, in chunks.
func (db *DB) DeleteUserObserverEventsBefore(ctx context.Context, userID string, before time.Time) (int64, error) {
	before = UTC(before)
	return deleteInChunks(ctx, "old observer events", func(ctx context.Context) (sql.Result, error) {
		sub := db.NewSelect().Model((*ObserverEvent)(nil)).Column("id").
			Where("user_id = ? AND occurred_at < ?", userID, before).Limit(deleteChunk)
		return db.NewDelete().Model((*ObserverEvent)(nil)).Where("id IN (?)", sub).Exec(ctx)
	})
}

// ScrubCronResults replaces every occurrence of each needle (a user's id
// and email) in cron_executions.result_data with "[deleted]", so job logs
// keep their counts but no longer name a deleted user. It returns the rows
// changed.
func (db *DB) ScrubCronResults(ctx context.Context, needles ...string) (int64, error) {
	var total int64
	for _, n := range needles {
		if n == "" {
			continue
		}
		// The needle as it appears inside a JSON string.
		enc, _ := json.Marshal(n)
		inner := string(enc[1 : len(enc)-1])
		res, err := db.NewUpdate().Model((*CronExecution)(nil)).
			Set("result_data = REPLACE(result_data, ?, '[deleted]')", inner).
			Where("result_data LIKE ? ESCAPE '\\'", "%"+escapeLike(inner)+"%").Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("store: scrub cron results: %w", err)
		}
		c, _ := res.RowsAffected()
		total += c
	}
	return total, nil
}

// PrivacyRows returns userID's stored privacy rows as they are, for the
// export (whatever shape the privacy store has, every stored row).
func (db *DB) PrivacyRows(ctx context.Context, userID string) ([]map[string]any, error) {
	return db.rawRows(ctx, "privacy_settings", "user_id", userID)
}

// rawRows reads every row of table whose column equals value, as column →
// value maps (the export writes tables whose shape other work may change).
func (db *DB) rawRows(ctx context.Context, table, column, value string) ([]map[string]any, error) {
	rows, err := db.QueryContext(ctx, fmt.Sprintf("SELECT * FROM %s WHERE %s = ?", table, column), value)
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, fmt.Errorf("store: read %s: %w", table, err)
	}
	var out []map[string]any
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("store: read %s: %w", table, err)
		}
		m := make(map[string]any, len(cols))
		for i, c := range cols {
			if c == column {
				continue
			}
			if b, ok := vals[i].([]byte); ok {
				vals[i] = string(b)
			}
			m[c] = vals[i]
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DataGroup is one (platform, data type) of a user's stored items.
type DataGroup struct {
	Platform string `bun:"platform"`
	DataType string `bun:"data_type"`
	Count    int64  `bun:"n"`
}

// PlatformDataGroups returns the (platform, data type) groups of userID's
// items with their counts, in name order.
func (db *DB) PlatformDataGroups(ctx context.Context, userID string) ([]DataGroup, error) {
	var out []DataGroup
	err := db.NewSelect().Model((*PlatformData)(nil)).
		ColumnExpr("platform, data_type, COUNT(*) AS n").
		Where("user_id = ?", userID).GroupExpr("platform, data_type").
		OrderExpr("platform ASC, data_type ASC").Scan(ctx, &out)
	if err != nil && !IsNoRows(err) {
		return nil, fmt.Errorf("store: platform data groups: %w", err)
	}
	return out, nil
}

// EachPlatformItem calls fn for every stored item of userID's platform and
// dataType, oldest first, as one streamed query (only the current row is
// in memory).
func (db *DB) EachPlatformItem(ctx context.Context, userID, platform, dataType string, fn func(*PlatformData) error) error {
	rows, err := db.NewSelect().Model((*PlatformData)(nil)).
		Where("user_id = ? AND platform = ? AND data_type = ?", userID, platform, dataType).
		OrderExpr("occurred_at ASC, external_id ASC").Rows(ctx)
	if err != nil {
		return fmt.Errorf("store: read platform items: %w", err)
	}
	defer rows.Close()
	var d PlatformData
	for rows.Next() {
		d = PlatformData{}
		if err := db.ScanRow(ctx, rows, &d); err != nil {
			return fmt.Errorf("store: read platform items: %w", err)
		}
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CountObserverEvents counts userID's stored browser events.
func (db *DB) CountObserverEvents(ctx context.Context, userID string) (int64, error) {
	n, err := db.NewSelect().Model((*ObserverEvent)(nil)).Where("user_id = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: count observer events: %w", err)
	}
	return int64(n), nil
}

// EachObserverEventRow calls fn for every stored browser event of userID,
// oldest first, streamed.
func (db *DB) EachObserverEventRow(ctx context.Context, userID string, fn func(*ObserverEvent) error) error {
	rows, err := db.NewSelect().Model((*ObserverEvent)(nil)).Where("user_id = ?", userID).
		OrderExpr("occurred_at ASC, id ASC").Rows(ctx)
	if err != nil {
		return fmt.Errorf("store: read observer events: %w", err)
	}
	defer rows.Close()
	var e ObserverEvent
	for rows.Next() {
		e = ObserverEvent{}
		if err := db.ScanRow(ctx, rows, &e); err != nil {
			return fmt.Errorf("store: read observer events: %w", err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ConversationsOf returns every conversation userID takes part in as a
// person: with their own twin, and as a signed-in visitor of someone
// else's (anonymous visitors' conversations with userID's twin are the
// visitors', not userID's).
func (db *DB) ConversationsOf(ctx context.Context, userID string) ([]TwinConversation, error) {
	var out []TwinConversation
	if err := db.NewSelect().Model(&out).Where("viewer_user_id = ?", userID).
		OrderExpr("created_at ASC, id ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: conversations of user: %w", err)
	}
	return out, nil
}

// ImportTwinConversation stores an owner's conversation with their own
// twin and its messages as exported, unless a conversation with that id
// exists (then it reports false and stores nothing).
func (db *DB) ImportTwinConversation(ctx context.Context, c TwinConversation, msgs []TwinMessage) (bool, error) {
	c.CreatedAt, c.UpdatedAt = UTC(c.CreatedAt), UTC(c.UpdatedAt)
	stored := false
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewInsert().Model(&c).On("CONFLICT (id) DO NOTHING").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		stored = true
		for i := range msgs {
			msgs[i].ConversationID = c.ID
			msgs[i].CreatedAt = UTC(msgs[i].CreatedAt)
		}
		if len(msgs) > 0 {
			if _, err := tx.NewInsert().Model(&msgs).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("store: import twin conversation: %w", err)
	}
	return stored, nil
}

// DataWindow returns the earliest and latest time of userID's stored
// platform items and browser events (nil, nil when none): the window an
// analysis reading them now is computed from.
func (db *DB) DataWindow(ctx context.Context, userID string) (from, to *time.Time, err error) {
	for _, q := range []*bun.SelectQuery{
		db.NewSelect().Model((*PlatformData)(nil)).ColumnExpr("MIN(occurred_at), MAX(occurred_at)").Where("user_id = ?", userID),
		db.NewSelect().Model((*ObserverEvent)(nil)).ColumnExpr("MIN(occurred_at), MAX(occurred_at)").Where("user_id = ?", userID),
	} {
		var lo, hi bun.NullTime
		if err := q.Scan(ctx, &lo, &hi); err != nil {
			return nil, nil, fmt.Errorf("store: data window: %w", err)
		}
		if !lo.IsZero() && (from == nil || lo.Time.Before(*from)) {
			t := lo.Time.UTC()
			from = &t
		}
		if !hi.IsZero() && (to == nil || hi.Time.After(*to)) {
			t := hi.Time.UTC()
			to = &t
		}
	}
	return from, to, nil
}

// UnlinkVisitorConversations clears the conversation of access log entries
// (in other owners' logs) that point at conversations userID had as a
// visitor: those conversations go with userID's account, and the owners
// keep knowing only that someone talked to their twin.
func (db *DB) UnlinkVisitorConversations(ctx context.Context, userID string) error {
	sub := db.NewSelect().Model((*TwinConversation)(nil)).Column("id").Where("viewer_user_id = ?", userID)
	if _, err := db.NewUpdate().Model((*AccessLogEntry)(nil)).Set("conversation_id = NULL").
		Where("conversation_id IN (?)", sub).Exec(ctx); err != nil {
		return fmt.Errorf("store: unlink visitor conversations: %w", err)
	}
	return nil
}
