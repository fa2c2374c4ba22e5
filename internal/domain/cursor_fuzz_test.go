package domain

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// FuzzCursor: any "after" a client sends decodes to a cursor that
// re-encodes to itself, or is BAD_USER_INPUT naming after; never a panic,
// never an id the database would refuse.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{
		"", "x", "not-a-cursor", "%%%", Cursor{Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), ID: "abc"}.Encode(),
		Cursor{Time: time.Unix(0, 0), ID: "|"}.Encode(), "MjAyNi0wMS0wMlQwMzowNDowNVp8AA", "fA", "MjAyNnxh",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := DecodeCursor(s)
		if err != nil {
			var ae *apperr.Error
			if !apperr.Is(err, apperr.BadUserInput) || !asAppErr(err, &ae) || ae.Field != "after" {
				t.Fatalf("error %v", err)
			}
			return
		}
		if c == nil {
			if s != "" {
				t.Fatalf("%q decoded to nothing", s)
			}
			return
		}
		if c.ID == "" || strings.IndexByte(c.ID, 0) >= 0 || !utf8.ValidString(c.ID) {
			t.Fatalf("id %q", c.ID)
		}
		again, err := DecodeCursor(c.Encode())
		if err != nil || !again.Time.Equal(c.Time) || again.ID != c.ID {
			t.Fatalf("round trip of %q: %+v %v", s, again, err)
		}
	})
}

func asAppErr(err error, target **apperr.Error) bool {
	for e := err; e != nil; {
		if ae, ok := e.(*apperr.Error); ok {
			*target = ae
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}
