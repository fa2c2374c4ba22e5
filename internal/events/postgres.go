package events

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxNotifyPayload is below PostgreSQL's 8000-byte NOTIFY limit.
const maxNotifyPayload = 7900

// Postgres is a bus shared by every instance on one PostgreSQL database:
// Publish sends NOTIFY, and each instance LISTENs and fans out locally, so
// every event reaches every instance's subscribers once.
type Postgres struct {
	*Local
	db      *sql.DB
	url     string
	channel string
	log     *slog.Logger

	ready chan struct{}
	once  sync.Once
}

var _ Bus = (*Postgres)(nil)

// NewPostgres returns a bus on channel (e.g. "twinme_events") of the database
// at url; db is used to publish. Run must be running for events to arrive.
func NewPostgres(db *sql.DB, url, channel string, log *slog.Logger) *Postgres {
	return &Postgres{Local: NewLocal(log), db: db, url: url, channel: channel, log: log, ready: make(chan struct{})}
}

// Publish sends e to every instance through NOTIFY.
func (p *Postgres) Publish(ctx context.Context, e Event) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("events: encode: %w", err)
	}
	if len(raw) > maxNotifyPayload {
		return fmt.Errorf("events: %s event of %d bytes is over the NOTIFY limit; publish ids, not data", e.Topic, len(raw))
	}
	if _, err := p.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", p.channel, string(raw)); err != nil {
		return fmt.Errorf("events: notify: %w", err)
	}
	return nil
}

// Ready is closed once the first LISTEN is in place.
func (p *Postgres) Ready() <-chan struct{} { return p.ready }

// Run listens until ctx ends, reconnecting with backoff when the connection drops.
func (p *Postgres) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := p.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		p.log.Warn("events: listener lost, reconnecting", slog.Any("error", err), slog.Duration("in", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (p *Postgres) listen(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, p.url)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return err
	}
	p.once.Do(func() { close(p.ready) })
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var e Event
		if err := json.Unmarshal([]byte(n.Payload), &e); err != nil {
			p.log.Warn("events: ignoring malformed notification", slog.Any("error", err))
			continue
		}
		p.deliver(e)
	}
}
