// Package migrations holds the versioned SQL schema of twinme, one directory
// per dialect, embedded into the binary and run by Bun's migrator. It never
// imports the current models: a migration is a fixed point in history.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"

	"github.com/uptrace/bun/migrate"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// For returns the migrations of dialect "sqlite" or "postgres".
func For(dialect string) (*migrate.Migrations, error) {
	sub, err := fs.Sub(files, dialect)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	m := migrate.NewMigrations()
	if err := m.Discover(sub); err != nil {
		return nil, fmt.Errorf("migrations: %s: %w", dialect, err)
	}
	return m, nil
}
