package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/twinme/twinme/internal/apperr"
)

// PlatformData is one stored item of a person's platform data.
type PlatformData struct {
	bun.BaseModel `bun:"table:user_platform_data"`

	ID          string    `bun:"id,pk"`
	UserID      string    `bun:"user_id,notnull"`
	Platform    string    `bun:"platform,notnull"`
	DataType    string    `bun:"data_type,notnull"`
	ExternalID  string    `bun:"external_id,notnull"`
	ContentHash string    `bun:"content_hash,notnull"`
	OccurredAt  time.Time `bun:"occurred_at,notnull"`
	Payload     string    `bun:"payload,notnull"` // JSON object
	Source      string    `bun:"source,notnull"`
	SourceRank  int       `bun:"source_rank,notnull"`
	FirstSeenAt time.Time `bun:"first_seen_at,notnull"`
	UpdatedAt   time.Time `bun:"updated_at,notnull"`
}

// PlatformItem is one item to upsert, from the API poller or an import.
type PlatformItem struct {
	DataType   string
	ExternalID string
	OccurredAt time.Time
	// Payload is a JSON object; empty stores "{}".
	Payload json.RawMessage
	// ContentHash identifies the payload's content (importer.Record's
	// ContentHash); empty: the SHA-256 of Payload's bytes.
	ContentHash string
	// Source names where the item came from; see SourceRank.
	Source string
}

// Sources of platform data, as the importer and the poller name them.
const (
	SourceExtendedHistory = "extended_history"
	SourceAPI             = "api"
	SourceAccountData     = "account_data"
)

// SourceRank orders sources by richness: Spotify's extended streaming
// history (track URI, album, device, skips …) over the Web API's recently
// played, over the account-data history (minute precision, names only).
// Every other source (Takeout, a platform's only API) ranks with the API.
// An item never replaces a stored one of a higher rank.
func SourceRank(source string) int {
	switch source {
	case SourceExtendedHistory:
		return 30
	case SourceAccountData:
		return 10
	default:
		return 20
	}
}

// UpsertCounts tallies an upsert: new rows, rows whose content changed, and
// items that changed nothing (same content, a poorer source than the
// stored row, or repeated within the batch).
type UpsertCounts struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Add adds o to c.
func (c *UpsertCounts) Add(o UpsertCounts) {
	c.Inserted += o.Inserted
	c.Updated += o.Updated
	c.Unchanged += o.Unchanged
}

// Stored is the number of rows written (inserted or updated).
func (c UpsertCounts) Stored() int { return c.Inserted + c.Updated }

// upsertChunk bounds the rows of one INSERT statement (11 values each).
const upsertChunk = 500

// UpsertPlatformData stores items of userID's platform in tx, deduplicated
// on (user, platform, data type, external id). A row whose content hash is
// unchanged is not rewritten, nor is a row from a richer source (SourceRank)
// than the item's. Items repeated within the batch count once (the richest,
// then the last). now stamps first_seen_at and updated_at.
func UpsertPlatformData(ctx context.Context, tx bun.IDB, userID, platform string, items []PlatformItem, now time.Time) (UpsertCounts, error) {
	w := NewPlatformDataWriter(tx, userID, platform, now)
	defer w.Close()
	return w.Upsert(ctx, items)
}

// PlatformDataWriter runs UpsertPlatformData batch after batch in one
// transaction (an import), preparing its statement once.
type PlatformDataWriter struct {
	tx       bun.IDB
	userID   string
	platform string
	now      time.Time
	stmt     *sql.Stmt // the full-chunk statement, once prepared
}

// NewPlatformDataWriter returns a writer of userID's platform data in tx.
// Close it before tx ends.
func NewPlatformDataWriter(tx bun.IDB, userID, platform string, now time.Time) *PlatformDataWriter {
	return &PlatformDataWriter{tx: tx, userID: userID, platform: platform, now: UTC(now)}
}

// Close releases the prepared statement.
func (w *PlatformDataWriter) Close() error {
	if w.stmt == nil {
		return nil
	}
	err := w.stmt.Close()
	w.stmt = nil
	return err
}

// Upsert is UpsertPlatformData in the writer's transaction.
func (w *PlatformDataWriter) Upsert(ctx context.Context, items []PlatformItem) (UpsertCounts, error) {
	var counts UpsertCounts
	if len(items) == 0 {
		return counts, nil
	}
	rows, dups := dedupeItems(items)
	counts.Unchanged += dups
	// One key order for every writer keeps concurrent upserts of
	// overlapping items (an import while a poll runs) from deadlocking on
	// PostgreSQL's row locks.
	slices.SortFunc(rows, func(a, b PlatformItem) int {
		if c := strings.Compare(a.DataType, b.DataType); c != 0 {
			return c
		}
		return strings.Compare(a.ExternalID, b.ExternalID)
	})
	for start := 0; start < len(rows); start += upsertChunk {
		end := min(start+upsertChunk, len(rows))
		c, err := w.chunk(ctx, rows[start:end])
		if err != nil {
			return counts, err
		}
		counts.Add(c)
	}
	return counts, nil
}

type itemKey struct{ dataType, externalID string }

// dedupeItems keeps one item per key, in first-seen order, and returns the
// number dropped.
func dedupeItems(items []PlatformItem) ([]PlatformItem, int) {
	idx := make(map[itemKey]int, len(items))
	out := make([]PlatformItem, 0, len(items))
	for _, it := range items {
		k := itemKey{it.DataType, it.ExternalID}
		if i, ok := idx[k]; ok {
			if SourceRank(it.Source) >= SourceRank(out[i].Source) {
				out[i] = it
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, it)
	}
	return out, len(items) - len(out)
}

const upsertHead = `INSERT INTO user_platform_data
 (id, user_id, platform, data_type, external_id, content_hash, occurred_at, payload, source, source_rank, first_seen_at, updated_at)
 VALUES `

// The update applies only when the content changed and the stored row is
// not from a richer source; rows it skips are not returned. id is never
// updated, so a returned id that is not the one proposed marks an update.
const upsertTail = ` ON CONFLICT (user_id, platform, data_type, external_id) DO UPDATE SET
 content_hash = excluded.content_hash, occurred_at = excluded.occurred_at, payload = excluded.payload,
 source = excluded.source, source_rank = excluded.source_rank, updated_at = excluded.updated_at
 WHERE user_platform_data.content_hash <> excluded.content_hash
 AND excluded.source_rank >= user_platform_data.source_rank
 RETURNING id`

func (w *PlatformDataWriter) chunk(ctx context.Context, rows []PlatformItem) (UpsertCounts, error) {
	var counts UpsertCounts
	tx, userID, platform, now := w.tx, w.userID, w.platform, w.now
	pg := tx.Dialect().Name() == dialect.PG
	// Arguments are bound by the driver, not formatted into the SQL by
	// Bun: a 500-row statement of placeholders parses several times faster
	// than one of literals. Times are passed to SQLite as the text Bun
	// writes everywhere else, since SQLite compares them as text.
	raw, direct := rawQuerier(tx)
	timeArg := func(t time.Time) any {
		if pg || !direct {
			return UTC(t)
		}
		b := tx.Dialect().AppendTime(nil, t)
		return string(b[1 : len(b)-1])
	}
	nowArg := timeArg(now)
	var sb strings.Builder
	sb.Grow(len(upsertHead) + len(upsertTail) + len(rows)*60)
	sb.WriteString(upsertHead)
	args := make([]any, 0, len(rows)*12)
	proposed := make(map[string]struct{}, len(rows))
	for i, it := range rows {
		if it.DataType == "" || it.ExternalID == "" {
			return counts, fmt.Errorf("store: upsert platform data: item without data type or external id")
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		if pg && direct {
			sb.WriteByte('(')
			for j := 1; j <= 12; j++ {
				if j > 1 {
					sb.WriteByte(',')
				}
				sb.WriteByte('$')
				sb.WriteString(strconv.Itoa(len(args) + j))
			}
			sb.WriteByte(')')
		} else {
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?,?)")
		}
		id := newTimeOrderedID()
		proposed[id] = struct{}{}
		payload := string(it.Payload)
		if payload == "" {
			payload = "{}"
		}
		hash := it.ContentHash
		if hash == "" {
			sum := sha256.Sum256([]byte(payload))
			hash = hex.EncodeToString(sum[:])
		}
		args = append(args, id, userID, platform, it.DataType, it.ExternalID, hash,
			timeArg(it.OccurredAt), payload, it.Source, SourceRank(it.Source), nowArg, nowArg)
	}
	sb.WriteString(upsertTail)
	var res *sql.Rows
	var err error
	switch {
	case direct && len(rows) == upsertChunk:
		// Every full chunk has the same text: prepare it once.
		if w.stmt == nil {
			if w.stmt, err = raw.PrepareContext(ctx, sb.String()); err != nil {
				return counts, fmt.Errorf("store: upsert platform data: %w", err)
			}
		}
		res, err = w.stmt.QueryContext(ctx, args...)
	case direct:
		res, err = raw.QueryContext(ctx, sb.String(), args...)
	default:
		res, err = tx.QueryContext(ctx, sb.String(), args...)
	}
	if err != nil {
		return counts, fmt.Errorf("store: upsert platform data: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var id string
		if err := res.Scan(&id); err != nil {
			return counts, fmt.Errorf("store: upsert platform data: %w", err)
		}
		if _, ok := proposed[id]; ok {
			counts.Inserted++
		} else {
			counts.Updated++
		}
	}
	if err := res.Err(); err != nil {
		return counts, fmt.Errorf("store: upsert platform data: %w", err)
	}
	counts.Unchanged = len(rows) - counts.Inserted - counts.Updated
	return counts, nil
}

type sqlQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// rawQuerier returns the database/sql handle under a Bun handle.
func rawQuerier(db bun.IDB) (sqlQuerier, bool) {
	switch v := db.(type) {
	case bun.Tx:
		return v.Tx, true
	case *bun.Tx:
		return v.Tx, true
	case *bun.DB:
		return v.DB, true
	case bun.Conn:
		return v.Conn, true
	}
	return nil, false
}

// newTimeOrderedID is a UUIDv7: rows inserted together sit together in the
// primary-key index, which keeps bulk imports fast.
func newTimeOrderedID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return NewID()
	}
	return id.String()
}

// ErrConnectionGone is returned by SavePage when the connection was
// disconnected (or deleted) while its page was being fetched; nothing was
// stored.
var ErrConnectionGone = apperr.New(apperr.NotFound, "the connection was disconnected")

// SavePage stores one fetched page in ONE transaction: the items are
// upserted for the connection's user and platform, and the stream's cursor
// is checkpointed in the connection's sync_cursor (nil cursor: unchanged).
// If the connection was disconnected meanwhile nothing is stored and the
// error is ErrConnectionGone.
func (db *DB) SavePage(ctx context.Context, c *Connection, stream string, items []PlatformItem, cursor json.RawMessage, now time.Time) (UpsertCounts, error) {
	var counts UpsertCounts
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// The guarded cursor update comes first: it locks the connection
		// row, so a concurrent disconnect either precedes it (nothing is
		// stored) or waits for this page.
		ok, err := checkpointCursor(ctx, tx, c.ID, stream, cursor)
		if err != nil {
			return err
		}
		if !ok {
			return ErrConnectionGone
		}
		counts, err = UpsertPlatformData(ctx, tx, c.UserID, string(c.Platform), items, now)
		return err
	})
	if errors.Is(err, ErrConnectionGone) {
		return UpsertCounts{}, ErrConnectionGone
	}
	if err != nil {
		return UpsertCounts{}, fmt.Errorf("store: save page: %w", err)
	}
	return counts, nil
}

// SetStreamCursor replaces one stream's cursor of connection id outside of
// a page; a nil cursor forgets it, so the stream's next fetch starts from
// scratch (Gmail: the history id expired). ErrConnectionGone when the
// connection is disconnected.
func (db *DB) SetStreamCursor(ctx context.Context, id, stream string, cursor json.RawMessage) error {
	var ok bool
	var err error
	if cursor == nil {
		ok, err = removeCursor(ctx, db.DB, id, stream)
	} else {
		ok, err = checkpointCursor(ctx, db.DB, id, stream, cursor)
	}
	if err != nil {
		return err
	}
	if !ok {
		return ErrConnectionGone
	}
	return nil
}

// checkpointCursor sets sync_cursor[stream] = cursor on a connection that is
// not disconnected; a nil cursor leaves it alone but still checks (and, on
// PostgreSQL, locks) the row. It reports whether the row was there.
func checkpointCursor(ctx context.Context, tx bun.IDB, id, stream string, cursor json.RawMessage) (bool, error) {
	if !validStreamName(stream) {
		return false, fmt.Errorf("store: checkpoint cursor: invalid stream name %q", stream)
	}
	q := tx.NewUpdate().Model((*Connection)(nil)).
		Where("id = ?", id).
		Where("status <> ?", StatusDisconnected)
	pg := tx.Dialect().Name() == dialect.PG
	switch {
	case cursor == nil:
		q = q.Set("sync_cursor = sync_cursor")
	case !json.Valid(cursor):
		return false, fmt.Errorf("store: checkpoint cursor of stream %s: not JSON", stream)
	case pg:
		q = q.Set("sync_cursor = jsonb_set(COALESCE(NULLIF(sync_cursor, ''), '{}')::jsonb, ARRAY[?]::text[], ?::jsonb)::text", stream, string(cursor))
	default:
		q = q.Set("sync_cursor = json_set(CASE WHEN json_valid(sync_cursor) THEN sync_cursor ELSE '{}' END, ?, json(?))", `$."`+stream+`"`, string(cursor))
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: checkpoint cursor of stream %s: %w", stream, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: checkpoint cursor of stream %s: %w", stream, err)
	}
	return n > 0, nil
}

func removeCursor(ctx context.Context, tx bun.IDB, id, stream string) (bool, error) {
	if !validStreamName(stream) {
		return false, fmt.Errorf("store: reset cursor: invalid stream name %q", stream)
	}
	q := tx.NewUpdate().Model((*Connection)(nil)).
		Where("id = ?", id).
		Where("status <> ?", StatusDisconnected)
	if tx.Dialect().Name() == dialect.PG {
		q = q.Set("sync_cursor = (COALESCE(NULLIF(sync_cursor, ''), '{}')::jsonb - ?)::text", stream)
	} else {
		q = q.Set("sync_cursor = json_remove(CASE WHEN json_valid(sync_cursor) THEN sync_cursor ELSE '{}' END, ?)", `$."`+stream+`"`)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: reset cursor of stream %s: %w", stream, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: reset cursor of stream %s: %w", stream, err)
	}
	return n > 0, nil
}

// validStreamName accepts the names streams use as keys of sync_cursor:
// letters, digits, '_' and '-' (nothing a JSON path would interpret).
func validStreamName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// StreamCursors parses a connection's sync_cursor: each stream's cursor by
// stream name. Anything that is not a JSON object (an older format) reads
// as no cursors, so every stream starts from scratch.
func StreamCursors(syncCursor string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	if err := json.Unmarshal([]byte(syncCursor), &m); err != nil {
		return map[string]json.RawMessage{}
	}
	return m
}

// ListPlatformData returns up to limit of userID's items of platform (and
// dataType, unless empty), newest first ((occurred_at, id) descending),
// after the keyset cursor. Only the owner's rows are ever read.
func (db *DB) ListPlatformData(ctx context.Context, userID, platform, dataType string, after *Cursor, limit int) ([]PlatformData, error) {
	var out []PlatformData
	q := db.NewSelect().Model(&out).
		Where("user_id = ? AND platform = ?", userID, platform).
		OrderExpr("occurred_at DESC, id DESC").
		Limit(int64(limit))
	if dataType != "" {
		q = q.Where("data_type = ?", dataType)
	}
	if after != nil {
		t := UTC(after.Time)
		q = q.Where("(occurred_at, id) < (?, ?)", UTC(t), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list platform data: %w", err)
	}
	return out, nil
}

// CountPlatformData returns how many items userID holds of platform, by
// data type.
func (db *DB) CountPlatformData(ctx context.Context, userID, platform string) (map[string]int, error) {
	var rows []struct {
		DataType string `bun:"data_type"`
		N        int    `bun:"n"`
	}
	err := db.NewSelect().TableExpr("user_platform_data").
		ColumnExpr("data_type, COUNT(*) AS n").
		Where("user_id = ? AND platform = ?", userID, platform).
		GroupExpr("data_type").
		Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("store: count platform data: %w", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.DataType] = r.N
	}
	return out, nil
}

// DeletePlatformData erases everything userID holds of platform and that
// stream's cursors, so a later reconnect fetches it all again. It returns
// the number of items deleted.
func (db *DB) DeletePlatformData(ctx context.Context, userID, platform string) (int64, error) {
	var n int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*PlatformData)(nil)).
			Where("user_id = ? AND platform = ?", userID, platform).
			Exec(ctx)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil {
			return err
		}
		_, err = tx.NewUpdate().Model((*Connection)(nil)).
			Set("sync_cursor = '{}'").
			Where("user_id = ? AND platform = ?", userID, platform).
			Exec(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete platform data: %w", err)
	}
	return n, nil
}

// SyncState is a connection's polling state beside its row.
type SyncState struct {
	bun.BaseModel `bun:"table:platform_sync_state"`

	ConnectionID string `bun:"connection_id,pk"`
	// Failures is the number of failed runs in a row (the backoff).
	Failures int `bun:"failures,notnull"`
	// RetryAt is when the provider asked us to come back (429, quota).
	RetryAt      *time.Time `bun:"retry_at"`
	LastRunAt    *time.Time `bun:"last_run_at"`
	LastFetched  int        `bun:"last_fetched,notnull"`
	LastInserted int        `bun:"last_inserted,notnull"`
	LastUpdated  int        `bun:"last_updated,notnull"`
	UpdatedAt    time.Time  `bun:"updated_at,notnull"`
}

// SyncState returns connection id's polling state; a connection never
// polled has the zero state.
func (db *DB) SyncState(ctx context.Context, id string) (SyncState, error) {
	s := SyncState{ConnectionID: id}
	err := db.NewSelect().Model(&s).Where("connection_id = ?", id).Scan(ctx)
	if err != nil && !IsNoRows(err) {
		return s, fmt.Errorf("store: sync state: %w", err)
	}
	return s, nil
}

// ClaimDueConnections claims up to limit connected connections of the given
// platforms whose next_sync_at is due at now, oldest first, by moving their
// next_sync_at to leaseUntil, and returns them. A connection is due from the
// moment it is connected (UpsertConnection sets next_sync_at), so the claim
// walks platform_connections_next_sync_idx in order and stops after limit
// rows however many are due. It is one conditional UPDATE: of several
// instances claiming at once each connection goes to one. A claimed
// connection whose run never finishes (the process died) is due again at
// leaseUntil.
func (db *DB) ClaimDueConnections(ctx context.Context, platforms []string, now, leaseUntil time.Time, limit int) ([]Connection, error) {
	if len(platforms) == 0 || limit <= 0 {
		return nil, nil
	}
	now = UTC(now)
	platformIn := "platform IN (?)"
	if db.Dialect == SQLite {
		// Without statistics SQLite prefers the (platform, status) index and
		// sorts every due row; "+" keeps it on the next_sync_at index.
		platformIn = "+platform IN (?)"
	}
	sub := db.NewSelect().Model((*Connection)(nil)).Column("id").
		Where("status = ?", StatusConnected).
		Where(platformIn, bun.In(platforms)).
		Where("next_sync_at <= ?", now).
		OrderExpr("next_sync_at ASC, id ASC").
		Limit(int64(limit))
	var cs []Connection
	var err error
	if db.Dialect == Postgres {
		// The queue pattern: the rows the CTE locks (skipping those another
		// claim holds; a row claimed meanwhile fails the re-check of its
		// WHERE) are exactly the rows updated.
		sub = sub.For("UPDATE SKIP LOCKED")
		err = db.NewUpdate().With("due", sub).Model(&cs).
			TableExpr("due").
			Set("next_sync_at = ?", UTC(leaseUntil)).
			Where("?TableAlias.id = due.id").
			Returning("?TableAlias.*").
			Scan(ctx)
	} else {
		// SQLite has one writer at a time: the statement sees no
		// concurrent claim.
		err = db.NewUpdate().Model(&cs).
			Set("next_sync_at = ?", UTC(leaseUntil)).
			Where("id IN (?)", sub).
			Returning("*").
			Scan(ctx)
	}
	if err != nil && !IsNoRows(err) {
		return nil, fmt.Errorf("store: claim due connections: %w", err)
	}
	return cs, nil
}

// SyncRun is the outcome of one polling run of a connection.
type SyncRun struct {
	At         time.Time
	NextSyncAt time.Time
	// OK: every stream was fetched to its end. last_sync becomes At, the
	// failure run ends and last_error is cleared.
	OK bool
	// Failed counts a failed run (the backoff grows) and sets last_error
	// to Error.
	Failed bool
	Error  string
	// RetryAt is when the provider asked us to come back (nil: no such
	// request).
	RetryAt                    *time.Time
	Fetched, Inserted, Updated int
}

// RecordSyncRun stores the outcome of a run of connection id: its
// last_sync, next_sync_at and last_error, and its sync state. last_error is
// left alone while the token manager is counting refresh failures (its
// backoff reads last_error_at). The status never changes here, and a
// connection disconnected meanwhile is left alone (ErrConnectionGone).
func (db *DB) RecordSyncRun(ctx context.Context, id string, r SyncRun) (SyncState, error) {
	at := UTC(r.At)
	st := SyncState{ConnectionID: id}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*Connection)(nil)).
			Set("next_sync_at = ?", UTC(r.NextSyncAt)).
			Where("id = ?", id).
			Where("status <> ?", StatusDisconnected)
		switch {
		case r.OK:
			q = q.Set("last_sync = ?", at).
				Set("last_error = CASE WHEN consecutive_failures = 0 THEN '' ELSE last_error END").
				Set("last_error_at = CASE WHEN consecutive_failures = 0 THEN NULL ELSE last_error_at END")
		case r.Failed:
			q = q.Set("last_error = CASE WHEN consecutive_failures = 0 THEN ? ELSE last_error END", r.Error).
				Set("last_error_at = CASE WHEN consecutive_failures = 0 THEN ? ELSE last_error_at END", at)
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return ErrConnectionGone
		}
		failures := "0"
		if r.Failed {
			failures = "platform_sync_state.failures + 1"
		} else if !r.OK {
			failures = "platform_sync_state.failures"
		}
		first := 0
		if r.Failed {
			first = 1
		}
		return tx.NewRaw(`INSERT INTO platform_sync_state
 (connection_id, failures, retry_at, last_run_at, last_fetched, last_inserted, last_updated, updated_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?)
 ON CONFLICT (connection_id) DO UPDATE SET failures = `+failures+`,
 retry_at = excluded.retry_at, last_run_at = excluded.last_run_at, last_fetched = excluded.last_fetched,
 last_inserted = excluded.last_inserted, last_updated = excluded.last_updated, updated_at = excluded.updated_at
 RETURNING *`,
			id, first, utcPtr(r.RetryAt), at, r.Fetched, r.Inserted, r.Updated, at).Scan(ctx, &st)
	})
	if errors.Is(err, ErrConnectionGone) {
		return st, ErrConnectionGone
	}
	if err != nil {
		return st, fmt.Errorf("store: record sync run: %w", err)
	}
	return st, nil
}
