package model

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/internal/apperr"
)

// The built-in scalars String, ID and Time are bound (gqlgen.yml) to these
// functions so that a client's bad value is BAD_USER_INPUT naming the
// argument (the presenter adds the name from the error's path), never a
// database error later: no string may hold a NUL character (PostgreSQL
// refuses it in text) and a Time must be RFC 3339.

// MarshalSafeString writes a String.
func MarshalSafeString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalSafeString reads a String without NUL characters.
func UnmarshalSafeString(v any) (string, error) {
	s, err := graphql.UnmarshalString(v)
	if err != nil {
		return "", apperr.Wrap(err, apperr.BadUserInput, "expected a string")
	}
	return s, checkText(s)
}

// MarshalSafeID writes an ID.
func MarshalSafeID(s string) graphql.Marshaler { return graphql.MarshalID(s) }

// UnmarshalSafeID reads an ID without NUL characters.
func UnmarshalSafeID(v any) (string, error) {
	s, err := graphql.UnmarshalID(v)
	if err != nil {
		return "", apperr.Wrap(err, apperr.BadUserInput, "expected an ID")
	}
	return s, checkText(s)
}

// MarshalSafeTime writes a Time.
func MarshalSafeTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalSafeTime reads an RFC 3339 time.
func UnmarshalSafeTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, apperr.Wrap(err, apperr.BadUserInput, "expected an RFC 3339 time such as 2026-11-30T12:00:00Z")
	}
	return t, nil
}

func checkText(s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return apperr.New(apperr.BadUserInput, "text must not contain NUL characters")
	}
	if !utf8.ValidString(s) {
		return apperr.New(apperr.BadUserInput, "text must be UTF-8")
	}
	return nil
}

// nulEscape is how a NUL character appears in encoded JSON.
var nulEscape = []byte(`\u0000`)

func checkJSON(b []byte) error {
	if bytes.Contains(b, nulEscape) {
		return apperr.New(apperr.BadUserInput, "JSON must not contain NUL characters")
	}
	return nil
}
