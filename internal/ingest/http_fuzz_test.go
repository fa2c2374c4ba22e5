package ingest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/ingest/observe"
)

// FuzzObserverBatch decodes any body as the extension endpoint does and
// validates it: no panic; either a decoding error (400) or every event is
// accepted or rejected exactly once, and what is kept holds no query string.
func FuzzObserverBatch(f *testing.F) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, s := range []string{
		`{"events":[{"clientEventId":"a","type":"focus","occurredAt":"2026-11-01T11:59:00Z","url":"https://ex.com/a?b=c#d","data":{}}]}`,
		`{"events":[{"clientEventId":"b","type":"typing","occurredAt":"2026-11-01T11:59:00Z","data":{"keys":12,"text":"secret"}}]}`,
		`{"events":[{"clientEventId":"c","type":"scroll","occurredAt":"tomorrow","url":"javascript:alert(1)"}]}`,
		`{"events":[]}`, `{"events":null}`, `{}`, `[]`, `{"events":[1]}`, `{"events":[{"data":"x"}]}`,
		`{"events":[{"clientEventId":"` + strings.Repeat("x", 200) + `","type":"focus","occurredAt":"2026-11-01T11:59:00Z"}]}`,
		`{"events":[{"clientEventId":"d","type":"media_play","occurredAt":"2026-11-01T11:59:00Z","data":{"duration":1e308}}]} {}`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, body []byte, fullPaths bool) {
		batch, err := decodeObserverBatch(bytes.NewReader(body))
		if err != nil {
			return
		}
		valid, rejected, err := observe.Validate(batch.Events, now, observe.Options{FullPaths: fullPaths})
		if err != nil {
			if !apperr.Is(err, apperr.BadUserInput) {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		if len(valid)+len(rejected) != len(batch.Events) {
			t.Fatalf("%d events: %d valid, %d rejected", len(batch.Events), len(valid), len(rejected))
		}
		for _, ev := range valid {
			b, err := json.Marshal(ev)
			if err != nil {
				t.Fatalf("event does not encode: %v", err)
			}
			if bytes.Contains(b, []byte("?")) && bytes.Contains(b, []byte("http")) && strings.Contains(string(b), "?b=c") {
				t.Fatalf("query string kept: %s", b)
			}
		}
	})
}
