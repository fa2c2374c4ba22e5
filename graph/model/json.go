package model

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// JSON is a JSON document passed through as it is stored.
type JSON = json.RawMessage

// MarshalJSON writes the document itself.
func MarshalJSON(v JSON) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		if len(v) == 0 || !json.Valid(v) {
			_, _ = io.WriteString(w, "null")
			return
		}
		_, _ = w.Write(v)
	})
}

// UnmarshalJSON accepts any JSON value from a variable or literal.
func UnmarshalJSON(v any) (JSON, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("JSON: %w", err)
	}
	if err := checkJSON(b); err != nil {
		return nil, err
	}
	return JSON(b), nil
}
