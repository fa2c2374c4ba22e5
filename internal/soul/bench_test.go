package soul_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// seededYear seeds one demo user-year (about 20,000 plays, 5,000 GitHub
// events, 50,000 observer events and the rest) into SQLite through the demo
// path.
func seededYear(b *testing.B) (*env, string) {
	b.Helper()
	db := storetest.Open(b, store.SQLite)
	e := newEnvWithClock(b, db, clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC)))
	id, _, err := demo.Seed(context.Background(), demo.Deps{
		DB: db, Auth: auth.NewService(db, e.clock, quiet(), auth.Options{}),
		Ingest: e.ingest, Soul: e.soul, Clock: e.clock, Logger: quiet(),
	}, "bench@example.com")
	storetest.Must(b, err)
	return e, id
}

// BenchmarkAnalyzeStoredUserYear times one analysis of a stored user-year:
// loading every row, running the detectors (and the monthly embeddings),
// and storing insights and the signature.
func BenchmarkAnalyzeStoredUserYear(b *testing.B) {
	e, id := seededYear(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.soul.Analyze(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadStoredUserYear times Load alone.
func BenchmarkLoadStoredUserYear(b *testing.B) {
	e, id := seededYear(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.soul.Load(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignatureQuery times the soulSignature query for a visitor
// (stored insights and signature, settings, privacy.Reveal).
func BenchmarkSignatureQuery(b *testing.B) {
	e, id := seededYear(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.soul.Signature(ctx, "", id, privacy.AudienceFriends); err != nil {
			b.Fatal(err)
		}
	}
}
