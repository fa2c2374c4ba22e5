// Package migrations holds the versioned SQL schema of twinme, one directory
// per dialect, embedded into the binary and run by Bun's migrator (the store
// builds the migrator; only internal/store imports Bun). It never imports the
// current models: a migration is a fixed point in history.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// FS returns the SQL files of dialect "sqlite" or "postgres", named
// <version>_<name>.up.sql as Bun's migrator discovers them.
func FS(dialect string) (fs.FS, error) {
	if dialect != "sqlite" && dialect != "postgres" {
		return nil, fmt.Errorf("migrations: unknown dialect %q", dialect)
	}
	return fs.Sub(files, dialect)
}
