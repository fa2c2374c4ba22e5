package importer

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/apperr"
)

const oneAccountPlay = `{"endTime":"2021-03-04 12:34","artistName":"A","trackName":"T","msPlayed":1000}`

// memFile is an export file held in memory; reads counts the bytes read.
func memFile(name string, r io.Reader, reads *int64) File {
	return File{Name: name, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(&countRead{r: r, n: reads}), nil
	}}
}

type countRead struct {
	r io.Reader
	n *int64
}

func (c *countRead) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n != nil {
		*c.n += int64(n)
	}
	return n, err
}

// spaces is an endless (or n-byte) run of JSON whitespace.
type spaces struct{ left int64 }

func (s *spaces) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > s.left {
		n = s.left
	}
	for i := range p[:n] {
		p[i] = " \n\t\r"[i%4]
	}
	s.left -= n
	return int(n), nil
}

func importFiles(t *testing.T, ctx context.Context, im Importer, platform string, files ...File) (Result, *collector, error) {
	t.Helper()
	c := &collector{}
	im.Clock = testClock
	res, err := im.Import(ctx, platform, files, c.sink, nil)
	return res, c, err
}

// Finding 1: whitespace between records is skipped in place (it used to be
// re-scanned by json.Decoder on every refill: quadratic).
func TestWhitespaceBetweenRecordsIsSkipped(t *testing.T) {
	body := io.MultiReader(strings.NewReader("["+oneAccountPlay+","), &spaces{left: 2 << 20},
		strings.NewReader(strings.Replace(oneAccountPlay, "12:34", "12:35", 1)+"]"))
	res, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", body, nil))
	if err != nil || len(c.records) != 2 || res.Files[0].Read != 2 {
		t.Fatalf("records %d, result %+v, err %v", len(c.records), res.Files, err)
	}
}

// Finding 1: a cancelled import stops within one buffer of input (64 KiB),
// however the input is shaped: it used to check only every 4096 records,
// so whitespace or one huge record ran on to the end.
func TestCancellationStopsWithinABuffer(t *testing.T) {
	for name, tail := range map[string]func() io.Reader{
		"whitespace":  func() io.Reader { return &spaces{left: 16 << 20} },
		"huge record": func() io.Reader { return io.MultiReader(strings.NewReader(`{"trackName":"`), &letters{left: 16 << 20}) },
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var read int64
			cancelAt := int64(1 << 20)
			r := &cancelAfter{r: io.MultiReader(strings.NewReader("["+oneAccountPlay+","), tail()), at: cancelAt, cancel: cancel}
			_, _, err := importFiles(t, ctx, Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", r, &read))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("want context.Canceled, got %v", err)
			}
			if over := read - cancelAt; over > 128<<10 {
				t.Fatalf("read %d bytes after the cancellation", over)
			}
		})
	}
}

type cancelAfter struct {
	r      io.Reader
	n, at  int64
	cancel func()
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n >= c.at {
		c.cancel()
	}
	return n, err
}

type letters struct{ left int64 }

func (s *letters) Read(p []byte) (int, error) {
	if s.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), s.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	s.left -= n
	return int(n), nil
}

// Finding 2: one record larger than the limit is rejected without being
// held in memory, and the records after it are imported.
func TestOversizedRecordIsRejectedAndFileGoesOn(t *testing.T) {
	big := io.MultiReader(strings.NewReader(`[{"endTime":"2021-03-04 12:34","artistName":"A","trackName":"`),
		&letters{left: 4 << 20}, strings.NewReader(`","msPlayed":1},`+oneAccountPlay+`]`))
	res, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", big, nil))
	if err != nil || len(c.records) != 1 || res.Files[0].Rejected != 1 || !strings.Contains(res.Files[0].Rejections[0].Reason, "larger than 65536 bytes") {
		t.Fatalf("records %d, result %+v, err %v", len(c.records), res.Files, err)
	}
}

// Finding 2 and 5: names are cut to Limits.MaxStringBytes on a character
// boundary.
func TestNamesAreTruncatedToTheCap(t *testing.T) {
	long := strings.Repeat("é", 3000) // 6000 bytes
	body := `[{"endTime":"2021-03-04 12:34","artistName":"` + long + `","trackName":"` + long + `","msPlayed":1}]`
	_, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", strings.NewReader(body), nil))
	if err != nil || len(c.records) != 1 {
		t.Fatal(err)
	}
	p := payload(t, c.records[0])
	if tr := p["track"].(string); len(tr) != 1024 || tr != long[:1024] {
		t.Fatalf("track kept %d bytes", len(tr))
	}
}

func zipOf(t *testing.T, entries map[string]io.Reader) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, r := range entries {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Finding 2: a zip bomb stops at the compression-ratio limit, and the other
// entries of the archive are still imported.
func TestZipBombStopsAtTheRatioLimit(t *testing.T) {
	z := zipOf(t, map[string]io.Reader{
		"a/StreamingHistory_music_0.json": io.MultiReader(strings.NewReader("["), &spaces{left: 32 << 20}, strings.NewReader("]")),
		"a/StreamingHistory_music_1.json": strings.NewReader("[" + oneAccountPlay + "]"),
	})
	if len(z) > 1<<20 {
		t.Fatalf("zip is %d bytes", len(z))
	}
	files, err := FilesFromZip(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	res, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, files...)
	if len(c.records) != 1 || !apperr.Is(err, apperr.BadUserInput) {
		t.Fatalf("records %d, err %v", len(c.records), err)
	}
	for _, f := range res.Files {
		if strings.HasSuffix(f.Name, "_0.json") && (f.Err == nil || !strings.Contains(f.Err.Error(), "zip bomb")) {
			t.Fatalf("bomb entry: %v", f.Err)
		}
	}
}

// Finding 2: the per-file and per-import byte limits.
func TestByteLimits(t *testing.T) {
	play := "[" + oneAccountPlay + "]"
	lim := Limits{MaxFileBytes: int64(len(play)) + 10, MaxTotalBytes: int64(len(play))*2 + 10}
	res, _, err := importFiles(t, context.Background(), Importer{Limits: lim}, PlatformSpotify,
		memFile("StreamingHistory_music_0.json", strings.NewReader(play), nil),
		memFile("StreamingHistory_music_1.json", strings.NewReader("["+oneAccountPlay+",     "+oneAccountPlay+"]"), nil))
	if res.Files[0].Err != nil || res.Files[1].Err == nil || !strings.Contains(err.Error(), "limit per file") {
		t.Fatalf("per file: %+v, err %v", res.Files, err)
	}
	res, _, err = importFiles(t, context.Background(), Importer{Limits: lim}, PlatformSpotify,
		memFile("StreamingHistory_music_0.json", strings.NewReader(play), nil),
		memFile("StreamingHistory_music_1.json", strings.NewReader(play), nil),
		memFile("StreamingHistory_music_2.json", strings.NewReader(play), nil))
	if res.Files[0].Err != nil || res.Files[1].Err != nil || res.Files[2].Err == nil || !strings.Contains(err.Error(), "limit per upload") {
		t.Fatalf("per upload: %+v, err %v", res.Files, err)
	}
}

// Finding 5: text that is not UTF-8 is refused with the file and the byte
// offset (it used to be stored as U+FFFD, one play becoming several rows).
func TestNonUTF8IsRejectedWithOffset(t *testing.T) {
	body := "[" + oneAccountPlay + `,{"endTime":"2021-03-04 12:35","artistName":"Bj` + "\xf6" + `rk","trackName":"T","msPlayed":1}]`
	want := strings.Index(body, "\xf6")
	res, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", strings.NewReader(body), nil))
	if !apperr.Is(err, apperr.BadUserInput) || len(res.Files) != 1 || res.Files[0].Err == nil {
		t.Fatalf("err %v", err)
	}
	msg := apperr.MessageOf(res.Files[0].Err)
	if !strings.Contains(msg, "StreamingHistory_music_0.json") || !strings.Contains(msg, "not UTF-8") || !strings.Contains(msg, "offset "+strconv.Itoa(want)) {
		t.Fatalf("message %q, want offset %d", msg, want)
	}
	_ = c
	// UTF-16 (a byte order mark FF FE) is named as such.
	_, _, err = importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", strings.NewReader("\xff\xfe[\x00"), nil))
	if err == nil || !strings.Contains(err.Error(), "UTF-16") {
		t.Fatalf("UTF-16: %v", err)
	}
}

// Finding 5: a UTF-8 byte order mark is accepted (it was "not JSON").
func TestByteOrderMarkIsAccepted(t *testing.T) {
	body := "\xef\xbb\xbf[" + oneAccountPlay + "]"
	_, c, err := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", strings.NewReader(body), nil))
	if err != nil || len(c.records) != 1 {
		t.Fatalf("records %d, err %v", len(c.records), err)
	}
}

// Finding 5: an archive with nothing for the platform is BAD_USER_INPUT
// listing what it held (it answered "0 imported").
func TestArchiveWithNothingForThePlatform(t *testing.T) {
	z := zipOf(t, map[string]io.Reader{
		"Takeout/YouTube and YouTube Music/history/watch-history.json": strings.NewReader("[]"),
		"Takeout/archive_browser.html":                                 strings.NewReader("<html>"),
	})
	files, err := FilesFromZip(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = importFiles(t, context.Background(), Importer{}, PlatformSpotify, files...)
	if !apperr.Is(err, apperr.BadUserInput) || !strings.Contains(err.Error(), "watch-history.json") || !strings.Contains(err.Error(), "archive_browser.html") || !strings.Contains(err.Error(), "no spotify export") {
		t.Fatalf("err %v", err)
	}
}

// Syntax errors report the byte where they are, not where the record starts.
func TestSyntaxErrorOffset(t *testing.T) {
	body := "[" + oneAccountPlay + `,{"endTime":"2021-03-04 12:35" "x":1}]`
	want := strings.Index(body, `"x"`)
	res, _, _ := importFiles(t, context.Background(), Importer{}, PlatformSpotify, memFile("StreamingHistory_music_0.json", strings.NewReader(body), nil))
	if msg := apperr.MessageOf(res.Files[0].Err); !strings.Contains(msg, "record 2") || !strings.Contains(msg, "byte "+strconv.Itoa(want)) {
		t.Fatalf("message %q, want byte %d", msg, want)
	}
}
