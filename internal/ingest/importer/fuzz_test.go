package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// fuzzLimits keep one fuzz input cheap.
var fuzzLimits = Limits{MaxRecordBytes: 4096, MaxStringBytes: 64, MaxFileBytes: 1 << 20, MaxTotalBytes: 2 << 20, MaxRatio: 100}

// fuzzImport imports data as the file name under platform and checks what
// must hold for any input: no panic, counts that add up, every record a
// valid normalised one.
func fuzzImport(t *testing.T, platform, name string, data []byte) {
	c := &collector{}
	res, err := Importer{Clock: testClock, Limits: fuzzLimits, BatchSize: 7}.Import(context.Background(), platform,
		[]File{memFile(name, bytes.NewReader(data), nil)}, c.sink, nil)
	if len(res.Files) != 1 {
		t.Fatalf("files %d, err %v", len(res.Files), err)
	}
	fr := res.Files[0]
	if (err == nil) != (fr.Err == nil) {
		t.Fatalf("import error %v, file error %v", err, fr.Err)
	}
	if fr.Yielded != len(c.records) {
		t.Fatalf("yielded %d, sink got %d", fr.Yielded, len(c.records))
	}
	if fr.Yielded+fr.Rejected+fr.Skipped > fr.Read {
		t.Fatalf("counts: %+v", fr.Counts)
	}
	if fr.Err == nil && fr.Yielded+fr.Rejected+fr.Skipped != fr.Read {
		t.Fatalf("a complete file accounts for every element: %+v", fr.Counts)
	}
	for _, r := range c.records {
		if r.ExternalID == "" || r.OccurredAt.IsZero() || r.Platform != platform {
			t.Fatalf("record %+v", r)
		}
		var p map[string]any
		if !utf8.Valid(r.Payload) || json.Unmarshal(r.Payload, &p) != nil {
			t.Fatalf("payload %q", r.Payload)
		}
		for k, v := range p {
			if s, ok := v.(string); ok && len(s) > fuzzLimits.MaxStringBytes {
				t.Fatalf("%s is %d bytes", k, len(s))
			}
		}
	}
	// What the scanner accepts whole is JSON: a file it read to its end
	// without error is valid JSON (the BOM aside).
	if fr.Err == nil && !json.Valid(bytes.TrimPrefix(data, utf8BOM)) && fr.Rejected == 0 {
		t.Fatalf("accepted invalid JSON %q", data)
	}
}

func seed(f *testing.F, path string, extra ...string) {
	if b, err := os.ReadFile(path); err == nil {
		f.Add(b)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

var commonSeeds = []string{
	"", "[]", "[", "]", "{}", "[{}]", "[null]", "[1,2]", "[[]]", `["x"]`, "\xef\xbb\xbf[]", "\xff\xfe[\x00]\x00",
	"[{}] x", "[{},]", "[,{}]", `[{"a":"\ud800"}]`, "[{\"a\":\"\xff\"}]", `[{"a":1e999}]`, "  \n\t[ \n ]  \n",
}

func FuzzImportSpotifyAccount(f *testing.F) {
	seed(f, fxAccountMusic, commonSeeds...)
	seed(f, fxAccountPodcast, `[{"endTime":"2021-03-04 12:34","artistName":"A","trackName":"T","msPlayed":-1}]`)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, PlatformSpotify, "StreamingHistory_music_0.json", data)
		fuzzImport(t, PlatformSpotify, "StreamingHistory_podcast_0.json", data)
	})
}

func FuzzImportSpotifyExtended(f *testing.F) {
	seed(f, fxExtended, commonSeeds...)
	seed(f, fxEndsong, `[{"ts":"2021-03-04T12:34:56Z","ms_played":1,"master_metadata_track_name":"`+strings.Repeat("é", 100)+`"}]`)
	seed(f, fxVideo)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, PlatformSpotify, "Streaming_History_Audio_2021_0.json", data)
		fuzzImport(t, PlatformSpotify, "Streaming_History_Video_2021.json", data)
	})
}

func FuzzImportTakeoutWatch(f *testing.F) {
	seed(f, fxWatch, commonSeeds...)
	seed(f, fxWatch, `[{"header":"YouTube","title":"Watched x","titleUrl":"https://youtu.be/%zz","time":"2022-04-25T18:09:04Z"}]`)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, PlatformYouTube, "watch-history.json", data)
	})
}

func FuzzImportTakeoutSearch(f *testing.F) {
	seed(f, fxSearch, commonSeeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzImport(t, PlatformYouTube, "search-history.json", data)
	})
}

// FuzzZipReader feeds archives (and damaged archives) through FilesFromZip
// and the importer: any input ends with a result or a coded error, within
// the limits.
func FuzzZipReader(f *testing.F) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, _ := zw.Create("MyData/StreamingHistory_music_0.json")
	_, _ = w.Write([]byte("[" + oneAccountPlay + "]"))
	w, _ = zw.Create("MyData/Read_Me_First.pdf")
	_, _ = w.Write([]byte("%PDF"))
	w, _ = zw.Create("MyData/StreamingHistory_music_1.json")
	_, _ = w.Write(bytes.Repeat([]byte(" "), 200_000))
	_ = zw.Close()
	f.Add(buf.Bytes())
	f.Add(buf.Bytes()[:buf.Len()/2])
	f.Add([]byte("PK\x03\x04"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := FilesFromZip(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if !apperr.Is(err, apperr.BadUserInput) {
				t.Fatalf("uncoded error %v", err)
			}
			return
		}
		c := &collector{}
		var last Progress
		_, err = Importer{Clock: testClock, Limits: fuzzLimits}.Import(context.Background(), PlatformSpotify, files, c.sink, func(p Progress) { last = p })
		if err != nil && !apperr.Is(err, apperr.BadUserInput) {
			t.Fatalf("uncoded error %v", err)
		}
		_ = last
	})
}
