package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/platform"
)

const (
	fxAccountMusic   = "testdata/Spotify Account Data/StreamingHistory_music_0.json"
	fxAccountPodcast = "testdata/Spotify Account Data/StreamingHistory_podcast_0.json"
	fxExtended       = "testdata/Spotify Extended Streaming History/Streaming_History_Audio_2021-2022_0.json"
	fxEndsong        = "testdata/Spotify Extended Streaming History/endsong_0.json"
	fxVideo          = "testdata/Spotify Extended Streaming History/Streaming_History_Video_2021-2022.json"
	fxWatch          = "testdata/Takeout/YouTube and YouTube Music/history/watch-history.json"
	fxSearch         = "testdata/Takeout/YouTube and YouTube Music/history/search-history.json"
)

// testClock is after every fixture timestamp.
var testClock = clockwork.NewFakeClockAt(time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))

// collector is a Sink that keeps copies of what it receives.
type collector struct {
	records []Record
	batches []int
}

func (c *collector) sink(_ context.Context, batch []Record) error {
	c.records = append(c.records, batch...)
	c.batches = append(c.batches, len(batch))
	return nil
}

func (c *collector) byID(t *testing.T, id string) Record {
	t.Helper()
	for _, r := range c.records {
		if r.ExternalID == id {
			return r
		}
	}
	t.Fatalf("no record with ExternalID %q among %d", id, len(c.records))
	return Record{}
}

func importPaths(t *testing.T, platform string, paths ...string) (Result, *collector, error) {
	t.Helper()
	files, err := FilesFromPaths(paths...)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	res, err := Importer{Clock: testClock}.Import(context.Background(), platform, files, c.sink, nil)
	return res, c, err
}

func payload(t *testing.T, r Record) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Payload, &m); err != nil {
		t.Fatalf("payload of %s is not a JSON object: %v", r.ExternalID, err)
	}
	return m
}

func reasons(fr FileResult) []string {
	var out []string
	for _, r := range fr.Rejections {
		out = append(out, r.Reason)
	}
	return out
}

func TestImportSpotifyAccountMusic(t *testing.T) {
	res, c, err := importPaths(t, PlatformSpotify, fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Files[0]
	if fr.Format != FormatSpotifyAccountMusic {
		t.Errorf("format = %q", fr.Format)
	}
	want := Counts{Read: 5, Yielded: 3, Rejected: 2}
	if fr.Counts != want {
		t.Errorf("counts = %+v, want %+v", fr.Counts, want)
	}
	wantReasons := []Rejection{{Record: 3, Reason: "missing endTime"}, {Record: 4, Reason: `bad endTime "04/03/2021 12:45"`}}
	if len(fr.Rejections) != 2 || fr.Rejections[0] != wantReasons[0] || fr.Rejections[1] != wantReasons[1] {
		t.Errorf("rejections = %+v, want %+v", fr.Rejections, wantReasons)
	}

	r := c.byID(t, SpotifyPlayID("Björk", "Jóga", time.Date(2021, 3, 4, 13, 2, 0, 0, time.UTC)))
	if r.Platform != PlatformSpotify || r.DataType != DataPlay {
		t.Errorf("record kind = %s/%s", r.Platform, r.DataType)
	}
	if !r.OccurredAt.Equal(time.Date(2021, 3, 4, 13, 2, 0, 0, time.UTC)) || r.OccurredAt.Location() != time.UTC {
		t.Errorf("OccurredAt = %v, want 2021-03-04 13:02 UTC", r.OccurredAt)
	}
	p := payload(t, r)
	want2 := map[string]any{"source": "account_data", "track": "Jóga", "artist": "Björk", "ms_played": float64(305000)}
	if len(p) != len(want2) {
		t.Errorf("payload = %v, want %v", p, want2)
	}
	for k, v := range want2 {
		if p[k] != v {
			t.Errorf("payload[%s] = %v, want %v", k, p[k], v)
		}
	}
}

func TestImportSpotifyAccountPodcast(t *testing.T) {
	res, c, err := importPaths(t, PlatformSpotify, fxAccountPodcast)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Files[0]
	if fr.Counts != (Counts{Read: 2, Yielded: 1, Rejected: 1}) {
		t.Errorf("counts = %+v", fr.Counts)
	}
	if got := reasons(fr); len(got) != 1 || got[0] != "missing episodeName" {
		t.Errorf("rejections = %v", got)
	}
	r := c.records[0]
	if r.DataType != DataEpisodePlay {
		t.Errorf("DataType = %q", r.DataType)
	}
	if p := payload(t, r); p["show"] != "The Daily" || p["episode"] != "The Vaccine Rollout" {
		t.Errorf("payload = %v", p)
	}
}

func TestImportSpotifyExtended(t *testing.T) {
	res, c, err := importPaths(t, PlatformSpotify, fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Files[0]
	if want := (Counts{Read: 7, Yielded: 3, Rejected: 2, Skipped: 2}); fr.Counts != want {
		t.Errorf("counts = %+v, want %+v", fr.Counts, want)
	}
	if got := reasons(fr); len(got) != 2 || got[0] != `bad ts "not a time"` || got[1] != "missing ts" {
		t.Errorf("rejections = %v", got)
	}
	if fr.Skips[skipPrivateSession] != 1 || fr.Skips[skipNoMetadata] != 1 {
		t.Errorf("skips = %v", fr.Skips)
	}

	byType := map[platform.DataType]Record{}
	for _, r := range c.records {
		byType[r.DataType] = r
	}
	play := payload(t, byType[DataPlay])
	for k, want := range map[string]any{
		"source": "extended_history", "track": "Get Lucky (feat. Pharrell Williams and Nile Rodgers)",
		"artist": "Daft Punk", "album": "Random Access Memories", "track_uri": "spotify:track:69kOkLUCkxIZYexIgSG8rq",
		"ms_played": float64(248413), "device": "android", "country": "DE", "reason_start": "clickrow",
		"reason_end": "trackdone", "shuffle": false, "skipped": false, "offline": false,
	} {
		if play[k] != want {
			t.Errorf("play payload[%s] = %v, want %v", k, play[k], want)
		}
	}
	if !byType[DataPlay].OccurredAt.Equal(time.Date(2021, 3, 4, 12, 34, 56, 0, time.UTC)) {
		t.Errorf("play OccurredAt = %v", byType[DataPlay].OccurredAt)
	}
	ep := payload(t, byType[DataEpisodePlay])
	if ep["show"] != "The Daily" || ep["episode"] != "The Vaccine Rollout" || ep["device"] != "ios" {
		t.Errorf("episode payload = %v", ep)
	}
	if _, ok := ep["skipped"]; ok {
		t.Errorf("a null boolean must be left out, got skipped=%v", ep["skipped"])
	}
	ab := payload(t, byType[DataAudiobookPlay])
	if ab["title"] != "Dune" || ab["chapter"] != "Chapter 3" {
		t.Errorf("audiobook payload = %v", ab)
	}
	assertNoPersonalData(t, c.records)
}

// assertNoPersonalData checks that nothing identifying the person or their
// network survives into payloads.
func assertNoPersonalData(t *testing.T, recs []Record) {
	t.Helper()
	for _, r := range recs {
		s := string(r.Payload)
		for _, bad := range []string{"ip_addr", "user_agent", "username", "someuser123", "203.0.113.7", "192.0.2.44", "198.51.100.23", "SM-G973F", "iPhone12"} {
			if strings.Contains(s, bad) {
				t.Errorf("payload of %s contains %q: %s", r.ExternalID, bad, s)
			}
		}
	}
}

func TestImportSpotifyEndsongOlderFormat(t *testing.T) {
	res, c, err := importPaths(t, PlatformSpotify, fxEndsong)
	if err != nil {
		t.Fatal(err)
	}
	if res.Files[0].Format != FormatSpotifyExtended || res.Files[0].Yielded != 1 {
		t.Fatalf("result = %+v", res.Files[0])
	}
	p := payload(t, c.records[0])
	if p["artist"] != "Nanne Grönvall" || p["device"] != "windows" {
		t.Errorf("payload = %v", p)
	}
	for _, k := range []string{"shuffle", "skipped", "offline"} {
		if _, ok := p[k]; ok {
			t.Errorf("null %s must be left out of the payload", k)
		}
	}
	assertNoPersonalData(t, c.records)
}

func TestImportSpotifyVideoIsCountedAsSkipped(t *testing.T) {
	res, c, err := importPaths(t, PlatformSpotify, fxVideo)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.records) != 0 {
		t.Errorf("video streams must not be imported, got %d records", len(c.records))
	}
	if fr := res.Files[0]; fr.Skipped != 1 || fr.Skips[skipVideo] != 1 {
		t.Errorf("result = %+v", fr)
	}
}

// The same play, as each of Spotify's three sources reports it, must land on
// one ExternalID.
func TestSamePlayFromThreeSpotifySourcesHasOneID(t *testing.T) {
	// Web API GET /v1/me/player/recently-played, one item in the documented
	// PlayHistoryObject shape (track, played_at ISO-8601 UTC, context),
	// trimmed to the fields the poller reads.
	const recentlyPlayed = `{"items":[{"track":{"name":"Get Lucky (feat. Pharrell Williams and Nile Rodgers)",
		"uri":"spotify:track:69kOkLUCkxIZYexIgSG8rq","duration_ms":248413,
		"artists":[{"name":"Daft Punk","id":"4tZwfgrHOc3mvqYlEYSvVi"},{"name":"Pharrell Williams"},{"name":"Nile Rodgers"}],
		"album":{"name":"Random Access Memories","artists":[{"name":"Daft Punk"}]}},
		"played_at":"2021-03-04T12:34:56.789Z","context":null}],
		"next":null,"cursors":{"after":"1614861296789","before":"1614861296789"},"limit":50}`
	var api struct {
		Items []struct {
			Track struct {
				Name    string `json:"name"`
				Artists []struct {
					Name string `json:"name"`
				} `json:"artists"`
			} `json:"track"`
			PlayedAt time.Time `json:"played_at"`
		} `json:"items"`
	}
	if err := json.Unmarshal([]byte(recentlyPlayed), &api); err != nil {
		t.Fatal(err)
	}
	item := api.Items[0]
	apiID := SpotifyPlayID(item.Track.Artists[0].Name, item.Track.Name, item.PlayedAt)

	_, account, err := importPaths(t, PlatformSpotify, fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	_, extended, err := importPaths(t, PlatformSpotify, fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	accountRec := account.byID(t, apiID)
	extendedRec := extended.byID(t, apiID)
	if accountRec.DataType != DataPlay || extendedRec.DataType != DataPlay {
		t.Errorf("data types %q, %q", accountRec.DataType, extendedRec.DataType)
	}
}

func TestImportYouTubeWatchHistory(t *testing.T) {
	res, c, err := importPaths(t, PlatformYouTube, fxWatch)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Files[0]
	if want := (Counts{Read: 9, Yielded: 5, Rejected: 2, Skipped: 2}); fr.Counts != want {
		t.Errorf("counts = %+v, want %+v", fr.Counts, want)
	}
	if fr.Skips[skipAd] != 1 || fr.Skips[skipNotVideo] != 1 {
		t.Errorf("skips = %v", fr.Skips)
	}
	if got := reasons(fr); len(got) != 2 || !strings.HasPrefix(got[0], "bad video URL") || got[1] != "missing time" {
		t.Errorf("rejections = %v", got)
	}
	for _, r := range c.records {
		if strings.Contains(string(r.Payload), "AAAAAAAAAAA") || strings.Contains(string(r.Payload), "Shoes") {
			t.Errorf("an ad was imported: %s", r.Payload)
		}
	}

	cpu := c.byID(t, YouTubeWatchID("cNN_tTXABUA", time.Date(2023, 2, 11, 21, 4, 5, 123e6, time.UTC)))
	p := payload(t, cpu)
	if p["title"] != "How a CPU Works" || p["channel"] != "In One Lesson" || p["channel_id"] != "UCOm2yYFdGxm_LWymMJtKYDQ" || p["video_id"] != "cNN_tTXABUA" {
		t.Errorf("watch payload = %v", p)
	}
	if _, ok := p["music"]; ok {
		t.Errorf("a YouTube watch is not YouTube Music: %v", p)
	}
	solar := payload(t, c.byID(t, YouTubeWatchID("-e8Nfjl_AKk", time.Date(2023, 2, 11, 20, 9, 4, 784e6, time.UTC))))
	if solar["music"] != true || solar["title"] != "Solar" {
		t.Errorf("YouTube Music watch payload = %v", solar)
	}
	removed := payload(t, c.byID(t, YouTubeWatchID("", time.Date(2023, 2, 10, 18, 0, 0, 0, time.UTC))))
	if removed["removed"] != true || removed["title"] != nil {
		t.Errorf("removed video payload = %v", removed)
	}
	german := payload(t, c.byID(t, YouTubeWatchID("d9O7KkPz5xQ", time.Date(2023, 2, 8, 8, 15, 0, 500e6, time.UTC))))
	if german["title"] != "Wie funktioniert ein Kühlschrank?" || german["title_raw"] != nil {
		t.Errorf("German watch payload = %v", german)
	}
	french := payload(t, c.byID(t, YouTubeWatchID("QwErTyUiOp1", time.Date(2023, 2, 7, 8, 15, 0, 0, time.UTC))))
	if french["title"] != "Vous avez regardé Une vidéo" || french["title_raw"] != true {
		t.Errorf("unknown-language watch payload = %v", french)
	}
}

func TestImportYouTubeSearchHistory(t *testing.T) {
	res, c, err := importPaths(t, PlatformYouTube, fxSearch)
	if err != nil {
		t.Fatal(err)
	}
	fr := res.Files[0]
	if want := (Counts{Read: 4, Yielded: 2, Rejected: 1, Skipped: 1}); fr.Counts != want {
		t.Errorf("counts = %+v, want %+v", fr.Counts, want)
	}
	got := map[string]bool{}
	for _, r := range c.records {
		if r.DataType != DataSearch {
			t.Errorf("DataType = %q", r.DataType)
		}
		got[payload(t, r)["query"].(string)] = true
	}
	// The localized title ("Gesucht nach: …") does not matter: the query
	// comes from the URL.
	if !got["how does a fridge work"] || !got["sault solar"] || len(got) != 2 {
		t.Errorf("queries = %v", got)
	}
}

func TestImportZipArchive(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name string, data []byte) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, fx := range []string{fxAccountMusic, fxExtended, fxWatch} {
		data, err := os.ReadFile(fx)
		if err != nil {
			t.Fatal(err)
		}
		add("my_spotify_data/"+filepath.Base(fx), data)
	}
	add("my_spotify_data/ReadMeFirst_ExtendedStreamingHistory.pdf", []byte("%PDF-1.4 not json"))
	if _, err := zw.Create("my_spotify_data/empty-dir/"); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}

	files, err := FilesFromZip(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	var last Progress
	res, err := Importer{Clock: testClock}.Import(context.Background(), PlatformSpotify, files, c.sink, func(p Progress) { last = p })
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 2 || res.Files[0].Format != FormatSpotifyAccountMusic || res.Files[1].Format != FormatSpotifyExtended {
		t.Fatalf("files read = %+v", res.Files)
	}
	if len(c.records) != 6 || res.Totals().Yielded != 6 {
		t.Errorf("records = %d, totals %+v", len(c.records), res.Totals())
	}
	ignored := map[string]string{}
	for _, ig := range res.Ignored {
		ignored[ig.Name] = ig.Reason
	}
	if len(ignored) != 2 ||
		ignored["my_spotify_data/ReadMeFirst_ExtendedStreamingHistory.pdf"] != "not a spotify export file" ||
		ignored["my_spotify_data/watch-history.json"] != "a youtube export, not spotify" {
		t.Errorf("ignored = %v", ignored)
	}
	if last.BytesRead != last.BytesTotal || last.BytesTotal == 0 || last.Records != 6 {
		t.Errorf("last progress = %+v", last)
	}
}

func TestImportBadZip(t *testing.T) {
	_, err := FilesFromZip(strings.NewReader("not a zip"), 9)
	if apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("err = %v, want BAD_USER_INPUT", err)
	}
}

// writeFile writes data under dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportWrongFormat(t *testing.T) {
	dir := t.TempDir()
	account, err := os.ReadFile(fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	watch, err := os.ReadFile(fxWatch)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		platform string
		file     string
		data     []byte
		wantMsg  []string
	}{
		{"account data named as extended history", PlatformSpotify, "Streaming_History_Audio_2020_0.json", account,
			[]string{"Streaming_History_Audio_2020_0.json", "does not look like a Spotify extended streaming history"}},
		{"watch history named as account data", PlatformSpotify, "StreamingHistory_music_0.json", watch,
			[]string{"StreamingHistory_music_0.json", "account-data streaming history"}},
		{"search history expected, watch history given", PlatformYouTube, "search-history.json", watch,
			[]string{"search-history.json", "search history"}},
		{"HTML export", PlatformYouTube, "watch-history.json", []byte("<!DOCTYPE html><html>"),
			[]string{"watch-history.json", "not JSON"}},
		{"object, not array", PlatformSpotify, "endsong_0.json", []byte(`{"ts":"2021-01-01T00:00:00Z"}`),
			[]string{"endsong_0.json", "expected a JSON array"}},
		{"empty file", PlatformSpotify, "endsong_1.json", nil,
			[]string{"endsong_1.json", "empty"}},
		{"array of strings", PlatformSpotify, "endsong_2.json", []byte(`["a","b"]`),
			[]string{"endsong_2.json", "extended streaming history"}},
		{"unknown file name", PlatformSpotify, "my-music.json", account,
			[]string{"my-music.json", "is not a spotify export file", "StreamingHistory_music_<n>.json"}},
		{"other platform's file", PlatformSpotify, "watch-history.json", watch,
			[]string{"watch-history.json", "is not a spotify export file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := writeFile(t, t.TempDir(), tt.file, tt.data)
			good := writeFile(t, dir, "StreamingHistory_music_9.json", account)
			if tt.platform == PlatformYouTube {
				good = fxSearch
				if tt.file == "search-history.json" {
					good = fxWatch
				}
			}
			res, c, err := importPaths(t, tt.platform, bad, good)
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("err = %v, want BAD_USER_INPUT", err)
			}
			msg := apperr.MessageOf(err)
			for _, w := range tt.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if res.Files[0].Err == nil || res.Files[0].Yielded != 0 {
				t.Errorf("bad file result = %+v", res.Files[0])
			}
			// The good file after it is still imported.
			if len(res.Files) != 2 || res.Files[1].Err != nil || res.Files[1].Yielded == 0 || len(c.records) != res.Files[1].Yielded {
				t.Errorf("good file result = %+v, %d records", res.Files[1:], len(c.records))
			}
		})
	}
}

func TestImportUnknownPlatform(t *testing.T) {
	_, err := Import(context.Background(), "myspace", nil, (&collector{}).sink, nil)
	if apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("err = %v", err)
	}
}

func TestImportTruncatedFile(t *testing.T) {
	data, err := os.ReadFile(fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the third element.
	third := bytes.Index(data, []byte(`"ts":"2022-01-10`))
	cut := third + 200
	tests := []struct {
		name    string
		data    []byte
		yielded int
		wantMsg []string
	}{
		{"cut inside record 3", data[:cut], 2, []string{fmt.Sprintf("is truncated: it ends at byte %d inside record 3", cut)}},
		{"closing bracket missing", bytes.TrimRight(bytes.TrimSpace(data), "]"), 3, []string{"after record 7"}},
		{"garbage inside a record", bytes.Replace(data, []byte(`"ts":"2022-01-10`), []byte(`"ts" x "2022-01-10`), 1), 2, []string{"corrupt in record 3"}},
		{"garbage between records", append(append([]byte{}, data[:third-2]...), []byte(" GARBAGE ...")...), 2, []string{"corrupt in record 3"}},
		{"data after the array", append(append([]byte{}, data...), []byte("[]")...), 3, []string{"corrupt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, t.TempDir(), "Streaming_History_Audio_2021-2022_0.json", tt.data)
			res, c, err := importPaths(t, PlatformSpotify, p)
			if apperr.CodeOf(err) != apperr.BadUserInput {
				t.Fatalf("err = %v, want BAD_USER_INPUT", err)
			}
			msg := apperr.MessageOf(err)
			for _, w := range append(tt.wantMsg, "Streaming_History_Audio_2021-2022_0.json") {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			// What was read before the fault was yielded, and said so.
			if len(c.records) != tt.yielded || res.Files[0].Yielded != tt.yielded {
				t.Errorf("yielded %d records (result says %d), want %d", len(c.records), res.Files[0].Yielded, tt.yielded)
			}
		})
	}
}

// A caller can make each file all-or-nothing with the file hooks.
func TestFileHooksAllowAllOrNothingPerFile(t *testing.T) {
	data, err := os.ReadFile(fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	truncated := writeFile(t, t.TempDir(), "Streaming_History_Audio_2022_1.json", data[:len(data)/2])

	var committed []Record
	var tx []Record
	var events []string
	im := Importer{
		Clock:     testClock,
		BatchSize: 1,
		OnFileStart: func(_ context.Context, name string, _ Format) error {
			events = append(events, "begin "+filepath.Base(name))
			tx = tx[:0]
			return nil
		},
		OnFileEnd: func(_ context.Context, fr FileResult) error {
			if fr.Err != nil {
				events = append(events, "rollback "+filepath.Base(fr.Name))
				return nil
			}
			events = append(events, "commit "+filepath.Base(fr.Name))
			committed = append(committed, tx...)
			return nil
		},
	}
	sink := func(_ context.Context, batch []Record) error {
		tx = append(tx, batch...)
		return nil
	}
	files, err := FilesFromPaths(fxAccountMusic, truncated, fxEndsong)
	if err != nil {
		t.Fatal(err)
	}
	res, err := im.Import(context.Background(), PlatformSpotify, files, sink, nil)
	if apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("err = %v", err)
	}
	wantEvents := []string{
		"begin StreamingHistory_music_0.json", "commit StreamingHistory_music_0.json",
		"begin Streaming_History_Audio_2022_1.json", "rollback Streaming_History_Audio_2022_1.json",
		"begin endsong_0.json", "commit endsong_0.json",
	}
	if strings.Join(events, "|") != strings.Join(wantEvents, "|") {
		t.Errorf("events = %v, want %v", events, wantEvents)
	}
	if len(committed) != 3+1 {
		t.Errorf("committed %d records, want 4 (3 account data + 1 endsong)", len(committed))
	}
	if res.Files[1].Yielded == 0 {
		t.Errorf("the truncated file yielded nothing before its fault; the test needs it to")
	}
}

func TestSinkErrorAbortsImport(t *testing.T) {
	boom := errors.New("database is gone")
	files, err := FilesFromPaths(fxAccountMusic, fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	res, err := Importer{Clock: testClock}.Import(context.Background(), PlatformSpotify, files, func(context.Context, []Record) error {
		calls++
		return boom
	}, nil)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the sink's error", err)
	}
	if calls != 1 || len(res.Files) != 1 {
		t.Errorf("sink called %d times, %d files read; the import must stop at the first sink error", calls, len(res.Files))
	}
}

func TestCancelledContextStopsImport(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	files, err := FilesFromPaths(fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	_, err = Importer{Clock: testClock}.Import(ctx, PlatformSpotify, files, c.sink, nil)
	if !errors.Is(err, context.Canceled) || len(c.records) != 0 {
		t.Errorf("err = %v, %d records", err, len(c.records))
	}
}

func TestBatchesNeverSpanFiles(t *testing.T) {
	files, err := FilesFromPaths(fxAccountMusic, fxEndsong, fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	_, err = Importer{Clock: testClock, BatchSize: 2}.Import(context.Background(), PlatformSpotify, files, c.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 3 account-data records, 1 endsong, 3 extended: [2 1] [1] [2 1].
	if got := c.batches; len(got) != 5 || got[0] != 2 || got[1] != 1 || got[2] != 1 || got[3] != 2 || got[4] != 1 {
		t.Errorf("batch sizes = %v, want [2 1 1 2 1]", got)
	}
}

func TestProgressReachesTotal(t *testing.T) {
	files, err := FilesFromPaths(fxAccountMusic, fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	var reports []Progress
	_, err = Importer{Clock: testClock, BatchSize: 1}.Import(context.Background(), PlatformSpotify, files, (&collector{}).sink, func(p Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].BytesRead < reports[i-1].BytesRead {
			t.Fatalf("progress went backwards: %+v then %+v", reports[i-1], reports[i])
		}
	}
	last := reports[len(reports)-1]
	if last.BytesTotal != total || last.BytesRead != total || last.Records != 6 || last.FileIndex != 1 || last.Files != 2 {
		t.Errorf("last progress = %+v, total %d", last, total)
	}
}

func TestImportRejectsFutureTimestamps(t *testing.T) {
	// On a clock set before the fixtures were made, its plays are "future".
	files, err := FilesFromPaths(fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{}
	res, err := Importer{Clock: clockwork.NewFakeClockAt(time.Date(2021, 3, 3, 0, 0, 0, 0, time.UTC))}.
		Import(context.Background(), PlatformSpotify, files, c.sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.records) != 0 || res.Files[0].Rejected != 5 || !strings.Contains(res.Files[0].Rejections[0].Reason, "in the future") {
		t.Errorf("result = %+v", res.Files[0])
	}
}

func TestRejectionSamplesAreCapped(t *testing.T) {
	rows := strings.Repeat(`{"endTime":"","artistName":"a","trackName":"b","msPlayed":1},`, 20)
	p := writeFile(t, t.TempDir(), "StreamingHistory0.json", []byte(`[{"endTime":"2021-01-01 00:00","artistName":"a","trackName":"b","msPlayed":1},`+strings.TrimSuffix(rows, ",")+"]"))
	files, err := FilesFromPaths(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Importer{Clock: testClock, MaxSamples: 3}.Import(context.Background(), PlatformSpotify, files, (&collector{}).sink, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fr := res.Files[0]; fr.Rejected != 20 || len(fr.Rejections) != 3 || fr.Rejections[0].Record != 2 {
		t.Errorf("result = %+v", fr)
	}
}

func TestFieldOfWrongTypeRejectsOnlyThatRecord(t *testing.T) {
	p := writeFile(t, t.TempDir(), "StreamingHistory_music_1.json", []byte(`[
		{"endTime":"2021-01-01 00:00","artistName":"a","trackName":"b","msPlayed":1},
		{"endTime":"2021-01-01 00:05","artistName":"a","trackName":"c","msPlayed":"lots"},
		{"endTime":"2021-01-01 00:09","artistName":"a","trackName":"d","msPlayed":3}]`))
	res, c, err := importPaths(t, PlatformSpotify, p)
	if err != nil {
		t.Fatal(err)
	}
	if fr := res.Files[0]; fr.Yielded != 2 || fr.Rejected != 1 || !strings.Contains(fr.Rejections[0].Reason, "msPlayed") {
		t.Errorf("result = %+v", fr)
	}
	if len(c.records) != 2 {
		t.Errorf("records = %d", len(c.records))
	}
}

// Reading a file twice gives the same IDs and hashes: a re-import is all
// duplicates for the upsert.
func TestReimportIsStable(t *testing.T) {
	_, a, err := importPaths(t, PlatformSpotify, fxExtended, fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := importPaths(t, PlatformSpotify, fxExtended, fxAccountMusic)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.records {
		if a.records[i].ExternalID != b.records[i].ExternalID || a.records[i].ContentHash() != b.records[i].ContentHash() {
			t.Errorf("record %d differs between imports", i)
		}
	}
}

func TestFilesFromPathsErrors(t *testing.T) {
	if _, err := FilesFromPaths(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file must be an error")
	}
	if _, err := FilesFromPaths(t.TempDir()); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("a directory must be BAD_USER_INPUT, got %v", err)
	}
}

func TestOpenErrorIsFileError(t *testing.T) {
	files := []File{
		{Name: "endsong_0.json", Open: func() (io.ReadCloser, error) { return nil, errors.New("permission denied") }},
	}
	res, err := Importer{Clock: testClock}.Import(context.Background(), PlatformSpotify, files, (&collector{}).sink, nil)
	if apperr.CodeOf(err) != apperr.BadUserInput || res.Files[0].Err == nil {
		t.Errorf("err = %v, result %+v", err, res.Files)
	}
}
