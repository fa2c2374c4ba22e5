package domain

import (
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// Cursor is a keyset position (time, id) in a list ordered by both, newest
// or oldest first. Encoded, it is opaque to clients.
type Cursor struct {
	Time time.Time
	ID   string
}

// Encode returns the opaque form of c.
func (c Cursor) Encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.Time.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

// DecodeCursor parses an opaque cursor; an empty string is no cursor (nil).
// A cursor Encode never made is a BAD_USER_INPUT error on "after".
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

// PageSize clamps a requested page size ("first") to [1, max], defaulting
// to def; outside it is a BAD_USER_INPUT error on "first".
func PageSize(first *int, def, max int) (int, error) {
	if first == nil {
		return def, nil
	}
	if *first < 1 || *first > max {
		return 0, apperr.Invalid("first", "first must be between 1 and %d", max)
	}
	return *first, nil
}

// Page is one page of a list, in the list's order, with each item's cursor.
type Page[T any] struct {
	Items       []T
	Cursors     []string
	HasNextPage bool
	// EndCursor is the last item's cursor ("" for an empty page).
	EndCursor string
}

// NewPage builds the page from up to limit+1 rows read after the previous
// page's cursor (one more than asked tells whether a next page exists);
// cursor gives each row's position.
func NewPage[T any](rows []T, limit int, cursor func(T) Cursor) Page[T] {
	p := Page[T]{Items: rows, Cursors: make([]string, 0, min(len(rows), limit))}
	if len(rows) > limit {
		p.Items, p.HasNextPage = rows[:limit], true
	}
	for _, r := range p.Items {
		p.Cursors = append(p.Cursors, cursor(r).Encode())
	}
	if n := len(p.Cursors); n > 0 {
		p.EndCursor = p.Cursors[n-1]
	}
	return p
}

// Map converts every item of p, keeping its cursors.
func Map[T, U any](p Page[T], f func(T) U) Page[U] {
	out := Page[U]{Items: make([]U, len(p.Items)), Cursors: p.Cursors, HasNextPage: p.HasNextPage, EndCursor: p.EndCursor}
	for i, it := range p.Items {
		out.Items[i] = f(it)
	}
	return out
}

// Keep returns p without the items keep refuses; the cursors of the items
// kept stay theirs, and EndCursor stays the last row read, so the next page
// still starts past a dropped item.
func (p Page[T]) Keep(keep func(T) bool) Page[T] {
	out := Page[T]{HasNextPage: p.HasNextPage, EndCursor: p.EndCursor, Items: make([]T, 0, len(p.Items)), Cursors: make([]string, 0, len(p.Cursors))}
	for i, it := range p.Items {
		if keep(it) {
			out.Items = append(out.Items, it)
			out.Cursors = append(out.Cursors, p.Cursors[i])
		}
	}
	return out
}
