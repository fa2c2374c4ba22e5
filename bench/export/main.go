// Command export measures a data export of a user with many stored items:
// it seeds N platform items (and N/10 browser events) for one user, then
// writes that user's archive to disk through the same streamed writer the
// export service and `twinme export` use, and prints the time, the archive
// size and the peak resident set size of the export alone (the kernel's
// high-water mark is reset after seeding), next to the Go heap's peak.
//
//	go run ./bench/export -items 1000000
//	go run ./bench/export -items 1000000 -database-url postgres://postgres@127.0.0.1:5432/test?sslmode=disable
//
// Flat memory means the peak stays the same whatever -items is.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/store"
)

func main() {
	items := flag.Int("items", 1_000_000, "platform items to store for the user")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (a fresh schema is created and dropped); empty: SQLite in a temp dir")
	keep := flag.Bool("keep", false, "keep the temp directory (archive and SQLite file)")
	flag.Parse()
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "twinme-bench-export-")
	if err != nil {
		log.Fatal(err)
	}
	if !*keep {
		defer os.RemoveAll(dir)
	}
	url := *dbURL
	if url != "" {
		url, err = freshSchema(ctx, url)
		if err != nil {
			log.Fatal(err)
		}
	}
	db, err := store.Open(ctx, url, dir)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if url != "" {
		defer dropSchema(db, url)
	}
	if _, err := db.Migrate(ctx); err != nil {
		log.Fatal(err)
	}
	now := time.Now().UTC()
	u := &store.User{ID: store.NewID(), Email: "bench@example.com", Role: "user", CreatedAt: now, UpdatedAt: now}
	if err := db.CreateUser(ctx, u); err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	if err := seed(ctx, db, u.ID, *items, now); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("seeded %d items and %d browser events on %s in %s\n", *items, *items/10, db.Dialect, time.Since(t0).Round(time.Millisecond))

	runtime.GC()
	resetPeakRSS()
	var heapPeak atomic.Uint64
	stop := make(chan struct{})
	go sampleHeap(&heapPeak, stop)

	path := filepath.Join(dir, "export.zip")
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	t1 := time.Now()
	n, err := export.Write(ctx, db, u.ID, now, bw, nil)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	elapsed := time.Since(t1)
	close(stop)
	if err != nil {
		log.Fatal(err)
	}
	st, _ := os.Stat(path)
	fmt.Printf("exported %d records (%d MiB zip) in %s (%.0f records/s)\n", n, st.Size()>>20, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
	fmt.Printf("peak RSS during the export: %d MiB (process high-water mark, reset after seeding: %v)\n", peakRSS()>>20, resetWorked)
	fmt.Printf("peak Go heap in use during the export: %d MiB\n", heapPeak.Load()>>20)
	fmt.Printf("load: %s", loadavg())
}

// seed stores n platform items across three platforms and data types, and
// n/10 browser events, in transactions of 20,000.
func seed(ctx context.Context, db *store.DB, userID string, n int, now time.Time) error {
	kinds := []struct{ platform, dataType string }{{"spotify", "play"}, {"youtube", "watch"}, {"github", "event"}}
	const tx = 20_000
	for start := 0; start < n; start += tx {
		end := min(start+tx, n)
		err := db.RunInTx(ctx, nil, func(ctx context.Context, t bun.Tx) error {
			for _, k := range kinds {
				w := store.NewPlatformDataWriter(t, userID, k.platform, now)
				batch := make([]store.PlatformItem, 0, 1000)
				for i := start; i < end; i++ {
					if kinds[i%len(kinds)] != k {
						continue
					}
					payload, _ := json.Marshal(map[string]any{"track": "Track " + strconv.Itoa(i), "artist": "Artist " + strconv.Itoa(i%5000),
						"album": "Album " + strconv.Itoa(i%20000), "ms_played": 1000 + i%300000, "platform": "linux", "shuffle": i%2 == 0})
					batch = append(batch, store.PlatformItem{DataType: k.dataType, ExternalID: "x" + strconv.Itoa(i),
						OccurredAt: now.Add(-time.Duration(i) * time.Minute), Payload: payload, Source: store.SourceAPI})
					if len(batch) == cap(batch) {
						if _, err := w.Upsert(ctx, batch); err != nil {
							return err
						}
						batch = batch[:0]
					}
				}
				if _, err := w.Upsert(ctx, batch); err != nil {
					return err
				}
				_ = w.Close()
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	evs := make([]store.NewObserverEvent, 0, 5000)
	for i := 0; i < n/10; i++ {
		evs = append(evs, store.NewObserverEvent{ClientEventID: "e" + strconv.Itoa(i), Type: "navigation", OccurredAt: now.Add(-time.Duration(i) * time.Minute),
			Domain: "example.com", Data: json.RawMessage(`{"dwell_ms":1234}`)})
		if len(evs) == cap(evs) || i == n/10-1 {
			if _, err := db.InsertObserverEvents(ctx, userID, evs, now); err != nil {
				return err
			}
			evs = evs[:0]
		}
	}
	return nil
}

var resetWorked bool

// resetPeakRSS resets the kernel's VmHWM for this process (Linux ≥ 4.0).
func resetPeakRSS() {
	resetWorked = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseUint(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func sampleHeap(peak *atomic.Uint64, stop <-chan struct{}) {
	var ms runtime.MemStats
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for {
		runtime.ReadMemStats(&ms)
		if ms.HeapInuse > peak.Load() {
			peak.Store(ms.HeapInuse)
		}
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown\n"
	}
	return string(b)
}

// freshSchema creates a schema for this run and returns url using it.
func freshSchema(ctx context.Context, url string) (string, error) {
	db, err := store.Open(ctx, url, "")
	if err != nil {
		return "", err
	}
	defer db.Close()
	schema := fmt.Sprintf("bench_export_%d", time.Now().UnixNano())
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", err
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema, nil
}

func dropSchema(db *store.DB, url string) {
	i := strings.Index(url, "search_path=")
	if i < 0 {
		return
	}
	schema := url[i+len("search_path="):]
	_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
}
