package importer

import "strconv"

// A fast path for decoding the elements of an export: flat objects of
// strings, integers, booleans and nulls, which is what every real Spotify
// element is. encoding/json reads an element twice (a validity scan, then a
// reflective decode) and allocates every string on its own; decoding a
// million plays that way was a fifth of an import's CPU time.
//
// The fast path gives up (returns false) on anything it does not handle
// exactly as json.Unmarshal would: a non-object, a nested value, an escape
// sequence, a key that is not ASCII or that matches a field only without
// regard to case, a value of the wrong JSON type, a number that is not a
// plain integer, any syntax error. The caller then decodes the element
// with json.Unmarshal, so errors, rejections and their messages are
// encoding/json's as before. FuzzFastDecode checks that whenever the fast
// path succeeds, json.Unmarshal succeeds with the same value.

// fastDecoder is implemented by the row types that have a fast path.
// decodeFast decodes the (valid UTF-8) element b into the zero value of the
// receiver and reports whether it could; on false the receiver holds
// garbage and the caller resets it.
type fastDecoder interface {
	decodeFast(b []byte) bool
}

// fieldKind is the Go type of a row field, for the fast path.
type fieldKind uint8

const (
	kindString    fieldKind = iota // string: null leaves it alone
	kindStringPtr                  // *string: null sets nil
	kindInt64Ptr                   // *int64
	kindBoolPtr                    // *bool
)

// objReader walks one flat JSON object.
type objReader struct {
	b   []byte
	i   int
	all string // b as one string: field values are substrings of it
}

func (r *objReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// str reads a string without escapes at r.i (the opening quote) and
// returns its bounds; ok is false for an escape, a control character or
// an unterminated string.
func (r *objReader) str() (start, end int, ok bool) {
	if r.i >= len(r.b) || r.b[r.i] != '"' {
		return 0, 0, false
	}
	start = r.i + 1
	for j := start; j < len(r.b); j++ {
		switch c := r.b[j]; {
		case c == '"':
			r.i = j + 1
			return start, j, true
		case c == '\\' || c < 0x20:
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// literal consumes word (true, false, null) if it is next.
func (r *objReader) literal(word string) bool {
	if len(r.b)-r.i < len(word) || string(r.b[r.i:r.i+len(word)]) != word {
		return false
	}
	r.i += len(word)
	return true
}

// number reads a JSON number at r.i and returns its bounds and whether it
// is a plain integer (no fraction, no exponent).
func (r *objReader) number() (start, end int, integer, ok bool) {
	start, j := r.i, r.i
	if j < len(r.b) && r.b[j] == '-' {
		j++
	}
	switch {
	case j < len(r.b) && r.b[j] == '0':
		j++
	case j < len(r.b) && r.b[j] >= '1' && r.b[j] <= '9':
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
	default:
		return 0, 0, false, false
	}
	integer = true
	if j < len(r.b) && r.b[j] == '.' {
		integer = false
		j++
		d := j
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
		if j == d {
			return 0, 0, false, false
		}
	}
	if j < len(r.b) && (r.b[j] == 'e' || r.b[j] == 'E') {
		integer = false
		j++
		if j < len(r.b) && (r.b[j] == '+' || r.b[j] == '-') {
			j++
		}
		d := j
		for j < len(r.b) && r.b[j] >= '0' && r.b[j] <= '9' {
			j++
		}
		if j == d {
			return 0, 0, false, false
		}
	}
	r.i = j
	return start, j, integer, true
}

// skipScalar skips a string, number or literal (the value of a key the row
// does not keep); nested values are not handled.
func (r *objReader) skipScalar() bool {
	if r.i >= len(r.b) {
		return false
	}
	switch c := r.b[r.i]; {
	case c == '"':
		_, _, ok := r.str()
		return ok
	case c == '-' || c >= '0' && c <= '9':
		_, _, _, ok := r.number()
		return ok
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	}
	return false
}

// flatRow is what decodeObject fills: a row type's fields by index.
type flatRow interface {
	// field returns the kind and index of the field key names exactly.
	field(key []byte) (kind fieldKind, idx int, ok bool)
	// folds reports whether key names a field ignoring case: json.Unmarshal
	// would decode it into that field, the fast path gives up.
	folds(key []byte) bool
	setString(idx int, s string, null bool)
	setInt(idx int, v int64, null bool)
	setBool(idx int, v, null bool)
}

// decodeObject walks b as a flat object into row.
func decodeObject(b []byte, row flatRow) bool {
	r := objReader{b: b}
	r.space()
	if r.i >= len(b) || b[r.i] != '{' {
		return false
	}
	r.i++
	r.space()
	if r.i < len(b) && b[r.i] == '}' {
		r.i++
		r.space()
		return r.i == len(b)
	}
	for {
		ks, ke, ok := r.str()
		if !ok {
			return false
		}
		key := b[ks:ke]
		r.space()
		if r.i >= len(b) || b[r.i] != ':' {
			return false
		}
		r.i++
		r.space()
		if r.i >= len(b) {
			return false
		}
		kind, idx, exact := row.field(key)
		switch {
		case !exact:
			if !plainASCII(key) || row.folds(key) {
				return false
			}
			if !r.skipScalar() {
				return false
			}
		case b[r.i] == 'n':
			if !r.literal("null") {
				return false
			}
			switch kind {
			case kindString:
				// json.Unmarshal leaves a non-pointer field alone on null.
			case kindStringPtr:
				row.setString(idx, "", true)
			case kindInt64Ptr:
				row.setInt(idx, 0, true)
			case kindBoolPtr:
				row.setBool(idx, false, true)
			}
		case kind == kindString || kind == kindStringPtr:
			s, e, ok := r.str()
			if !ok {
				return false
			}
			if r.all == "" {
				// One allocation per element instead of one per field.
				r.all = string(b)
			}
			row.setString(idx, r.all[s:e], false)
		case kind == kindInt64Ptr:
			s, e, integer, ok := r.number()
			if !ok || !integer {
				return false
			}
			v, err := strconv.ParseInt(string(b[s:e]), 10, 64)
			if err != nil {
				return false
			}
			row.setInt(idx, v, false)
		case kind == kindBoolPtr:
			switch {
			case r.literal("true"):
				row.setBool(idx, true, false)
			case r.literal("false"):
				row.setBool(idx, false, false)
			default:
				return false
			}
		default:
			return false
		}
		r.space()
		if r.i >= len(b) {
			return false
		}
		switch b[r.i] {
		case ',':
			r.i++
			r.space()
		case '}':
			r.i++
			r.space()
			return r.i == len(b)
		default:
			return false
		}
	}
}

func plainASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// equalFoldASCII reports whether a and b are equal ignoring ASCII case.
func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func foldsToAny(key []byte, names []string) bool {
	for _, n := range names {
		if equalFoldASCII(key, n) {
			return true
		}
	}
	return false
}

func strPtr(s string, null bool) *string {
	if null {
		return nil
	}
	return &s
}

func int64Ptr(v int64, null bool) *int64 {
	if null {
		return nil
	}
	return &v
}

// The JSON names of extendedRow, in field order: a field's index.
var extendedNames = [...]string{
	"ts", "platform", "ms_played", "conn_country", "master_metadata_track_name",
	"master_metadata_album_artist_name", "master_metadata_album_album_name", "spotify_track_uri",
	"episode_name", "episode_show_name", "spotify_episode_uri", "audiobook_title", "audiobook_uri",
	"audiobook_chapter_uri", "audiobook_chapter_title", "reason_start", "reason_end",
	"shuffle", "skipped", "offline", "incognito_mode",
}

var _ flatRow = (*extendedRow)(nil)

func (v *extendedRow) decodeFast(b []byte) bool { return decodeObject(b, v) }

func (v *extendedRow) field(key []byte) (fieldKind, int, bool) {
	switch string(key) { // no allocation: the compiler compares the bytes
	case "ts":
		return kindStringPtr, 0, true
	case "ms_played":
		return kindInt64Ptr, 2, true
	case "shuffle":
		return kindBoolPtr, 17, true
	case "skipped":
		return kindBoolPtr, 18, true
	case "offline":
		return kindBoolPtr, 19, true
	case "incognito_mode":
		return kindBoolPtr, 20, true
	case "platform":
		return kindString, 1, true
	case "conn_country":
		return kindString, 3, true
	case "master_metadata_track_name":
		return kindString, 4, true
	case "master_metadata_album_artist_name":
		return kindString, 5, true
	case "master_metadata_album_album_name":
		return kindString, 6, true
	case "spotify_track_uri":
		return kindString, 7, true
	case "episode_name":
		return kindString, 8, true
	case "episode_show_name":
		return kindString, 9, true
	case "spotify_episode_uri":
		return kindString, 10, true
	case "audiobook_title":
		return kindString, 11, true
	case "audiobook_uri":
		return kindString, 12, true
	case "audiobook_chapter_uri":
		return kindString, 13, true
	case "audiobook_chapter_title":
		return kindString, 14, true
	case "reason_start":
		return kindString, 15, true
	case "reason_end":
		return kindString, 16, true
	}
	return 0, 0, false
}

func (v *extendedRow) folds(key []byte) bool { return foldsToAny(key, extendedNames[:]) }

func (v *extendedRow) setString(idx int, s string, null bool) {
	switch idx {
	case 0:
		v.Ts = strPtr(s, null)
	case 1:
		v.Platform = s
	case 3:
		v.ConnCountry = s
	case 4:
		v.TrackName = s
	case 5:
		v.AlbumArtistName = s
	case 6:
		v.AlbumName = s
	case 7:
		v.TrackURI = s
	case 8:
		v.EpisodeName = s
	case 9:
		v.EpisodeShowName = s
	case 10:
		v.EpisodeURI = s
	case 11:
		v.AudiobookTitle = s
	case 12:
		v.AudiobookURI = s
	case 13:
		v.ChapterURI = s
	case 14:
		v.ChapterTitle = s
	case 15:
		v.ReasonStart = s
	case 16:
		v.ReasonEnd = s
	}
}

func (v *extendedRow) setInt(_ int, n int64, null bool) { v.MsPlayed = int64Ptr(n, null) }

func (v *extendedRow) setBool(idx int, b, null bool) {
	var p *bool
	if !null {
		p = &b
	}
	switch idx {
	case 17:
		v.Shuffle = p
	case 18:
		v.Skipped = p
	case 19:
		v.Offline = p
	case 20:
		v.IncognitoMode = p
	}
}
