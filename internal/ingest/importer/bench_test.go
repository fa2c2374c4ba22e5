package importer

import (
	"context"
	"github.com/twinme/twinme/internal/ingest/importer/importertest"
	"runtime"
	"strconv"
	"testing"
)

// benchImport imports the file b.N times with a no-op sink and reports
// items/s and the peak HeapInuse seen at batch boundaries.
func benchImport(b *testing.B, path string, plays int) {
	files, err := FilesFromPaths(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(files[0].Size)
	b.ReportAllocs()
	runtime.GC()
	var ms runtime.MemStats
	var peak uint64
	sink := func(context.Context, []Record) error {
		// Once per batch of 1000: a short stop-the-world, a small share of
		// the time measured.
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		return nil
	}
	ctx := context.Background()
	runs := 0
	for b.Loop() {
		runs++
		res, err := Importer{}.Import(ctx, PlatformSpotify, files, sink, nil)
		if err != nil {
			b.Fatal(err)
		}
		if got := res.Totals().Yielded; got != plays {
			b.Fatalf("yielded %d records, want %d", got, plays)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&ms)
	peak = max(peak, ms.HeapInuse)
	b.ReportMetric(float64(plays)*float64(runs)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkImportExtendedHistory100k(b *testing.B) {
	benchImport(b, importertest.WriteExtendedHistory(b, b.TempDir(), 100_000), 100_000)
}

// BenchmarkImportExtendedHistoryScaling shows that memory does not grow
// with the file: peak-heap-MiB stays the same from 10k to 300k plays.
func BenchmarkImportExtendedHistoryScaling(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 300_000} {
		b.Run(strconv.Itoa(n/1000)+"k", func(b *testing.B) {
			benchImport(b, importertest.WriteExtendedHistory(b, b.TempDir(), n), n)
		})
	}
}
