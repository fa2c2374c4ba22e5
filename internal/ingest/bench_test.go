package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/time/rate"

	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/ingest/importer/importertest"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func benchUser(b *testing.B, db *store.DB, i int) *store.User {
	b.Helper()
	u := &store.User{Email: fmt.Sprintf("user%d@example.com", i), CreatedAt: start, UpdatedAt: start}
	storetest.Must(b, db.CreateUser(context.Background(), u))
	return u
}

// benchImport imports a history of n plays into SQLite end to end (parse,
// hash, upsert in one transaction per file) for a new user per iteration,
// and reports items/s and the peak heap seen at batch boundaries.
func benchImport(b *testing.B, n int) {
	db := storetest.Open(b, store.SQLite)
	s := ingest.New(db, ingest.Options{Clock: clockwork.NewFakeClockAt(start), Logger: slog.New(slog.DiscardHandler)})
	files, err := importer.FilesFromPaths(importertest.WriteExtendedHistory(b, b.TempDir(), n))
	storetest.Must(b, err)
	b.SetBytes(files[0].Size)
	ctx := context.Background()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	progress := func(importer.Progress) {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}
	runs := 0
	for b.Loop() {
		u := benchUser(b, db, runs)
		runs++
		res, err := s.ImportFiles(ctx, u.ID, "spotify", files, progress)
		storetest.Must(b, err)
		if res.Imported != n {
			b.Fatalf("imported %d, want %d", res.Imported, n)
		}
	}
	b.ReportMetric(float64(n)*float64(runs)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkImportExtendedHistory100k(b *testing.B) { benchImport(b, 100_000) }

// BenchmarkImportExtendedHistoryScaling shows whether memory stays flat as
// the file grows.
func BenchmarkImportExtendedHistoryScaling(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 300_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) { benchImport(b, n) })
	}
}

// BenchmarkReimportExtendedHistory100k re-imports a file already stored:
// every record is a duplicate and nothing is written.
func BenchmarkReimportExtendedHistory100k(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	s := ingest.New(db, ingest.Options{Clock: clockwork.NewFakeClockAt(start), Logger: slog.New(slog.DiscardHandler)})
	files, err := importer.FilesFromPaths(importertest.WriteExtendedHistory(b, b.TempDir(), 100_000))
	storetest.Must(b, err)
	u := benchUser(b, db, 0)
	ctx := context.Background()
	_, err = s.ImportFiles(ctx, u.ID, "spotify", files, nil)
	storetest.Must(b, err)
	for b.Loop() {
		res, err := s.ImportFiles(ctx, u.ID, "spotify", files, nil)
		storetest.Must(b, err)
		if res.Imported != 0 {
			b.Fatalf("re-import imported %d", res.Imported)
		}
	}
	b.ReportMetric(100_000*float64(b.N)/b.Elapsed().Seconds(), "items/s")
}

// BenchmarkRecordEvents stores batches of 500 extension events for one user
// on SQLite through RecordEvents (validation, reduction, idempotent insert);
// the HTTP layer is not included.
func BenchmarkRecordEvents(b *testing.B) {
	db := storetest.Open(b, store.SQLite)
	clock := clockwork.NewFakeClockAt(start)
	s := ingest.New(db, ingest.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler)})
	u := benchUser(b, db, 0)
	ctx := context.Background()
	_, err := s.SetObserverSettings(ctx, u.ID, true, false)
	storetest.Must(b, err)
	types := []string{observe.TypeScroll, observe.TypeMouseMove, observe.TypeTyping, observe.TypeNavigation, observe.TypeFocus}
	batch := make([]observe.RawEvent, observe.MaxBatchEvents)
	seq := 0
	for b.Loop() {
		for i := range batch {
			seq++
			batch[i] = observe.RawEvent{
				ClientEventID: "ev-" + strconv.Itoa(seq), Type: types[seq%len(types)],
				OccurredAt: start.Add(-time.Duration(seq%3600) * time.Second).Format(time.RFC3339Nano),
				URL:        "https://news.example.org/story/" + strconv.Itoa(seq%100) + "?utm_source=x",
				Data:       json.RawMessage(`{"deltaY":120,"duration":340}`),
			}
		}
		acc, _, err := s.RecordEvents(ctx, u.ID, batch)
		storetest.Must(b, err)
		if acc != len(batch) {
			b.Fatalf("accepted %d", acc)
		}
	}
	b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
}

// staticTokens is a token manager whose tokens are always valid: the
// polling benchmark measures the engine and the database, not refreshes.
type staticTokens struct{}

func (staticTokens) ValidToken(context.Context, string) (string, error) { return "tok", nil }
func (staticTokens) Refresh(context.Context, string) (*store.Connection, error) {
	return nil, fmt.Errorf("not used")
}
func (staticTokens) MarkNeedsReauth(context.Context, string) (*store.Connection, error) {
	return nil, fmt.Errorf("not used")
}

// BenchmarkPollRun1000 times one RunDue over 1,000 due connections against
// a local fake: one page of 20 new items per connection (the saved-tracks
// shape), 4 workers, no rate limit (with the default Spotify limit of 5
// requests/s the run would take ≥200 s by design).
func BenchmarkPollRun1000(b *testing.B) {
	const conns, perPage = 1000, 20
	db := storetest.Open(b, store.SQLite)
	ctx := context.Background()
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1)
		type saved struct {
			AddedAt string `json:"added_at"`
			Track   struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"track"`
		}
		items := make([]saved, perPage)
		for i := range items {
			items[i].AddedAt = start.Add(-time.Duration(i) * time.Minute).Format(time.RFC3339)
			items[i].Track.ID = fmt.Sprintf("t%d-%d", n, i)
			items[i].Track.Name = "Song " + items[i].Track.ID
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"limit": perPage, "offset": 0, "next": nil, "total": perPage, "items": items})
	}))
	defer srv.Close()
	p := platform.Providers()[platform.Spotify].WithEndpoints(platform.Endpoints{APIBaseURL: srv.URL + "/v1"})
	for i := range conns {
		u := benchUser(b, db, i)
		c := &store.Connection{UserID: u.ID, Platform: "spotify", AccountID: u.ID, ConnectedAt: start}
		storetest.Must(b, db.UpsertConnection(ctx, c, func(id string) (store.ConnectionTokens, error) {
			return store.ConnectionTokens{AccessTokenEnc: "sealed"}, nil
		}))
	}
	clock := clockwork.NewFakeClockAt(start)
	eng := ingest.NewEngine(db, staticTokens{}, ingest.EngineOptions{
		Providers: map[platform.ID]platform.Provider{platform.Spotify: p},
		Streams: func(platform.Provider) []platform.Stream {
			return []platform.Stream{{Name: "saved_tracks", DataType: "saved_track", Fetch: fetchSavedTracks}}
		},
		RateLimits: map[platform.ID]rate.Limit{platform.Spotify: rate.Inf},
		Clock:      clock,
		Logger:     slog.New(slog.DiscardHandler),
	})
	for b.Loop() {
		clock.Advance(ingest.DefaultInterval)
		res, err := eng.RunDue(ctx)
		storetest.Must(b, err)
		if res.Synced != conns || res.Inserted != conns*perPage {
			b.Fatalf("run = synced %d inserted %d", res.Synced, res.Inserted)
		}
	}
	b.ReportMetric(float64(conns)*float64(b.N)/b.Elapsed().Seconds(), "connections/s")
}
