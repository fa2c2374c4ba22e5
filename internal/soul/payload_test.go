package soul_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/testutil"
)

// The payload round trip: what the writers store (platform.StoredKinds:
// every stream's and every import's payload type) comes back through the
// analysis loader with every field it reads set.

var updatePayloads = flag.Bool("update-payloads", false,
	"rewrite "+payloadsGolden+" from the platform payload types (only with a data migration: it is the stored format)")

// payloadsGolden holds one stored payload per kind, every field set, as
// rows already in databases hold them: one line "<kind> <json>".
const payloadsGolden = "testdata/stored_payloads.golden"

func kindKey(p platform.ID, dt platform.DataType, source string) string {
	return string(p) + "/" + string(dt) + "/" + source
}

// loaded says what Load makes of a kind: out picks, from the input, what
// the row stored at `at` became; zeroOK names the fields of it the kind
// has no data for.
type loaded struct {
	out    func(in analysis.Input, at time.Time) any
	zeroOK []string
}

func playAt(in analysis.Input, at time.Time) any {
	return itemAt(in.Plays, at, func(p analysis.Play) time.Time { return p.At })
}

func videoAt(in analysis.Input, at time.Time) any {
	return itemAt(in.Videos, at, func(v analysis.Video) time.Time { return v.At })
}

func itemAt[T any](items []T, at time.Time, when func(T) time.Time) any {
	for _, it := range items {
		if when(it).Equal(at) {
			return it
		}
	}
	return nil
}

func only[T any](items []T) any {
	if len(items) != 1 {
		return nil
	}
	return items[0]
}

// loadedKinds: the kinds Load reads, with what they become.
var loadedKinds = map[string]loaded{
	// Genres reach the analyser on plays (of the artist with that name).
	"spotify/top_artist/api": {out: func(in analysis.Input, _ time.Time) any {
		if len(in.Plays) == 0 {
			return nil
		}
		return in.Plays[0].Genres
	}},
	"spotify/play/api":              {out: playAt, zeroOK: []string{"Skipped", "ReasonEnd"}}, // the Web API has no skip data
	"spotify/play/extended_history": {out: playAt},
	"spotify/play/account_data":     {out: playAt},
	"youtube/liked_video/api":       {out: videoAt},
	"youtube/watch/takeout":         {out: videoAt, zeroOK: []string{"CategoryID"}}, // Takeout names no category
	"github/repo/api":               {out: func(in analysis.Input, _ time.Time) any { return only(in.Repos) }},
	"github/event/api": {out: func(in analysis.Input, at time.Time) any {
		return itemAt(in.CodeEvents, at, func(e analysis.CodeEvent) time.Time { return e.At })
	}},
	"discord/guild/api": {out: func(in analysis.Input, _ time.Time) any { return only(in.Guilds) }},
	"gmail/message/api": {out: func(in analysis.Input, at time.Time) any {
		return itemAt(in.Mails, at, func(m analysis.Mail) time.Time { return m.At })
	}},
	"linkedin/profile/api": {out: func(in analysis.Input, _ time.Time) any {
		if in.LinkedIn == nil {
			return nil
		}
		return *in.LinkedIn
	}},
}

// unreadKinds have no counterpart in the analyser's input.
var unreadKinds = []string{
	"spotify/episode_play/extended_history", "spotify/episode_play/account_data",
	"spotify/audiobook_play/extended_history", "spotify/top_track/api",
	"youtube/channel/api", "youtube/subscription/api", "youtube/search/takeout",
	"github/star/api", "slack/identity/api", "slack/team/api",
}

// zeroFields names the fields of v that hold their zero value, but for
// those in ok; v itself when it is not a struct and is zero.
func zeroFields(v any, ok []string) []string {
	if v == nil {
		return []string{"(nothing loaded)"}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Struct {
		if rv.IsZero() || (rv.Kind() == reflect.Slice && rv.Len() == 0) {
			return []string{rv.Type().String()}
		}
		return nil
	}
	var zero []string
	for i := range rv.NumField() {
		f := rv.Field(i)
		name := rv.Type().Field(i).Name
		empty := f.IsZero() || ((f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0)
		if empty && !slices.Contains(ok, name) {
			zero = append(zero, name)
		}
	}
	return zero
}

// fill sets every field of v, recursively: strings "v" (so that top
// artists name the plays' artist and repositories the events'), numbers
// 7, booleans true, one element in slices and maps.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("v")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(p.Elem())
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	default:
		panic(fmt.Sprintf("fill: %s", v.Type()))
	}
}

// filledRow is one kind's payload with every field set, from one source.
type filledRow struct {
	key    string
	kind   platform.StoredKind
	source string
	raw    []byte
}

func filledRows(t *testing.T) []filledRow {
	t.Helper()
	var rows []filledRow
	for _, k := range platform.StoredKinds() {
		for _, src := range k.Sources {
			v := reflect.New(reflect.TypeOf(k.Payload)).Elem()
			fill(v)
			v.FieldByName("Source").SetString(src)
			raw, err := json.Marshal(v.Interface())
			storetest.Must(t, err)
			rows = append(rows, filledRow{kindKey(k.Platform, k.DataType, src), k, src, raw})
		}
	}
	return rows
}

// checkGolden fails for every kind whose payload no longer encodes as the
// rows already stored do; it returns the stored bytes by kind.
func checkGolden(t *testing.T, rows []filledRow) map[string][]byte {
	t.Helper()
	if *updatePayloads {
		var b bytes.Buffer
		for _, r := range rows {
			fmt.Fprintf(&b, "%s %s\n", r.key, r.raw)
		}
		storetest.Must(t, os.WriteFile(payloadsGolden, b.Bytes(), 0o644))
	}
	f, err := os.Open(payloadsGolden)
	storetest.Must(t, err)
	defer f.Close()
	golden := map[string][]byte{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, raw, _ := strings.Cut(sc.Text(), " ")
		golden[key] = []byte(raw)
	}
	storetest.Must(t, sc.Err())
	for _, r := range rows {
		g, ok := golden[r.key]
		switch {
		case !ok:
			t.Errorf("%s: not in %s; a new kind: run this test with -update-payloads", r.key, payloadsGolden)
		case !bytes.Equal(g, r.raw):
			t.Errorf("%s: the stored format changed (a JSON tag renamed, added or dropped?): rows already stored "+
				"no longer encode the same, and fields renamed read zero from them\n stored: %s\n now:    %s", r.key, g, r.raw)
		}
	}
	return golden
}

// TestPayloadRoundTrip stores every kind of platform item (every stream's
// and every import's payload type, platform.StoredKinds) with every field
// set, through the real upsert, and loads it with the analysis loader:
// every field of the analyser's input that the kind feeds must be set.
// The rows stored are the golden ones (the format rows already in a
// database have): a renamed JSON tag fails both because the golden line
// differs and because the loader, reading the renamed field, finds zero.
func TestPayloadRoundTrip(t *testing.T) {
	rows := filledRows(t)
	golden := checkGolden(t, rows)

	// Every kind is classified: read by Load or knowingly not.
	for _, r := range rows {
		_, read := loadedKinds[r.key]
		if read == slices.Contains(unreadKinds, r.key) {
			t.Errorf("%s: list it in loadedKinds (what Load makes of it) or in unreadKinds, not both or neither", r.key)
		}
	}
	// Every stream's data type is a stored kind (the streams' own test,
	// internal/platform, checks they write exactly its type).
	for id, p := range platform.Providers() {
		for _, s := range p.Streams() {
			if !slices.ContainsFunc(rows, func(r filledRow) bool { return r.kind.Platform == id && r.kind.DataType == s.DataType }) {
				t.Errorf("%s stream %s writes %s, not a platform.StoredKind", id, s.Name, s.DataType)
			}
		}
	}

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		userID := e.user(t, "payloads@example.com")
		byPlatform := map[platform.ID][]store.PlatformItem{}
		at := map[string]time.Time{}
		for i, r := range rows {
			raw := golden[r.key]
			if raw == nil {
				raw = r.raw
			}
			at[r.key] = t0.Add(-time.Duration(i+1) * time.Hour)
			byPlatform[r.kind.Platform] = append(byPlatform[r.kind.Platform], store.PlatformItem{
				DataType: string(r.kind.DataType), ExternalID: r.key, OccurredAt: at[r.key], Payload: raw, Source: r.source})
		}
		for p, items := range byPlatform {
			e.upsert(t, userID, string(p), items)
		}
		in, err := e.soul.Load(context.Background(), userID)
		storetest.Must(t, err)
		for _, r := range rows {
			l, ok := loadedKinds[r.key]
			if !ok {
				continue
			}
			v := l.out(in, at[r.key])
			if zero := zeroFields(v, l.zeroOK); len(zero) > 0 {
				t.Errorf("%s: stored with every field set, loaded with %v zero: %+v", r.key, zero, v)
			}
		}
	})
}

// Export files with every field set, one per import format. The extended
// history's incognito_mode is false: a private-session play is not
// imported at all.
var importFormats = []struct {
	name, platform, file, content string
	// kinds each stored once; those Load reads must come back set.
	kinds []string
}{
	{"spotify account data music", "spotify", "StreamingHistory_music_0.json",
		`[{"endTime":"2026-11-20 19:00","artistName":"Artist","trackName":"Track","msPlayed":123456}]`,
		[]string{"spotify/play/account_data"}},
	{"spotify account data podcast", "spotify", "StreamingHistory_podcast_0.json",
		`[{"endTime":"2026-11-20 19:00","podcastName":"Show","episodeName":"Episode","msPlayed":123456}]`,
		[]string{"spotify/episode_play/account_data"}},
	{"spotify extended history", "spotify", "Streaming_History_Audio_2026_0.json",
		"[" + extendedTrack + "," + extendedEpisode + "," + extendedAudiobook + "]",
		[]string{"spotify/play/extended_history", "spotify/episode_play/extended_history", "spotify/audiobook_play/extended_history"}},
	{"spotify endsong", "spotify", "endsong_0.json", "[" + extendedTrack + "]",
		[]string{"spotify/play/extended_history"}},
	{"takeout watch history", "youtube", "watch-history.json",
		`[{"header":"YouTube","title":"Watched Solar","titleUrl":"https://www.youtube.com/watch?v=-e8Nfjl_AKk",` +
			`"subtitles":[{"name":"Sault - Topic","url":"https://www.youtube.com/channel/UCabc"}],` +
			`"time":"2026-11-20T19:00:00.000Z","products":["YouTube"],"activityControls":["YouTube watch history"]}]`,
		[]string{"youtube/watch/takeout"}},
	{"takeout search history", "youtube", "search-history.json",
		`[{"header":"YouTube","title":"Searched for sault solar","titleUrl":"https://www.youtube.com/results?search_query=sault+solar",` +
			`"time":"2026-11-20T19:00:00.000Z","products":["YouTube"],"activityControls":["YouTube search history"]}]`,
		[]string{"youtube/search/takeout"}},
}

const (
	extendedCommon = `"username":"user","platform":"Android OS 14 API 34 (Google, Pixel 8)","ms_played":123456,` +
		`"conn_country":"DE","ip_addr":"192.0.2.1","user_agent_decrypted":"unknown","reason_start":"clickrow","reason_end":"fwdbtn",` +
		`"shuffle":true,"skipped":true,"offline":true,"offline_timestamp":1700000000,"incognito_mode":false`
	extendedTrack = `{"ts":"2026-11-20T19:00:00Z",` + extendedCommon + `,"master_metadata_track_name":"Track",` +
		`"master_metadata_album_artist_name":"Artist","master_metadata_album_album_name":"Album","spotify_track_uri":"spotify:track:abc"}`
	extendedEpisode = `{"ts":"2026-11-20T20:00:00Z",` + extendedCommon + `,"episode_name":"Episode","episode_show_name":"Show",` +
		`"spotify_episode_uri":"spotify:episode:abc"}`
	extendedAudiobook = `{"ts":"2026-11-20T21:00:00Z",` + extendedCommon + `,"audiobook_title":"Book","audiobook_uri":"spotify:audiobook:abc",` +
		`"audiobook_chapter_uri":"spotify:chapter:abc","audiobook_chapter_title":"Chapter"}`
)

// TestImportRoundTrip imports one file of every format through the real
// importer and upsert: every row stored is its kind's payload type byte
// for byte, and what Load reads of it comes back set.
func TestImportRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		ctx := context.Background()
		for i, f := range importFormats {
			userID := e.user(t, fmt.Sprintf("import%d@example.com", i))
			// Genres come from a top artist of the same name.
			e.upsert(t, userID, "spotify", []store.PlatformItem{apiItem(t, string(platform.DataSpotifyTopArtist), "a1", t0,
				platform.SpotifyTopArtistPayload{Source: platform.SourceAPI, Name: "Artist", Genres: []string{"pop"}})})
			file := importer.File{Name: f.file, Size: int64(len(f.content)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(f.content)), nil }}
			res, err := e.ingest.ImportFiles(ctx, userID, platform.ID(f.platform), []importer.File{file}, nil)
			if err != nil {
				t.Fatalf("%s: %v", f.name, err)
			}
			if res.Imported != len(f.kinds) {
				t.Errorf("%s: imported %d rows, want %d: %+v", f.name, res.Imported, len(f.kinds), res)
			}
			stored := map[string]int{}
			for _, k := range platform.StoredKinds() {
				if string(k.Platform) != f.platform {
					continue
				}
				storetest.Must(t, db.EachPlatformItem(ctx, userID, string(k.Platform), string(k.DataType), func(d *store.PlatformData) error {
					if !slices.Contains(k.Sources, d.Source) {
						return nil // the other payload type of this data type
					}
					stored[kindKey(k.Platform, k.DataType, d.Source)]++
					if msg := testutil.SameJSONBytes(k.Payload, []byte(d.Payload)); msg != "" {
						t.Errorf("%s: stored %s %s is not a %T: %s", f.name, k.DataType, d.Source, k.Payload, msg)
					}
					return nil
				}))
			}
			in, err := e.soul.Load(ctx, userID)
			storetest.Must(t, err)
			for _, key := range f.kinds {
				if stored[key] != 1 {
					t.Errorf("%s: %d rows of %s stored, want 1 (all: %v)", f.name, stored[key], key, stored)
				}
				l, ok := loadedKinds[key]
				if !ok {
					continue
				}
				var v any
				switch {
				case len(in.Plays) == 1:
					v = in.Plays[0]
				case len(in.Videos) == 1:
					v = in.Videos[0]
				}
				zeroOK := l.zeroOK
				if key == "spotify/play/account_data" {
					zeroOK = []string{"TrackID", "Skipped", "ReasonEnd"} // the account data names no URI, no skips
				}
				if zero := zeroFields(v, zeroOK); len(zero) > 0 {
					t.Errorf("%s: imported with every field set, %s loaded with %v zero: %+v", f.name, key, zero, v)
				}
			}
		}
	})
}
