package llm

import (
	"bufio"
	"bytes"
	"io"
)

// maxEventLine bounds one line of the event stream; a text delta is a few
// tokens, so anything near this is a broken stream.
const maxEventLine = 1 << 20

// sseEvent is one dispatched server-sent event.
type sseEvent struct {
	name string
	data []byte
}

// sseReader splits a text/event-stream body into events, following the
// WHATWG parsing rules that matter here: lines end in LF, CRLF or CR; a blank
// line dispatches; "data" lines join with LF; lines starting with ':' are
// comments; a field without a colon has an empty value; one leading space of
// the value is dropped.
type sseReader struct {
	sc *bufio.Scanner
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxEventLine)
	sc.Split(scanSSELines)
	return &sseReader{sc: sc}
}

// next returns the next event, or io.EOF when the body ends (an event not
// terminated by a blank line is discarded, as the spec says).
func (r *sseReader) next() (sseEvent, error) {
	var (
		ev      sseEvent
		hasData bool
	)
	for r.sc.Scan() {
		line := r.sc.Bytes()
		if len(line) == 0 {
			if hasData || ev.name != "" {
				return ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := bytes.Cut(line, []byte{':'})
		if found && len(value) > 0 && value[0] == ' ' {
			value = value[1:]
		}
		switch string(field) {
		case "event":
			ev.name = string(value)
		case "data":
			if hasData {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
			hasData = true
		}
	}
	if err := r.sc.Err(); err != nil {
		return sseEvent{}, err
	}
	return sseEvent{}, io.EOF
}

// scanSSELines is bufio.ScanLines that also ends a line at a lone CR.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if !atEOF {
				// A CR at the end of the buffer may be half of a CRLF.
				return 0, nil, nil
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}
