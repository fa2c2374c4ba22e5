package store

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// Cursor is a keyset position (time, id) in a list ordered by both.
// Encoded, it is opaque to clients.
type Cursor struct {
	Time time.Time
	ID   string
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Time.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// DecodeCursor parses an opaque cursor; an empty string is no cursor.
func DecodeCursor(s string) (*Cursor, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, apperr.Invalid("after", "malformed cursor")
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, ts)
	// An id with a NUL or broken UTF-8 could never have come from Encode
	// and would reach the database as text PostgreSQL refuses.
	if !ok || err != nil || id == "" || strings.IndexByte(id, 0) >= 0 || !utf8.ValidString(id) {
		return nil, apperr.Invalid("after", "malformed cursor")
	}
	return &Cursor{Time: t, ID: id}, nil
}

// PageSize clamps a requested page size ("first") to [1, max], defaulting to def.
func PageSize(first *int, def, max int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 1 || *first > max {
		return 0, apperr.Invalid("first", "first must be between 1 and %d", max)
	}
	return *first, nil
}

// Keyset bounds are written as row-value comparisons, "(t, id) < (?, ?)",
// which PostgreSQL and SQLite (3.15+) both turn into a range scan of an
// index on (…, t, id) in the same direction; "(t < ? OR (t = ? AND id < ?))"
// is only a filter over every row of the prefix. Each list query has an
// index in the order of its ORDER BY (migration 20261130130001).
