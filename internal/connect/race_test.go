package connect_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// Two server instances (two token managers, each with its own database
// pool on one shared database) get 50 concurrent ValidToken calls for one
// connection whose token is about to expire. Spotify here rotates refresh
// tokens and rejects a reused one with invalid_grant, so a second refresh
// would kill the connection: exactly one refresh request may reach it, and
// every caller must get the same new token.
func TestConcurrentValidTokenAcrossInstancesRefreshesOnce(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, d)
			open := func() *store.DB {
				db, err := store.Open(ctx, url, "")
				storetest.Must(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			db1, db2 := open(), open()
			_, err := db1.Migrate(ctx)
			storetest.Must(t, err)

			f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(true))
			e := newEnv(t, db1, f, func(o *connect.Options) { o.Owner = "instance-1" })
			c, tok := e.connectUser(e.user)

			// Instance 2 shares keys and clock, not the database pool.
			e2 := &env{t: t, db: db2, fake: f, clock: e.clock, keys: e.keys, logs: e.logs}
			m2 := e2.manager(func(o *connect.Options) { o.Owner = "instance-2" })
			managers := []*connect.Manager{e.m, m2}

			// Slow enough that all callers pile up behind one refresh.
			f.SetLatency(150 * time.Millisecond)
			e.clock.Advance(55 * time.Minute)

			const callers = 50
			var wg sync.WaitGroup
			tokens := make([]string, callers)
			errs := make([]error, callers)
			startLine := make(chan struct{})
			for i := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-startLine
					tokens[i], errs[i] = managers[i%2].ValidToken(ctx, c.ID)
				}()
			}
			close(startLine)
			wg.Wait()

			if n := f.RefreshCount(); n != 1 {
				t.Fatalf("%d refresh requests reached the provider, want exactly 1", n)
			}
			for i := range callers {
				if errs[i] != nil {
					t.Fatalf("caller %d: %v", i, errs[i])
				}
				if tokens[i] != tokens[0] {
					t.Fatalf("caller %d got a different token than caller 0", i)
				}
			}
			if tokens[0] == tok.AccessToken || !f.AccessTokenValid(tokens[0]) {
				t.Fatal("callers got the old token or one the provider rejects")
			}
			row := e.reload(c.ID)
			if row.Status != store.StatusConnected || row.RefreshLeaseOwner != "" || row.RefreshLeaseUntil != nil {
				t.Fatalf("row after the race: status %s, lease %q %v", row.Status, row.RefreshLeaseOwner, row.RefreshLeaseUntil)
			}
			// The stored refresh token is the rotated one and still works.
			f.SetLatency(0)
			e.clock.Advance(55 * time.Minute)
			if _, err := m2.ValidToken(ctx, c.ID); err != nil {
				t.Fatalf("refresh after the race with the stored rotated token: %v", err)
			}
		})
	}
}

// An instance that died holding the lease blocks others only until the
// lease expires.
func TestExpiredLeaseOfDeadInstanceIsTakenOver(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(true))
	e := newEnv(t, db, f, func(o *connect.Options) { o.LeaseTTL = 30 * time.Second })
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.clock.Advance(55 * time.Minute)
	now := e.clock.Now()
	_, ok, err := db.AcquireRefreshLease(ctx, c.ID, "dead-instance", now, now.Add(time.Minute))
	storetest.Must(t, err)
	if !ok {
		t.Fatal("could not plant the dead instance's lease")
	}
	e.clock.Advance(61 * time.Second)
	got, err := e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	if !f.AccessTokenValid(got) || f.RefreshCount() != 1 {
		t.Fatalf("after the dead lease expired: valid %v, %d refreshes", f.AccessTokenValid(got), f.RefreshCount())
	}
}

// A caller that gives up mid-refresh does not cancel the refresh the others
// are waiting for, and the rotated token is still stored.
func TestCancelledCallerDoesNotFailSharedRefresh(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(true))
	e := newEnv(t, db, f)
	c, tok := e.connectUser(e.user)
	f.SetLatency(200 * time.Millisecond)
	e.clock.Advance(55 * time.Minute)

	impatient, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, impatientErr := e.m.ValidToken(impatient, c.ID)
	// The refresh is still in flight (200 ms): this caller joins it.
	got, patientErr := e.m.ValidToken(context.Background(), c.ID)
	if impatientErr == nil {
		t.Fatal("the impatient caller got a token after its deadline")
	}
	if patientErr != nil || got == tok.AccessToken || !f.AccessTokenValid(got) {
		t.Fatalf("patient caller: %v (new valid token: %v)", patientErr, f.AccessTokenValid(got))
	}
	if f.RefreshCount() != 1 || e.storedTokens(c.ID).AccessToken != got {
		t.Fatalf("%d refreshes; stored token is the new one: %v", f.RefreshCount(), e.storedTokens(c.ID).AccessToken == got)
	}
}
