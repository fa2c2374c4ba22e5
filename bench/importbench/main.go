// Command importbench measures what hostile and large imports cost: the
// time to read a zip of JSON whitespace at 8, 64 and 512 MB (it must grow
// linearly), the peak RSS of the bombs the importer's limits stop (a zip
// bomb of whitespace, a record with a 256 MB name), and import throughput
// and peak RSS for 1M plays stored in SQLite through the real ingest path.
//
//	go run ./bench/importbench            # everything (a few minutes)
//	go run ./bench/importbench -phase plays -plays 200000
//
// Each measurement runs in a child process of its own so that its peak RSS
// (VmHWM) is its own. Figures depend on the machine's load: the program
// prints the load average next to them.
package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/store"
)

// cpuProfile is the -cpuprofile flag.
var cpuProfile string

func main() {
	phase := flag.String("phase", "all", "all, whitespace, bomb-zip, bomb-record, plays")
	mb := flag.Int("mb", 8, "whitespace phase: megabytes of whitespace")
	plays := flag.Int("plays", 1_000_000, "plays phase: number of plays")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "plays phase: write a CPU profile of the import to this file")
	flag.Parse()
	var err error
	switch *phase {
	case "all":
		err = all(*plays)
	case "whitespace":
		err = whitespace(*mb)
	case "bomb-zip":
		err = bombZip()
	case "bomb-record":
		err = bombRecord()
	case "plays":
		err = playsPhase(*plays)
	default:
		err = fmt.Errorf("unknown phase %q", *phase)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

// all runs every phase in a child process and prints its report line.
func all(plays int) error {
	fmt.Printf("importbench  %s  GOMAXPROCS=%d  load average at start: %s\n", runtime.Version(), runtime.GOMAXPROCS(0), loadavg())
	runs := [][]string{
		{"-phase", "whitespace", "-mb", "8"},
		{"-phase", "whitespace", "-mb", "64"},
		{"-phase", "whitespace", "-mb", "512"},
		{"-phase", "bomb-zip"},
		{"-phase", "bomb-record"},
		{"-phase", "plays", "-plays", strconv.Itoa(plays)},
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for _, args := range runs {
		cmd := exec.Command(self, args...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%v: %w", args, err)
		}
	}
	fmt.Printf("load average at end: %s\n", loadavg())
	return nil
}

// whitespace imports a zip holding one account-data file of mb MB of
// whitespace between two plays, with the size and ratio limits off, so the
// decoder's own cost is measured.
func whitespace(mb int) error {
	z, err := zipOf("StreamingHistory_music_0.json", func(w io.Writer) error {
		if _, err := io.WriteString(w, `[{"endTime":"2021-03-04 12:34","artistName":"A","trackName":"T","msPlayed":1000},`); err != nil {
			return err
		}
		if err := writeSpaces(w, int64(mb)<<20); err != nil {
			return err
		}
		_, err := io.WriteString(w, `{"endTime":"2021-03-04 12:35","artistName":"A","trackName":"U","msPlayed":1000}]`)
		return err
	})
	if err != nil {
		return err
	}
	files, err := importer.FilesFromZip(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return err
	}
	off := importer.Limits{MaxFileBytes: -1, MaxTotalBytes: -1, MaxRatio: -1}
	// The best of three runs: on a shared machine the others are noise.
	best, bestCPU := time.Duration(1<<62), 1e18
	for range 3 {
		start, cpu0 := time.Now(), cpuSeconds()
		n := 0
		res, err := importer.Importer{Limits: off}.Import(context.Background(), importer.PlatformSpotify, files,
			func(_ context.Context, b []importer.Record) error { n += len(b); return nil }, nil)
		d, cpu := time.Since(start), cpuSeconds()-cpu0
		if err != nil || n != 2 {
			return fmt.Errorf("whitespace import: %d records, %v, %+v", n, err, res.Files)
		}
		best, bestCPU = min(best, d), min(bestCPU, cpu)
	}
	fmt.Printf("whitespace zip %4d MB (zip %7d bytes): %6.2f s wall, %6.2f CPU-s (%5.1f ns/byte)  peak RSS %4d MB  load %s\n",
		mb, len(z), best.Seconds(), bestCPU, best.Seconds()*1e9/float64(int64(mb)<<20), peakRSSMB(), loadavg())
	return nil
}

// bombZip imports the zip bomb (1.25 GB of whitespace in a zip of a
// little over 1 MB) with the default limits.
func bombZip() error {
	const size = 1250 << 20
	z, err := zipOf("StreamingHistory_music_0.json", func(w io.Writer) error {
		if _, err := io.WriteString(w, "["); err != nil {
			return err
		}
		return writeSpaces(w, size)
	})
	if err != nil {
		return err
	}
	files, err := importer.FilesFromZip(bytes.NewReader(z), int64(len(z)))
	if err != nil {
		return err
	}
	runtime.GC()
	start := time.Now()
	res, err := importer.Importer{}.Import(context.Background(), importer.PlatformSpotify, files,
		func(context.Context, []importer.Record) error { return nil }, nil)
	d := time.Since(start)
	fmt.Printf("zip bomb: %d-byte zip of %d MB whitespace, default limits: stopped after %.3f s, peak RSS %d MB (zip held in memory), %q\n",
		len(z), size>>20, d.Seconds(), peakRSSMB(), fileErr(res, err))
	return nil
}

// bombRecord imports one play whose track name is 256 MB long.
func bombRecord() error {
	r := io.MultiReader(strings.NewReader(`[{"endTime":"2021-03-04 12:34","artistName":"A","trackName":"`),
		&letters{left: 256 << 20}, strings.NewReader(`","msPlayed":1000},{"endTime":"2021-03-04 12:35","artistName":"A","trackName":"U","msPlayed":1000}]`))
	f := importer.File{Name: "StreamingHistory_music_0.json", Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
	start := time.Now()
	n := 0
	res, err := importer.Importer{}.Import(context.Background(), importer.PlatformSpotify, []importer.File{f},
		func(_ context.Context, b []importer.Record) error { n += len(b); return nil }, nil)
	d := time.Since(start)
	reason := ""
	if len(res.Files) == 1 && len(res.Files[0].Rejections) > 0 {
		reason = res.Files[0].Rejections[0].Reason
	}
	fmt.Printf("256 MB track name: %.2f s, %d records kept, rejected %q, peak RSS %d MB, err %v\n", d.Seconds(), n, reason, peakRSSMB(), err)
	return nil
}

// playsPhase imports n plays of an extended streaming history into a fresh
// SQLite database through ingest.Service.ImportFiles (parse, hash, upsert,
// one transaction per file).
func playsPhase(n int) error {
	dir, err := os.MkdirTemp("", "importbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, "", dir)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	u := &store.User{Email: "bench@example.com", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := db.CreateUser(ctx, u); err != nil {
		return err
	}
	path := filepath.Join(dir, "Streaming_History_Audio_2014-2024_0.json")
	if err := writeHistory(path, n); err != nil {
		return err
	}
	files, err := importer.FilesFromPaths(path)
	if err != nil {
		return err
	}
	s := ingest.New(db, ingest.Options{Logger: slog.New(slog.DiscardHandler)})
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
	}
	runtime.GC()
	start := time.Now()
	cpuStart := cpuSeconds()
	res, err := s.ImportFiles(ctx, u.ID, "spotify", files, nil)
	d := time.Since(start)
	cpu := cpuSeconds() - cpuStart
	pprof.StopCPUProfile()
	if err != nil {
		return err
	}
	// CPU-seconds per million plays is the figure a shared machine does
	// not distort: wall-clock throughput falls with the load, CPU does not.
	fmt.Printf("%d plays (%d MB) into SQLite: %d imported in %.1f s = %.0f plays/s, %.1f CPU-s (%.1f CPU-s per 1M plays), peak RSS %d MB, load %s\n",
		n, files[0].Size>>20, res.Imported, d.Seconds(), float64(res.Imported)/d.Seconds(), cpu, cpu*1e6/float64(max(res.Imported, 1)), peakRSSMB(), loadavg())
	return nil
}

func fileErr(res importer.Result, err error) string {
	for _, f := range res.Files {
		if f.Err != nil {
			return f.Err.Error()
		}
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func zipOf(name string, write func(io.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		return nil, err
	}
	if err := write(w); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeSpaces(w io.Writer, n int64) error {
	chunk := bytes.Repeat([]byte(" \n\t "), 16<<10)
	for n > 0 {
		c := chunk
		if int64(len(c)) > n {
			c = c[:n]
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
		n -= int64(len(c))
	}
	return nil
}

type letters struct{ left int64 }

func (l *letters) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), l.left)
	for i := range p[:n] {
		p[i] = 'x'
	}
	l.left -= n
	return int(n), nil
}

// writeHistory writes n plays in the Streaming_History_Audio shape (every
// field the export carries, ~700 bytes a row).
func writeHistory(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	start := time.Date(2014, 1, 1, 0, 0, 0, 0, time.UTC)
	platforms := []string{"Android OS 10 API 29 (samsung, SM-G973F)", "iOS 14.4 (iPhone12,1)", "windows", "web_player windows 10;chrome 87.0.4280.88;desktop"}
	w.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteString(",\n")
		}
		ts := start.Add(time.Duration(i) * 3 * time.Minute).Format(time.RFC3339)
		fmt.Fprintf(w, `{"ts":%q,"platform":%q,"ms_played":%d,"conn_country":"DE","ip_addr":"203.0.113.%d","master_metadata_track_name":"Track number %d (Remastered 2011)","master_metadata_album_artist_name":"Artist %d","master_metadata_album_album_name":"Album %d","spotify_track_uri":"spotify:track:69kOkLUCkxIZYexIg%05d","episode_name":null,"episode_show_name":null,"spotify_episode_uri":null,"audiobook_title":null,"audiobook_uri":null,"audiobook_chapter_uri":null,"audiobook_chapter_title":null,"reason_start":"trackdone","reason_end":"trackdone","shuffle":%t,"skipped":false,"offline":false,"offline_timestamp":%d,"incognito_mode":false}`,
			ts, platforms[i%len(platforms)], 30000+(i*7919)%240000, i%250, i%5000, i%800, i%2000, i%100000, i%3 == 0, 1388534400+i*180)
	}
	w.WriteString("]\n")
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// peakRSSMB is this process's peak resident set (VmHWM), in MB.
func peakRSSMB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb >> 10
		}
	}
	return -1
}

// cpuSeconds is this process's user+system CPU time.
func cpuSeconds() float64 {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(fields[11], 64)
	st, _ := strconv.ParseFloat(fields[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
