package demo_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func deps(db *store.DB, clock clockwork.Clock) demo.Deps {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus := events.NewLocal(log)
	return demo.Deps{
		DB:     db,
		Auth:   auth.NewService(db, clock, log, auth.Options{}),
		Ingest: ingest.New(db, ingest.Options{Clock: clock, Logger: log}),
		Soul:   soul.New(db, soul.Options{Clock: clock, Logger: log, Bus: bus}),
		Clock:  clock,
		Logger: log,
		// A fifth of the year keeps the test quick under -race; the
		// benchmark in internal/soul seeds the whole year.
		Every: 5,
	}
}

func TestSeedProducesAFullSignature(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 9, 30, 0, 0, time.UTC))
		d := deps(db, clock)
		res, err := demo.SeedUser(ctx, d, "")
		storetest.Must(t, err)
		if res.Observer != 10000 {
			t.Errorf("observer accepted %d of 10000 events", res.Observer)
		}
		if res.Stored < 6000 || res.Run.InsightsStored == 0 {
			t.Fatalf("seed %+v", res)
		}

		v, err := d.Soul.Signature(ctx, res.UserID, res.UserID, "")
		storetest.Must(t, err)
		if len(v.Missing) != 0 {
			t.Errorf("the demo signature still misses %v", v.Missing)
		}
		for _, c := range v.Completeness {
			if c.Score != 1 {
				t.Errorf("%s completeness %.2f", c.Cluster, c.Score)
			}
		}
		for _, ci := range privacy.Clusters() {
			n := 0
			for _, in := range v.View.Insights {
				if in.Cluster == ci.Cluster {
					n++
				}
			}
			if n == 0 {
				t.Errorf("no %s insight in the demo signature", ci.Cluster)
			}
		}
		if len(v.View.Traits) != 5 || len(v.View.Summaries) != 3 {
			t.Errorf("%d traits and %d summaries, want the Big Five and one summary per cluster", len(v.View.Traits), len(v.View.Summaries))
		}
		periods, err := d.Soul.SimilarPeriods(ctx, res.UserID, 3)
		storetest.Must(t, err)
		if len(periods) != 3 {
			t.Errorf("similar periods %+v, want 3 of the year's months", periods)
		}

		viewer, err := d.Auth.AuthenticateToken(ctx, res.Token)
		storetest.Must(t, err)
		if viewer.User.ID != res.UserID {
			t.Fatalf("the printed token authenticates %s, not the demo user", viewer.User.ID)
		}

		// Seeding again the same moment stores nothing new and finds nothing new.
		again, err := demo.SeedUser(ctx, d, "")
		storetest.Must(t, err)
		if again.UserID != res.UserID || again.Stored != 0 || again.Run.InsightsStored != 0 {
			t.Fatalf("second seed: %+v", again)
		}
	})
}
