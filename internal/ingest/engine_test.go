package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestNextSyncAndBackoff(t *testing.T) {
	now := start
	for _, tc := range []struct {
		name      string
		pollAfter time.Duration
		want      time.Duration
	}{
		{"default interval", 0, 30 * time.Minute},
		{"shorter poll interval is ignored", time.Minute, 30 * time.Minute},
		{"longer poll interval wins", time.Hour, time.Hour},
	} {
		if got := ingest.NextSync(now, 30*time.Minute, tc.pollAfter).Sub(now); got != tc.want {
			t.Errorf("%s: NextSync = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{0, 5 * time.Minute}, {1, 5 * time.Minute}, {2, 10 * time.Minute}, {3, 20 * time.Minute}, {7, 320 * time.Minute}, {8, 6 * time.Hour}, {50, 6 * time.Hour}} {
		if got := ingest.RetryBackoff(tc.n); got != tc.want {
			t.Errorf("RetryBackoff(%d) = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func stored(t *testing.T, e *env, userID string) []store.PlatformData {
	t.Helper()
	rows, err := e.db.ListPlatformData(context.Background(), userID, "spotify", "saved_track", nil, 1000)
	storetest.Must(t, err)
	return rows
}

func cursorOffset(t *testing.T, c *store.Connection) int {
	t.Helper()
	var cur struct {
		Offset int `json:"offset"`
	}
	raw := store.StreamCursors(c.SyncCursor)["saved_tracks"]
	if raw == nil {
		return -1
	}
	storetest.Must(t, json.Unmarshal(raw, &cur))
	return cur.Offset
}

func TestRunDuePagesCheckpointsAndPublishes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		e.feed.add(25)
		eng := e.engine()
		sub, cancel := context.WithCancel(ctx)
		defer cancel()
		progress := e.bus.Subscribe(sub, events.Filter{Topic: events.SyncProgress, UserID: c.UserID, Key: "spotify"})

		res, err := eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.Connections != 1 || res.Synced != 1 || res.Items != 25 || res.Inserted != 25 {
			t.Fatalf("first run = %+v", res)
		}
		if got := len(stored(t, e, c.UserID)); got != 25 {
			t.Fatalf("stored %d items, want 25", got)
		}
		if got := e.feed.served(); !slices.Equal(got, []string{"limit=10&offset=0", "limit=10&offset=10", "limit=10&offset=20"}) {
			t.Fatalf("requests %v", got)
		}
		after := e.reload(c.ID)
		if cursorOffset(t, after) != 25 || after.LastSync == nil || !after.LastSync.Equal(start) ||
			!after.NextSyncAt.Equal(start.Add(ingest.DefaultInterval)) || after.Status != store.StatusConnected {
			t.Fatalf("connection after run: cursor %s last sync %v next %v", after.SyncCursor, after.LastSync, after.NextSyncAt)
		}
		// Three page events, then done.
		var got []ingest.SyncProgress
		for range 4 {
			ev := <-progress
			var p ingest.SyncProgress
			storetest.Must(t, json.Unmarshal(ev.Payload, &p))
			got = append(got, p)
		}
		if got[0].Items != 10 || got[0].Stream != "saved_tracks" || got[2].Items != 25 || !got[3].Done || got[3].Failed {
			t.Fatalf("progress %+v", got)
		}
		if got := e.analysis.got(); !slices.Equal(got, []string{c.UserID + " spotify"}) {
			t.Fatalf("analysis hook calls %q", got)
		}

		// Not due yet: nothing happens.
		res, err = eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.Connections != 0 {
			t.Fatalf("ran a connection that was not due: %+v", res)
		}
		// New saves; the next run asks only from the checkpoint.
		e.feed.add(3)
		e.clock.Advance(ingest.DefaultInterval)
		res, err = eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.Inserted != 3 || res.Items != 3 {
			t.Fatalf("second run = %+v", res)
		}
		if got := e.feed.served(); got[len(got)-1] != "limit=10&offset=25" || len(got) != 4 {
			t.Fatalf("second run requests %v", got)
		}
		if got := len(stored(t, e, c.UserID)); got != 28 {
			t.Fatalf("stored %d, want 28", got)
		}
	})
}

func TestFailureMidRunKeepsPagesAndResumesWithoutDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		e.feed.add(25)
		e.feed.failOnce(10, http.StatusServiceUnavailable)
		eng := e.engine()

		res, err := eng.RunDue(ctx)
		storetest.Must(t, err)
		r := res.PerConnection[0]
		if r.Outcome != ingest.OutcomeFailed || r.Inserted != 10 || r.Error != "Spotify answered HTTP 503; twinme will retry" {
			t.Fatalf("failed run = %+v", r)
		}
		after := e.reload(c.ID)
		if after.Status != store.StatusConnected || after.LastError == "" || after.LastSync != nil || cursorOffset(t, after) != 10 {
			t.Fatalf("after 503: status %s error %q last sync %v cursor %s", after.Status, after.LastError, after.LastSync, after.SyncCursor)
		}
		if want := start.Add(ingest.RetryBackoff(1)); !after.NextSyncAt.Equal(want) {
			t.Fatalf("next sync %v, want backoff to %v", after.NextSyncAt, want)
		}
		if got := len(stored(t, e, c.UserID)); got != 10 {
			t.Fatalf("pages before the failure: %d items stored, want 10", got)
		}

		e.clock.Advance(ingest.RetryBackoff(1))
		res, err = eng.RunDue(ctx)
		storetest.Must(t, err)
		r = res.PerConnection[0]
		if r.Outcome != ingest.OutcomeSynced || r.Fetched != 15 || r.Inserted != 15 || r.Unchanged != 0 {
			t.Fatalf("resumed run = %+v (want 15 fetched, all new)", r)
		}
		if got := e.feed.served(); !slices.Equal(got[2:], []string{"limit=10&offset=10", "limit=10&offset=20"}) {
			t.Fatalf("resume requests %v", got)
		}
		after = e.reload(c.ID)
		if after.LastError != "" || after.LastSync == nil || len(stored(t, e, c.UserID)) != 25 {
			t.Fatalf("after resume: error %q last sync %v", after.LastError, after.LastSync)
		}
		st, err := db.SyncState(ctx, c.ID)
		storetest.Must(t, err)
		if st.Failures != 0 || st.LastInserted != 15 {
			t.Fatalf("sync state %+v", st)
		}
	})
}

func TestRateLimitMovesNextSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		e.feed.add(25)
		eng := e.engine()
		e.fake.FailNextAPI(1, platformtest.Fail429)

		res, err := eng.RunDue(ctx)
		storetest.Must(t, err)
		if r := res.PerConnection[0]; r.Outcome != ingest.OutcomeRateLimited || r.Fetched != 0 {
			t.Fatalf("run = %+v", r)
		}
		after := e.reload(c.ID)
		want := start.Add(platformtest.RetryAfterSeconds * time.Second)
		if !after.NextSyncAt.Equal(want) || after.Status != store.StatusConnected || after.LastError != "" {
			t.Fatalf("after 429: next %v (want %v) status %s error %q", after.NextSyncAt, want, after.Status, after.LastError)
		}
		// A manual sync before the provider's time is refused.
		if _, err := eng.SyncNow(ctx, c.UserID, "SPOTIFY"); apperr.CodeOf(err) != apperr.RateLimited {
			t.Fatalf("syncNow during Retry-After: %v", err)
		}
		e.clock.Advance(platformtest.RetryAfterSeconds * time.Second)
		res, err = eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.Synced != 1 || res.Inserted != 25 {
			t.Fatalf("after waiting: %+v", res)
		}
	})
}

func TestUnauthorizedRefreshesOnceThenSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		e.feed.add(5)
		// The provider rejects the current access token once (revoked
		// server-side before its expiry).
		e.fake.FailNextAPI(1, platformtest.FailInvalidGrant)
		res, err := e.engine().SyncNow(ctx, c.UserID, "spotify")
		storetest.Must(t, err)
		if res.Outcome != ingest.OutcomeSynced || res.Inserted != 5 {
			t.Fatalf("run = %+v", res)
		}
		if n := e.fake.RefreshCount(); n != 1 {
			t.Fatalf("refreshes = %d, want 1", n)
		}
		if after := e.reload(c.ID); after.Status != store.StatusConnected {
			t.Fatalf("status %s", after.Status)
		}
	})
}

func TestRejectedAfterRefreshNeedsReauth(t *testing.T) {
	for _, tc := range []struct {
		name      string
		fail      func(e *env)
		refreshes int
	}{
		{"401 after refresh", func(e *env) { e.fake.FailNextAPI(2, platformtest.FailInvalidGrant) }, 1},
		{"403", func(e *env) { e.feed.failOnce(0, http.StatusForbidden) }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				e := newEnv(t, db)
				c := e.connectUser("ada@example.com")
				e.feed.add(5)
				tc.fail(e)
				res, err := e.engine().SyncNow(ctx, c.UserID, "spotify")
				storetest.Must(t, err)
				if res.Outcome != ingest.OutcomeNeedsReauth {
					t.Fatalf("run = %+v", res)
				}
				if n := e.fake.RefreshCount(); n != tc.refreshes {
					t.Fatalf("refreshes = %d, want %d", n, tc.refreshes)
				}
				after := e.reload(c.ID)
				if after.Status != store.StatusNeedsReauth || after.LastError == "" {
					t.Fatalf("status %s error %q", after.Status, after.LastError)
				}
				if got := e.statusEvents(); !slices.Equal(got, []store.ConnectionStatus{store.StatusNeedsReauth}) {
					t.Fatalf("status events %v", got)
				}
				if _, err := e.engine().SyncNow(ctx, c.UserID, "spotify"); apperr.CodeOf(err) != apperr.BadUserInput {
					t.Fatalf("syncNow on needs_reauth: %v", err)
				}
				// No longer claimed by polling.
				e.clock.Advance(24 * time.Hour)
				pr, err := e.engine().RunDue(ctx)
				storetest.Must(t, err)
				if pr.Connections != 0 {
					t.Fatalf("polled a connection that needs reauth")
				}
			})
		})
	}
}

func TestSyncNowJoinsTheRunningSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		e.feed.add(3)
		var fetches atomic.Int32
		entered, release := make(chan struct{}), make(chan struct{})
		slow := platform.Stream{Name: "saved_tracks", DataType: "saved_track",
			Fetch: func(ctx context.Context, cl *http.Client, p platform.Provider, tok string, cur json.RawMessage) (platform.Page, error) {
				if fetches.Add(1) == 1 {
					close(entered)
				}
				<-release
				return fetchSavedTracks(ctx, cl, p, tok, cur)
			}}
		eng := e.engine(slow)
		var wg sync.WaitGroup
		results := make([]ingest.ConnectionResult, 2)
		errs := make([]error, 2)
		wg.Add(1)
		go func() { defer wg.Done(); results[0], errs[0] = eng.SyncNow(ctx, c.UserID, "spotify") }()
		<-entered
		wg.Add(1)
		go func() { defer wg.Done(); results[1], errs[1] = eng.SyncNow(ctx, c.UserID, "spotify") }()
		// The second call is waiting on the first one's run; RunDue, too,
		// must not start a second run of the claimed connection.
		time.Sleep(20 * time.Millisecond) // let the second caller reach the shared run (not waiting for time to pass)
		close(release)
		wg.Wait()
		for i := range errs {
			storetest.Must(t, errs[i])
		}
		if n := fetches.Load(); n != 1 {
			t.Fatalf("fetches = %d, want one shared run", n)
		}
		if results[0].Inserted != 3 || results[1].Inserted != 3 {
			t.Fatalf("results %+v", results)
		}
	})
}

func TestSyncNowErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		eng := e.engine()
		for _, tc := range []struct {
			platform string
			want     apperr.Code
		}{{"myspace", apperr.BadUserInput}, {"github", apperr.NotConfigured}} {
			if _, err := eng.SyncNow(ctx, c.UserID, tc.platform); apperr.CodeOf(err) != tc.want {
				t.Errorf("SyncNow(%s) = %v, want %s", tc.platform, err, tc.want)
			}
		}
		if _, err := eng.SyncNow(ctx, "someone-else", "spotify"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("another user's connection: %v", err)
		}
		_, _, err := db.DisconnectConnection(ctx, c.UserID, "spotify", start)
		storetest.Must(t, err)
		if _, err := eng.SyncNow(ctx, c.UserID, "spotify"); apperr.CodeOf(err) != apperr.BadUserInput || !errors.Is(err, err) {
			t.Errorf("disconnected: %v", err)
		}
	})
}

func TestTwoInstancesSyncEachConnectionOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		const n = 12
		for i := range n {
			e.connectUser("user" + string(rune('a'+i)) + "@example.com")
		}
		e.feed.add(5)
		a, b := e.engine(), e.engine()
		var wg sync.WaitGroup
		var ra, rb ingest.PollResult
		var ea, eb error
		wg.Add(2)
		go func() { defer wg.Done(); ra, ea = a.RunDue(ctx) }()
		go func() { defer wg.Done(); rb, eb = b.RunDue(ctx) }()
		wg.Wait()
		storetest.Must(t, ea)
		storetest.Must(t, eb)
		if ra.Connections+rb.Connections != n || ra.Synced+rb.Synced != n || ra.Inserted+rb.Inserted != n*5 {
			t.Fatalf("instances synced %d+%d connections (%d+%d items), want %d once each", ra.Connections, rb.Connections, ra.Inserted, rb.Inserted, n)
		}
		if got := len(e.feed.served()); got != n {
			t.Fatalf("%d API requests, want %d", got, n)
		}
	})
}

// funcStream is a stream without HTTP, for engine rules that do not depend
// on a provider's wire format.
func funcStream(name string, fetch func(cursor json.RawMessage) (platform.Page, error)) platform.Stream {
	return platform.Stream{Name: name, DataType: "thing", Fetch: func(_ context.Context, _ *http.Client, _ platform.Provider, _ string, cur json.RawMessage) (platform.Page, error) {
		return fetch(cur)
	}}
}

func thing(id string) platform.Item {
	return platform.Item{DataType: "thing", ExternalID: id, OccurredAt: start, Payload: json.RawMessage(`{"source":"api","id":"` + id + `"}`)}
}

func TestNotModifiedPollAfterAndPartialFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		var calls []string
		// GitHub-style: 304 with X-Poll-Interval of an hour.
		events304 := funcStream("events", func(cur json.RawMessage) (platform.Page, error) {
			calls = append(calls, "events:"+string(cur))
			return platform.Page{NotModified: true, Cursor: cur, PollAfter: time.Hour}, nil
		})
		broken := funcStream("starred", func(json.RawMessage) (platform.Page, error) {
			calls = append(calls, "starred")
			return platform.Page{}, &platform.APIError{Platform: platform.Spotify, Kind: platform.APIBadRequest, StatusCode: 400}
		})
		guilds := funcStream("guilds", func(json.RawMessage) (platform.Page, error) {
			calls = append(calls, "guilds")
			return platform.Page{Items: []platform.Item{thing("g1"), thing("g2")}, Cursor: json.RawMessage(`"v1"`)}, nil
		})
		storetest.Must(t, db.SetStreamCursor(ctx, c.ID, "events", json.RawMessage(`{"etag":"W/\"abc\""}`)))
		r, err := e.engine(events304, broken, guilds).SyncNow(ctx, c.UserID, "spotify")
		storetest.Must(t, err)
		// The bad stream fails alone; the others run.
		if r.Outcome != ingest.OutcomePartial || r.Inserted != 2 || len(calls) != 3 {
			t.Fatalf("run %+v calls %v", r, calls)
		}
		if r.Streams[1].Error == "" || r.Streams[0].Fetched != 0 {
			t.Fatalf("streams %+v", r.Streams)
		}
		after := e.reload(c.ID)
		cur := store.StreamCursors(after.SyncCursor)
		if string(compactJSON(cur["events"])) != `{"etag":"W/\"abc\""}` || string(cur["guilds"]) != `"v1"` {
			t.Fatalf("cursors %s", after.SyncCursor)
		}
		// A partial run is a failure for the record, but its poll interval
		// (the longer one asked for) still applies.
		if !after.NextSyncAt.Equal(start.Add(time.Hour)) || after.LastError == "" || after.LastSync != nil {
			t.Fatalf("next %v error %q last sync %v", after.NextSyncAt, after.LastError, after.LastSync)
		}
	})
}

func compactJSON(raw json.RawMessage) []byte {
	var v any
	_ = json.Unmarshal(raw, &v)
	b, _ := json.Marshal(v)
	return b
}

func TestDisconnectDuringRunStoresNothingMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		c := e.connectUser("ada@example.com")
		pages := 0
		s := funcStream("things", func(json.RawMessage) (platform.Page, error) {
			pages++
			if pages == 2 {
				// The person disconnects (and deletes the data) while the
				// second page is in flight.
				_, _, err := db.DisconnectConnection(ctx, c.UserID, "spotify", start)
				storetest.Must(t, err)
				_, err = db.DeletePlatformData(ctx, c.UserID, "spotify")
				storetest.Must(t, err)
			}
			return platform.Page{Items: []platform.Item{thing("p" + string(rune('0'+pages)))}, Cursor: json.RawMessage(`1`), More: pages < 3}, nil
		})
		r, err := e.engine(s).SyncNow(ctx, c.UserID, "spotify")
		storetest.Must(t, err)
		if r.Outcome != ingest.OutcomeSkipped || pages != 2 {
			t.Fatalf("run %+v after %d pages", r, pages)
		}
		n, err := db.CountPlatformData(ctx, c.UserID, "spotify")
		storetest.Must(t, err)
		if len(n) != 0 {
			t.Fatalf("data after disconnect: %v", n)
		}
		if after := e.reload(c.ID); after.Status != store.StatusDisconnected || after.NextSyncAt != nil {
			t.Fatalf("disconnected connection was revived: %s next %v", after.Status, after.NextSyncAt)
		}
	})
}

func TestAppWideLimit(t *testing.T) {
	for _, tc := range []struct {
		p    platform.ID
		kind platform.APIErrorKind
		want bool
	}{
		{platform.YouTube, platform.APIQuotaExceeded, true},
		{platform.Spotify, platform.APIRateLimited, true},
		{platform.Discord, platform.APIRateLimited, true},
		{platform.GitHub, platform.APIRateLimited, false},
		{platform.Gmail, platform.APIRateLimited, false},
		{platform.Spotify, platform.APITransient, false},
	} {
		if got := ingest.AppWideLimit(&platform.APIError{Platform: tc.p, Kind: tc.kind}); got != tc.want {
			t.Errorf("AppWideLimit(%s %s) = %v, want %v", tc.p, tc.kind, got, tc.want)
		}
	}
}

func TestAppWideRateLimitPausesThePlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		a := e.connectUser("ada@example.com")
		b := e.connectUser("bob@example.com")
		e.feed.add(3)
		eng := e.engineWith(func(o *ingest.EngineOptions) { o.Workers = 1 })
		// Spotify counts its rolling window per app: after one 429 the
		// other connection is not even asked.
		e.fake.FailNextAPI(1, platformtest.Fail429)
		res, err := eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.RateLimited != 2 || len(e.feed.served()) != 0 {
			t.Fatalf("run %+v, %d requests after the 429", res, len(e.feed.served()))
		}
		want := start.Add(platformtest.RetryAfterSeconds * time.Second)
		for _, c := range []*store.Connection{a, b} {
			if got := e.reload(c.ID).NextSyncAt; !got.Equal(want) {
				t.Fatalf("next sync %v, want %v", got, want)
			}
		}
		e.clock.Advance(platformtest.RetryAfterSeconds * time.Second)
		res, err = eng.RunDue(ctx)
		storetest.Must(t, err)
		if res.Synced != 2 {
			t.Fatalf("after the wait: %+v", res)
		}
	})
}
