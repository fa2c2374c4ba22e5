// Package store opens twinme's database (embedded SQLite or PostgreSQL),
// runs migrations, and holds the Bun models and queries shared by services.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/migrate"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/twinme/twinme/migrations"
)

// Dialect names the database engine in use.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open twinme database.
type DB struct {
	*bun.DB
	Dialect Dialect
	// Location is a human-readable description of where the data lives,
	// without credentials.
	Location string
}

// sqliteBusyTimeout bounds how long a writer waits for SQLite's single write
// lock. It is far longer than any write transaction twinme runs, so
// concurrent jobs and requests queue instead of surfacing SQLITE_BUSY.
const sqliteBusyTimeout = 30 * time.Second

// Open opens the database named by databaseURL, or the embedded SQLite
// database in dataDir when databaseURL is empty. It does not migrate.
func Open(ctx context.Context, databaseURL, dataDir string) (*DB, error) {
	switch {
	case databaseURL == "":
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("store: create data directory: %w", err)
		}
		return openSQLite(ctx, filepath.Join(dataDir, "twinme.db"))
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return openPostgres(ctx, databaseURL)
	case strings.HasPrefix(databaseURL, "sqlite://"), strings.HasPrefix(databaseURL, "file:"):
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite://"), "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if dir := filepath.Dir(path); dir != "" {
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, fmt.Errorf("store: create database directory: %w", err)
			}
		}
		return openSQLite(ctx, path)
	default:
		return nil, fmt.Errorf("store: unsupported database URL scheme (want postgres:// or sqlite://)")
	}
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", sqliteBusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// IMMEDIATE transactions take the write lock up front: a deferred
	// transaction that upgrades from read to write fails with SQLITE_BUSY at
	// once, without waiting for the busy timeout.
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxIdleTime(0)
	sqldb.SetConnMaxLifetime(0)
	db := &DB{DB: bun.NewDB(sqldb, sqlitedialect.New()), Dialect: SQLite, Location: "sqlite:" + path}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	return db, nil
}

func openPostgres(ctx context.Context, databaseURL string) (*DB, error) {
	sqldb, err := sql.Open("pgx", databaseURL)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	sqldb.SetMaxOpenConns(25)
	sqldb.SetMaxIdleConns(25)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	loc := databaseURL
	if u, err := url.Parse(databaseURL); err == nil {
		u.User = nil
		u.RawQuery = ""
		loc = u.String()
	}
	db := &DB{DB: bun.NewDB(sqldb, pgdialect.New()), Dialect: Postgres, Location: loc}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: connect to postgres %s: %w", loc, err)
	}
	return db, nil
}

// migrationLockKey is the PostgreSQL advisory lock that serialises
// migrations when several instances start at once.
const migrationLockKey = 7_263_001

// Migrations returns the embedded migrations of dialect d.
func Migrations(d Dialect) (*migrate.Migrations, error) {
	sub, err := migrations.FS(string(d))
	if err != nil {
		return nil, err
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations: %s: %w", d, err)
	}
	return m, nil
}

func (db *DB) migrator() (*migrate.Migrator, error) {
	ms, err := Migrations(db.Dialect)
	if err != nil {
		return nil, err
	}
	return migrate.NewMigrator(db.DB, ms, migrate.WithMarkAppliedOnSuccess(true)), nil
}

// withMigrationLock runs fn while holding the cross-instance migration lock.
func (db *DB) withMigrationLock(ctx context.Context, fn func(context.Context) error) error {
	if db.Dialect != Postgres {
		return fn(ctx)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", migrationLockKey); err != nil {
		return fmt.Errorf("store: migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", migrationLockKey) //nolint:errcheck
	return fn(ctx)
}

// Migrate applies every pending migration and returns the names applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	m, err := db.migrator()
	if err != nil {
		return nil, err
	}
	var applied []string
	err = db.withMigrationLock(ctx, func(ctx context.Context) error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("store: init migrations: %w", err)
		}
		g, err := m.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		for _, mg := range g.Migrations {
			applied = append(applied, mg.Name+"_"+mg.Comment)
		}
		return nil
	})
	return applied, err
}

// Rollback undoes the last group of migrations and returns the names undone.
func (db *DB) Rollback(ctx context.Context) ([]string, error) {
	m, err := db.migrator()
	if err != nil {
		return nil, err
	}
	var undone []string
	err = db.withMigrationLock(ctx, func(ctx context.Context) error {
		if err := m.Init(ctx); err != nil {
			return fmt.Errorf("store: init migrations: %w", err)
		}
		g, err := m.Rollback(ctx)
		if err != nil {
			return fmt.Errorf("store: rollback: %w", err)
		}
		for _, mg := range g.Migrations {
			undone = append(undone, mg.Name+"_"+mg.Comment)
		}
		return nil
	})
	return undone, err
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name    string
	Applied bool
}

// MigrationStatus lists every known migration in order.
func (db *DB) MigrationStatus(ctx context.Context) ([]MigrationStatus, error) {
	m, err := db.migrator()
	if err != nil {
		return nil, err
	}
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("store: init migrations: %w", err)
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: migration status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mg := range ms {
		out = append(out, MigrationStatus{Name: mg.Name + "_" + mg.Comment, Applied: mg.IsApplied()})
	}
	return out, nil
}

// NewID returns a new random primary key.
func NewID() string { return uuid.NewString() }

// IsUniqueViolation reports whether err is a unique-constraint violation on
// either dialect.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || // SQLite
		strings.Contains(s, "SQLSTATE 23505") // PostgreSQL
}

// IsNoRows reports whether err means a query found no row.
func IsNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// UTC normalises t for storage: SQLite compares timestamps as text, which is
// only correct when every stored time is in one zone.
func UTC(t time.Time) time.Time { return t.UTC() }
