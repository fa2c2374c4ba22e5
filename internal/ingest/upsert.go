package ingest

import (
	"bytes"
	"encoding/json"

	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// recordItem turns an export record into the upsert's item. The content
// hash is the importer's canonical one, so API and export payloads that
// differ only in key order or spacing hash the same.
func recordItem(r importer.Record) store.PlatformItem {
	return store.PlatformItem{
		DataType:    r.DataType,
		ExternalID:  r.ExternalID,
		OccurredAt:  r.OccurredAt,
		Payload:     r.Payload,
		ContentHash: r.ContentHash(),
		Source:      payloadSource(r.Payload, ""),
	}
}

// apiItem turns a polled item into the upsert's item; its source is the
// payload's "source", "api" when it names none.
func apiItem(p platform.ID, it platform.Item) store.PlatformItem {
	r := importer.Record{Platform: string(p), DataType: it.DataType, ExternalID: it.ExternalID, OccurredAt: it.OccurredAt, Payload: it.Payload}
	return store.PlatformItem{
		DataType:    it.DataType,
		ExternalID:  it.ExternalID,
		OccurredAt:  it.OccurredAt,
		Payload:     it.Payload,
		ContentHash: r.ContentHash(),
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
