package store

import "github.com/twinme/twinme/internal/domain"

// Cursor is the one keyset position of every list (domain.Cursor).
type Cursor = domain.Cursor

// Keyset bounds are written as row-value comparisons, "(t, id) < (?, ?)",
// which PostgreSQL and SQLite (3.15+) both turn into a range scan of an
// index on (…, t, id) in the same direction; "(t < ? OR (t = ? AND id < ?))"
// is only a filter over every row of the prefix. Each list query has an
// index in the order of its ORDER BY (migration 20261130130001).
