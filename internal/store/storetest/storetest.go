// Package storetest opens a fresh, migrated database for a test: SQLite in a
// temporary directory always, and PostgreSQL (in a schema of its own, dropped
// at cleanup) when TWINME_TEST_DATABASE_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/twinme/twinme/internal/store"
)

// EnvURL names the PostgreSQL URL that turns on PostgreSQL runs.
const EnvURL = "TWINME_TEST_DATABASE_URL"

// Dialects returns the dialects a storage test should run on.
func Dialects() []store.Dialect {
	if os.Getenv(EnvURL) != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	}
	return []store.Dialect{store.SQLite}
}

// Each runs fn as a subtest once per dialect in Dialects, with a fresh database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d))
		})
	}
}

// Open returns a migrated, empty database of dialect d, closed and removed at cleanup.
func Open(t testing.TB, d store.Dialect) *store.DB {
	t.Helper()
	url := URL(t, d)
	db, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatalf("storetest: open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("storetest: migrate %s: %v", d, err)
	}
	return db
}

// URL returns a database URL of dialect d for a fresh, unmigrated database,
// which several store.Open calls may share (to test several instances).
func URL(t testing.TB, d store.Dialect) string {
	t.Helper()
	switch d {
	case store.SQLite:
		return "sqlite://" + filepath.Join(t.TempDir(), "twinme.db")
	case store.Postgres:
		base := os.Getenv(EnvURL)
		if base == "" {
			t.Skipf("storetest: %s is not set", EnvURL)
		}
		return postgresSchema(t, base)
	default:
		t.Fatalf("storetest: unknown dialect %q", d)
		return ""
	}
}

func postgresSchema(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("storetest: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("storetest: create schema (is PostgreSQL up at %s?): %v", EnvURL, err)
	}
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("storetest: %s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(fmt.Sprint(err))
	}
}
