package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// ObserverEvent is one stored behaviour event of the browser extension.
type ObserverEvent struct {
	bun.BaseModel `bun:"table:soul_observer_events"`

	ID            string    `bun:"id,pk"`
	UserID        string    `bun:"user_id,notnull"`
	ClientEventID string    `bun:"client_event_id,notnull"`
	Type          string    `bun:"type,notnull"`
	OccurredAt    time.Time `bun:"occurred_at,notnull"`
	Domain        string    `bun:"domain,notnull"`
	// URL is set only when the user opted in to full paths.
	URL        *string   `bun:"url"`
	Data       string    `bun:"data,notnull"` // JSON object
	ReceivedAt time.Time `bun:"received_at,notnull"`
}

// ObserverSettings are a person's choices about the browser extension.
// With no stored row observation is off.
type ObserverSettings struct {
	bun.BaseModel `bun:"table:observer_settings"`

	UserID    string    `bun:"user_id,pk"`
	Enabled   bool      `bun:"enabled,notnull"`
	FullPaths bool      `bun:"full_paths,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// ObserverSettings returns userID's settings (off when never set).
func (db *DB) ObserverSettings(ctx context.Context, userID string) (ObserverSettings, error) {
	s := ObserverSettings{UserID: userID}
	err := db.NewSelect().Model(&s).Where("user_id = ?", userID).Scan(ctx)
	if err != nil && !IsNoRows(err) {
		return s, fmt.Errorf("store: observer settings: %w", err)
	}
	return s, nil
}

// SetObserverSettings stores s (s.UpdatedAt stamps it).
func (db *DB) SetObserverSettings(ctx context.Context, s ObserverSettings) error {
	s.UpdatedAt = UTC(s.UpdatedAt)
	_, err := db.NewInsert().Model(&s).
		On("CONFLICT (user_id) DO UPDATE").
		Set("enabled = EXCLUDED.enabled").
		Set("full_paths = EXCLUDED.full_paths").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set observer settings: %w", err)
	}
	return nil
}

// NewObserverEvent is an event to insert.
type NewObserverEvent struct {
	ClientEventID string
	Type          string
	OccurredAt    time.Time
	Domain        string
	URL           string // "" stores NULL
	Data          json.RawMessage
}

// observerChunk bounds the rows of one INSERT (9 values each).
const observerChunk = 500

// InsertObserverEvents stores userID's events in one transaction, skipping
// those whose client event id is already stored (a retried batch), and
// returns how many were new.
func (db *DB) InsertObserverEvents(ctx context.Context, userID string, evs []NewObserverEvent, receivedAt time.Time) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	receivedAt = UTC(receivedAt)
	inserted := 0
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		inserted = 0
		for start := 0; start < len(evs); start += observerChunk {
			chunk := evs[start:min(start+observerChunk, len(evs))]
			var sb strings.Builder
			sb.WriteString(`INSERT INTO soul_observer_events
 (id, user_id, client_event_id, type, occurred_at, domain, url, data, received_at) VALUES `)
			args := make([]any, 0, len(chunk)*9)
			for i, e := range chunk {
				if i > 0 {
					sb.WriteByte(',')
				}
				sb.WriteString("(?,?,?,?,?,?,?,?,?)")
				var url *string
				if e.URL != "" {
					u := e.URL
					url = &u
				}
				data := string(e.Data)
				if data == "" {
					data = "{}"
				}
				args = append(args, newTimeOrderedID(), userID, e.ClientEventID, e.Type, UTC(e.OccurredAt), e.Domain, url, data, receivedAt)
			}
			sb.WriteString(` ON CONFLICT (user_id, client_event_id) DO NOTHING`)
			res, err := tx.ExecContext(ctx, sb.String(), args...)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			inserted += int(n)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: insert observer events: %w", err)
	}
	return inserted, nil
}

// ListObserverEvents returns up to limit of userID's events that occurred
// in [from, to), oldest first.
func (db *DB) ListObserverEvents(ctx context.Context, userID string, from, to time.Time, limit int) ([]ObserverEvent, error) {
	var out []ObserverEvent
	err := db.NewSelect().Model(&out).
		Where("user_id = ?", userID).
		Where("occurred_at >= ? AND occurred_at < ?", UTC(from), UTC(to)).
		OrderExpr("occurred_at ASC, id ASC").
		Limit(int64(limit)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: list observer events: %w", err)
	}
	return out, nil
}

// retentionChunk bounds one delete, so the retention sweep never holds
// SQLite's write lock for long.
const retentionChunk = 5000

// DeleteObserverEventsBefore deletes every event that occurred before
// before, in chunks, and returns how many were deleted.
func (db *DB) DeleteObserverEventsBefore(ctx context.Context, before time.Time) (int64, error) {
	before = UTC(before)
	var total int64
	for {
		// A person who chose their own retention (data_retention) is swept
		// by that choice instead.
		sub := db.NewSelect().Model((*ObserverEvent)(nil)).Column("id").
			Where("occurred_at < ?", before).
			Where("user_id NOT IN (SELECT user_id FROM data_retention WHERE source = ?)", RetentionObserver).
			Limit(retentionChunk)
		res, err := db.NewDelete().Model((*ObserverEvent)(nil)).Where("id IN (?)", sub).Exec(ctx)
		if err != nil {
			return total, fmt.Errorf("store: delete observer events: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("store: delete observer events: %w", err)
		}
		total += n
		if n < retentionChunk {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, fmt.Errorf("store: delete observer events: %w", err)
		}
	}
}
