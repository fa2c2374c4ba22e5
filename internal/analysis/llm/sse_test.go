package llm

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestSSEReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []sseEvent
	}{
		{"lf", "event: ping\ndata: {\"type\":\"ping\"}\n\n", []sseEvent{{"ping", []byte(`{"type":"ping"}`)}}},
		{"crlf", "event: a\r\ndata: 1\r\n\r\nevent: b\r\ndata: 2\r\n\r\n", []sseEvent{{"a", []byte("1")}, {"b", []byte("2")}}},
		{"cr", "event: a\rdata: 1\r\r", []sseEvent{{"a", []byte("1")}}},
		{"comment and multi-line data", ": keep-alive\ndata: x\ndata:y\n\n", []sseEvent{{"", []byte("x\ny")}}},
		{"no space after colon", "event:e\ndata:{}\n\n", []sseEvent{{"e", []byte("{}")}}},
		{"unterminated event dropped", "event: a\ndata: 1\n\nevent: b\ndata: 2", []sseEvent{{"a", []byte("1")}}},
		{"blank lines between", "\n\n\nevent: a\ndata: 1\n\n\n", []sseEvent{{"a", []byte("1")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// One byte at a time, so a CRLF split across reads is exercised.
			r := newSSEReader(iotest.OneByteReader(strings.NewReader(tc.in)))
			var got []sseEvent
			for {
				ev, err := r.next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, ev)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d events %q, want %d", len(got), got, len(tc.want))
			}
			for i := range got {
				if got[i].name != tc.want[i].name || string(got[i].data) != string(tc.want[i].data) {
					t.Errorf("event %d = %q/%q, want %q/%q", i, got[i].name, got[i].data, tc.want[i].name, tc.want[i].data)
				}
			}
		})
	}
}
