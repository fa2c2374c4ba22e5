package connect_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func addUser(t testing.TB, db *store.DB, i int) *store.User {
	t.Helper()
	u := &store.User{Email: fmt.Sprintf("user%d@example.com", i), CreatedAt: start, UpdatedAt: start}
	storetest.Must(t, db.CreateUser(context.Background(), u))
	return u
}

func TestSweepRefreshesOnlyExpiringConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(true))
		e := newEnv(t, db, f)

		// Four connected an hour ago (expiring within the margin in 55
		// minutes), two connected later (still fresh then), and one whose
		// grant the provider will reject.
		var early []string
		for i := range 4 {
			c, _ := e.connectUser(addUser(t, db, i))
			early = append(early, c.ID)
		}
		e.clock.Advance(30 * time.Minute)
		for i := 4; i < 6; i++ {
			e.connectUser(addUser(t, db, i))
		}
		e.clock.Advance(25 * time.Minute)

		f.FailNext(1, platformtest.FailInvalidGrant)
		res, err := e.m.Sweep(ctx)
		storetest.Must(t, err)
		if res.Checked != 4 || res.Refreshed != 3 || res.Failed != 1 || len(res.PerConnection) != 4 {
			t.Fatalf("sweep = checked %d refreshed %d failed %d (%d outcomes), want 4/3/1", res.Checked, res.Refreshed, res.Failed, len(res.PerConnection))
		}
		kinds := map[connect.OutcomeKind]int{}
		for _, o := range res.PerConnection {
			kinds[o.Kind]++
			if o.Kind == connect.OutcomeNeedsReauth && o.Error == "" {
				t.Error("a failed outcome carries no message")
			}
		}
		if kinds[connect.OutcomeRefreshed] != 3 || kinds[connect.OutcomeNeedsReauth] != 1 {
			t.Fatalf("outcomes %v", kinds)
		}
		if f.RefreshCount() != 4 {
			t.Fatalf("%d refresh requests, want 4", f.RefreshCount())
		}

		// Nothing left to do right after.
		res, err = e.m.Sweep(ctx)
		storetest.Must(t, err)
		if res.Checked != 0 || f.RefreshCount() != 4 {
			t.Fatalf("second sweep checked %d, %d refreshes in total", res.Checked, f.RefreshCount())
		}
	})
}

func TestSweepSkipsConnectionsInBackoff(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(true))
	e := newEnv(t, db, f)
	ctx := context.Background()
	for i := range 2 {
		e.connectUser(addUser(t, db, i))
	}
	e.clock.Advance(55 * time.Minute)
	f.FailNext(2, platformtest.Fail503)
	res, err := e.m.Sweep(ctx)
	storetest.Must(t, err)
	if res.Failed != 2 || res.Refreshed != 0 {
		t.Fatalf("first sweep during the outage: %+v", res)
	}
	e.clock.Advance(30 * time.Second) // inside Backoff(1)
	res, err = e.m.Sweep(ctx)
	storetest.Must(t, err)
	if res.Checked != 2 || res.Failed != 0 || f.RefreshCount() != 2 {
		t.Fatalf("sweep during backoff: %+v, %d requests", res, f.RefreshCount())
	}
	e.clock.Advance(connect.Backoff(1))
	res, err = e.m.Sweep(ctx)
	storetest.Must(t, err)
	if res.Refreshed != 2 {
		t.Fatalf("sweep after backoff: %+v", res)
	}
}
