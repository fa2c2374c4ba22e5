package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// recordItem turns an export record into the upsert's item.
func recordItem(r importer.Record) store.PlatformItem {
	return store.PlatformItem{
		DataType:    string(r.DataType),
		ExternalID:  r.ExternalID,
		OccurredAt:  r.OccurredAt,
		Payload:     r.Payload,
		ContentHash: contentHash(r.Payload),
		Source:      payloadSource(r.Payload, ""),
	}
}

// contentHash is the hex SHA-256 of the payload's bytes. Both producers
// encode payloads deterministically (Go's encoder, struct fields in
// declaration order: importer's records and platform's items), so equal
// content has equal bytes; hashing the bytes instead of a canonical
// re-encoding (importer.Record.ContentHash) keeps imports about twice as
// fast. Only rows of one key are ever compared, so the choice just has to
// stay the same over time.
func contentHash(payload json.RawMessage) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// apiItem turns a polled item into the upsert's item; its source is the
// payload's "source", "api" when it names none.
func apiItem(it platform.Item) store.PlatformItem {
	return store.PlatformItem{
		DataType:    string(it.DataType),
		ExternalID:  it.ExternalID,
		OccurredAt:  it.OccurredAt,
		Payload:     it.Payload,
		ContentHash: contentHash(it.Payload),
		Source:      payloadSource(it.Payload, store.SourceAPI),
	}
}

// sourcePrefix is how every payload the importer and the streams write
// begins: "source" is their first field.
var sourcePrefix = []byte(`{"source":"`)

// payloadSource reads the payload's top-level "source" string, def when it
// has none. The common case is read without decoding the payload.
func payloadSource(payload json.RawMessage, def string) string {
	if rest, ok := bytes.CutPrefix(payload, sourcePrefix); ok {
		if end := bytes.IndexByte(rest, '"'); end >= 0 && bytes.IndexByte(rest[:end], '\\') < 0 {
			return string(rest[:end])
		}
	}
	var v struct {
		Source *string `json:"source"`
	}
	if err := json.Unmarshal(payload, &v); err != nil || v.Source == nil {
		return def
	}
	return *v.Source
}
