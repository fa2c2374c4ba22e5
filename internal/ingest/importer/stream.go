package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// Limits bound what one import may cost the server, whatever the input.
// Zero fields take the defaults (DefaultLimits); a negative field disables
// that limit (benchmarks only).
type Limits struct {
	// MaxRecordBytes is the largest array element (one play, one watch)
	// decoded; a larger one is rejected unread and the file goes on. Real
	// elements are under 2 KB.
	MaxRecordBytes int
	// MaxStringBytes caps every name kept (track, artist, album, show,
	// episode, title, channel, query): longer ones are truncated on a
	// character boundary.
	MaxStringBytes int
	// MaxFileBytes is the most one file (or archive entry, after
	// decompression) may hold.
	MaxFileBytes int64
	// MaxTotalBytes is the most one import may read over all its files
	// (after decompression).
	MaxTotalBytes int64
	// MaxRatio is the largest decompressed/compressed ratio of an archive
	// entry, checked once the entry has produced more than 1 MiB (JSON
	// exports compress 5–20×; a zip bomb of whitespace 1000×).
	MaxRatio int64
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxRecordBytes: 64 << 10,
	MaxStringBytes: 1024,
	MaxFileBytes:   1 << 30,
	MaxTotalBytes:  4 << 30,
	MaxRatio:       100,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxRecordBytes == 0 {
		l.MaxRecordBytes = d.MaxRecordBytes
	}
	if l.MaxStringBytes == 0 {
		l.MaxStringBytes = d.MaxStringBytes
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = d.MaxFileBytes
	}
	if l.MaxTotalBytes == 0 {
		l.MaxTotalBytes = d.MaxTotalBytes
	}
	if l.MaxRatio == 0 {
		l.MaxRatio = d.MaxRatio
	}
	return l
}

// ratioFloor is how much an entry may produce before its compression ratio
// is judged: small files compress unpredictably.
const ratioFloor = 1 << 20

// limitError is a limit a file went over; it ends the file as BAD_USER_INPUT.
type limitError struct{ msg string }

func (e *limitError) Error() string { return e.msg }

// limitReader counts what a file yields and stops it at the limits.
type limitReader struct {
	r          io.Reader
	name       string
	n          int64
	compressed int64
	lim        *Limits
	total      *int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	*l.total += int64(n)
	switch {
	case l.lim.MaxFileBytes > 0 && l.n > l.lim.MaxFileBytes:
		return n, &limitError{fmt.Sprintf("%s holds more than %d bytes (the limit per file, after decompression)", l.name, l.lim.MaxFileBytes)}
	case l.lim.MaxRatio > 0 && l.compressed > 0 && l.n > ratioFloor && l.n > l.lim.MaxRatio*l.compressed:
		return n, &limitError{fmt.Sprintf("%s decompresses more than %d times its compressed size of %d bytes (the archive looks like a zip bomb)", l.name, l.lim.MaxRatio, l.compressed)}
	case l.lim.MaxTotalBytes > 0 && *l.total > l.lim.MaxTotalBytes:
		return n, &limitError{fmt.Sprintf("the import holds more than %d bytes over all its files (the limit per upload, after decompression)", l.lim.MaxTotalBytes)}
	}
	return n, err
}

// scanner walks a JSON array of values element by element. Every input
// byte is looked at once by the scanner (whitespace is skipped in place,
// never buffered and re-scanned) and once more by json.Unmarshal when it
// belongs to an element small enough to decode, so the cost is linear in
// the input whatever its shape, and memory is the buffer plus one element.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int
	end  int
	base int64 // input offset of buf[0]
	err  error // sticky read error (io.EOF at the end)

	maxElem int
	elem    []byte
	// tick is called after every refill (at most 64 KiB of input): the
	// place to check for cancellation.
	tick func() error
}

func newScanner(r io.Reader, maxElem int, tick func() error) *scanner {
	return &scanner{r: r, buf: make([]byte, 64<<10), maxElem: maxElem, tick: tick}
}

// offset is the input offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// fill reads more input; it returns false at the end or on an error (s.err).
func (s *scanner) fill() bool {
	if s.err != nil {
		return false
	}
	if err := s.tick(); err != nil {
		s.err = err
		return false
	}
	s.base += int64(s.end)
	s.pos, s.end = 0, 0
	for s.end == 0 {
		n, err := s.r.Read(s.buf)
		s.end = n
		if err != nil {
			s.err = err
			return n > 0
		}
	}
	return true
}

// skipSpace skips JSON whitespace and returns the next byte without
// consuming it; ok is false at the end of the input or on a read error.
func (s *scanner) skipSpace() (byte, bool) {
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case ' ', '\t', '\n', '\r':
				s.pos++
			default:
				return c, true
			}
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// readErr is the error that ended the input early: a read error, or
// io.ErrUnexpectedEOF for a clean end in the middle of something.
func (s *scanner) readErr() error {
	if s.err == nil || errors.Is(s.err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return s.err
}

// element reads one JSON value starting at the current (non-space) byte.
// It returns its bytes, or oversized=true (and no bytes) when it was
// longer than maxElem: the value is then skipped to its end unbuffered.
// The value's syntax is only checked as far as finding its end; the caller
// decodes it.
func (s *scanner) element() (elem []byte, oversized bool, err error) {
	s.elem = s.elem[:0]
	depth, inString, escaped := 0, false, false
	started, scalar := false, false
	for {
		if s.pos >= s.end && !s.fill() {
			if scalar && errors.Is(s.err, io.EOF) && !oversized {
				// A scalar at the very end: the caller finds the missing ].
				return s.elem, false, nil
			}
			return nil, false, s.readErr()
		}
		chunk := s.buf[s.pos:s.end]
		i, done := 0, false
		if !started {
			started = true
			switch chunk[0] {
			case '{', '[':
				depth = 1
			case '"':
				inString = true
			default:
				scalar = true
			}
			i = 1
		}
		if scalar {
			for ; i < len(chunk); i++ {
				switch chunk[i] {
				case ',', ']', '}', '[', '{', '"', ':', ' ', '\t', '\n', '\r':
					done = true
				}
				if done {
					break
				}
			}
		} else {
		bytes:
			for ; i < len(chunk); i++ {
				c := chunk[i]
				if inString {
					switch {
					case escaped:
						escaped = false
					case c == '\\':
						escaped = true
					case c == '"':
						inString = false
						if depth == 0 {
							i++
							done = true
							break bytes
						}
					}
					continue
				}
				switch c {
				case '"':
					inString = true
				case '{', '[':
					depth++
				case '}', ']':
					depth--
					if depth == 0 {
						i++
						done = true
						break bytes
					}
				}
			}
		}
		if !oversized {
			if len(s.elem)+i > s.maxElem {
				oversized = true
				s.elem = s.elem[:0]
			} else {
				s.elem = append(s.elem, chunk[:i]...)
			}
		}
		s.pos += i
		if done {
			if oversized {
				return nil, true, nil
			}
			return s.elem, false, nil
		}
	}
}

// invalidUTF8 returns the index of the first byte of b that is not valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// streamArray decodes a JSON array of objects element by element, so memory
// stays flat whatever the file size. confirm checks the first decoded
// element against the format (the content check after detection by name);
// row handles every element. Elements whose fields have the wrong JSON type
// are rejected and the stream goes on, as are elements larger than
// Limits.MaxRecordBytes; a syntax error, text that is not UTF-8 or a
// truncation ends the file.
func streamArray[T any](ctx context.Context, fs *fileState, r io.Reader, expected string, confirm func(*T) bool, row func(n int, v *T) error) error {
	sc := newScanner(r, fs.lim.MaxRecordBytes, func() error { return fs.tick(ctx) })
	if fs.lim.MaxRecordBytes < 0 {
		sc.maxElem = int(^uint(0) >> 1)
	}
	// A UTF-8 byte order mark (Windows editors add one) is accepted.
	if sc.fill() {
		if len(sc.buf[:sc.end]) >= 3 && string(sc.buf[:3]) == string(utf8BOM) {
			sc.pos = 3
		}
	}
	c, ok := sc.skipSpace()
	if !ok {
		if err := fs.stopped(sc.err); err != nil {
			return err
		}
		if errors.Is(sc.err, io.EOF) || sc.err == nil {
			return fs.wrongFormat(expected + " (the file is empty)")
		}
		return fs.corrupt(1, sc.offset(), sc.err)
	}
	if c != '[' {
		switch {
		case c == 0xFF || c == 0xFE:
			return fs.notUTF8(sc.offset(), " (it looks like UTF-16: save it as UTF-8)")
		case c == '{':
			return fs.wrongFormat(expected + " (expected a JSON array)")
		case c >= 0x80:
			return fs.notUTF8(sc.offset(), "")
		}
		return fs.wrongFormat(expected + " (it is not JSON)")
	}
	sc.pos++

	var v T
	fast, _ := any(&v).(fastDecoder)
	n, decoded := 0, 0
	for {
		c, ok := sc.skipSpace()
		if !ok {
			if err := fs.stopped(sc.err); err != nil {
				return err
			}
			return fs.truncatedAfter(n, sc.offset(), sc.readErr())
		}
		if c == ']' && n == 0 {
			sc.pos++
			break
		}
		if n > 0 {
			if c == ']' {
				sc.pos++
				break
			}
			if c != ',' {
				return fs.corrupt(n+1, sc.offset(), fmt.Errorf("expected , or ] after record %d", n))
			}
			sc.pos++
			if c, ok = sc.skipSpace(); !ok {
				if err := fs.stopped(sc.err); err != nil {
					return err
				}
				return fs.truncatedAfter(n, sc.offset(), sc.readErr())
			}
		}
		n++
		start := sc.offset()
		elem, oversized, err := sc.element()
		if err != nil {
			if err := fs.stopped(err); err != nil {
				return err
			}
			return fs.corrupt(n, sc.offset(), err)
		}
		fs.fr.Read++
		if oversized {
			fs.reject(n, fmt.Sprintf("record is larger than %d bytes", fs.lim.MaxRecordBytes))
			continue
		}
		if i := invalidUTF8(elem); i >= 0 {
			return fs.notUTF8(start+int64(i), "")
		}
		var zero T
		v = zero
		if fast != nil && fast.decodeFast(elem) {
			err = nil
		} else {
			v = zero
			err = json.Unmarshal(elem, &v)
		}
		var typeErr *json.UnmarshalTypeError
		var synErr *json.SyntaxError
		switch {
		case err == nil:
		case errors.As(err, &typeErr):
			if decoded == 0 {
				return fs.wrongFormat(expected)
			}
			fs.reject(n, typeReason(typeErr))
			continue
		case errors.As(err, &synErr):
			return fs.corrupt(n, start+synErr.Offset-1, err)
		default:
			return fs.corrupt(n, start, err)
		}
		decoded++
		if decoded == 1 && !confirm(&v) {
			return fs.wrongFormat(expected)
		}
		if err := row(n, &v); err != nil {
			return err
		}
	}
	if c, ok := sc.skipSpace(); ok {
		return fs.corrupt(n+1, sc.offset(), fmt.Errorf("data after the end of the array (%q)", c))
	}
	if err := fs.stopped(sc.err); err != nil {
		return err
	}
	if sc.err != nil && !errors.Is(sc.err, io.EOF) {
		return fs.corrupt(n+1, sc.offset(), sc.err)
	}
	return nil
}

// stopped turns a cancellation or a limit met while reading into the
// error that ends the file (a limit) or the import (cancellation); nil for
// anything else.
func (fs *fileState) stopped(err error) error {
	var ab *abortErr
	if errors.As(err, &ab) {
		return ab
	}
	var le *limitError
	if errors.As(err, &le) {
		return fmt.Errorf("importer: %w", apperr.New(apperr.BadUserInput, "%s", le.msg))
	}
	return nil
}

func (fs *fileState) notUTF8(offset int64, hint string) error {
	return fmt.Errorf("importer: %w", apperr.New(apperr.BadUserInput,
		"%s is not UTF-8 text: invalid byte at offset %d%s; exports are UTF-8, re-download or re-save the file as UTF-8", fs.fr.Name, offset, hint))
}

func (fs *fileState) truncatedAfter(n int, offset int64, err error) error {
	return fmt.Errorf("importer: %w", apperr.Wrap(err, apperr.BadUserInput,
		"%s is truncated or corrupt after record %d, near byte %d", fs.fr.Name, n, offset))
}

// clip cuts s to at most max bytes on a character boundary.
func clip(s string, max int) string {
	if max <= 0 || len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
