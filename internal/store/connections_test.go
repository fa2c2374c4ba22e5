package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

func newUser(t *testing.T, db *store.DB, email string) *store.User {
	t.Helper()
	u := &store.User{Email: email, CreatedAt: t0, UpdatedAt: t0}
	storetest.Must(t, db.CreateUser(context.Background(), u))
	return u
}

func ptr[T any](v T) *T { return &v }

// sealed fakes encryption: the "ciphertext" names the row it is bound to,
// so a test sees which id seal was given.
func sealed(access, refresh string) func(id string) (store.ConnectionTokens, error) {
	return func(id string) (store.ConnectionTokens, error) {
		t := store.ConnectionTokens{AccessTokenEnc: id + "/" + access}
		if refresh != "" {
			t.RefreshTokenEnc = ptr(id + "/" + refresh)
		}
		return t, nil
	}
}

func connect(t *testing.T, db *store.DB, userID, platform string, expires *time.Time, refresh string) *store.Connection {
	t.Helper()
	c := &store.Connection{UserID: userID, Platform: domain.Platform(platform), AccountID: "acct-" + userID, AccountName: "Ada",
		Scopes: "a b", TokenExpiresAt: expires, ConnectedAt: t0}
	storetest.Must(t, db.UpsertConnection(context.Background(), c, sealed("access", refresh)))
	return c
}

func TestUpsertConnectionOnePerUserAndPlatform(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0.Add(time.Hour)), "r1")
		if c.ID == "" || c.Status != store.StatusConnected || c.AccessTokenEnc != c.ID+"/access" || *c.RefreshTokenEnc != c.ID+"/r1" {
			t.Fatalf("first connect stored %+v", c)
		}

		// The connection breaks, syncs happened; then the person reconnects
		// the same account: same row, revived, cursor kept.
		_, ok, err := db.SetConnectionStatus(ctx, c.ID, store.StatusChange{Status: store.StatusNeedsReauth, Error: "revoked"}, t0)
		storetest.Must(t, err)
		if !ok {
			t.Fatal("status change not applied")
		}
		_, err = db.NewUpdate().Model((*store.Connection)(nil)).Set("sync_cursor = ?", `{"after":"42"}`).Where("id = ?", c.ID).Exec(ctx)
		storetest.Must(t, err)

		again := &store.Connection{UserID: u.ID, Platform: "spotify", AccountID: "acct-" + u.ID, ConnectedAt: t0.Add(time.Hour)}
		storetest.Must(t, db.UpsertConnection(ctx, again, sealed("access2", "")))
		got, err := db.ConnectionByID(ctx, c.ID)
		storetest.Must(t, err)
		if again.ID != c.ID || got.Status != store.StatusConnected || got.LastError != "" || got.LastErrorAt != nil {
			t.Fatalf("reconnect did not revive the row: %+v", got)
		}
		if got.AccessTokenEnc != c.ID+"/access2" || got.RefreshTokenEnc != nil || got.SyncCursor != `{"after":"42"}` {
			t.Fatalf("reconnect stored tokens %q %v cursor %q", got.AccessTokenEnc, got.RefreshTokenEnc, got.SyncCursor)
		}
		if !got.ConnectedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("connected_at = %v", got.ConnectedAt)
		}

		// Another account on the same platform starts from scratch.
		other := &store.Connection{UserID: u.ID, Platform: "spotify", AccountID: "someone-else", ConnectedAt: t0.Add(2 * time.Hour)}
		storetest.Must(t, db.UpsertConnection(ctx, other, sealed("a3", "r3")))
		if other.ID != c.ID || other.SyncCursor != "{}" {
			t.Fatalf("other account kept id %v / cursor %q", other.ID == c.ID, other.SyncCursor)
		}

		list, err := db.ListConnections(ctx, u.ID)
		storetest.Must(t, err)
		if len(list) != 1 {
			t.Fatalf("%d connections after three connects, want 1", len(list))
		}
	})
}

func TestUpsertConnectionConcurrentCallbacksAgreeOnID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser(t, db, "ada@example.com")
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := &store.Connection{UserID: u.ID, Platform: "github", AccountID: "1", ConnectedAt: t0}
				if err := db.UpsertConnection(context.Background(), c, sealed(fmt.Sprint("a", i), "")); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		c, err := db.ConnectionByPlatform(context.Background(), u.ID, "github")
		storetest.Must(t, err)
		if !strings.HasPrefix(c.AccessTokenEnc, c.ID+"/") {
			t.Fatalf("stored token %q is sealed for another id than %s", c.AccessTokenEnc, c.ID)
		}
	})
}

func TestConnectionForUserHidesOtherUsers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada, bob := newUser(t, db, "ada@example.com"), newUser(t, db, "bob@example.com")
		c := connect(t, db, ada.ID, "spotify", nil, "")
		if _, err := db.ConnectionForUser(ctx, ada.ID, c.ID); err != nil {
			t.Fatalf("owner cannot read own connection: %v", err)
		}
		if _, err := db.ConnectionForUser(ctx, bob.ID, c.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("other user reading: got %v, want NOT_FOUND", err)
		}
		if _, _, err := db.DisconnectConnection(ctx, bob.ID, "spotify", t0); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("other user disconnecting: got %v, want NOT_FOUND", err)
		}
		if got, _ := db.ConnectionByID(ctx, c.ID); got.Status != store.StatusConnected {
			t.Fatalf("bob's attempt changed ada's connection to %s", got.Status)
		}
	})
}

func TestListExpiringConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		horizon := t0.Add(10 * time.Minute)
		type row struct {
			name    string
			status  store.ConnectionStatus
			expires *time.Time
			refresh string
			want    bool
		}
		rows := []row{
			{"expiring soon", store.StatusConnected, ptr(t0.Add(5 * time.Minute)), "r", true},
			{"already expired", store.StatusConnected, ptr(t0.Add(-time.Hour)), "r", true},
			{"token_expired with refresh", store.StatusTokenExpired, ptr(t0.Add(-time.Minute)), "r", true},
			{"fresh", store.StatusConnected, ptr(t0.Add(time.Hour)), "r", false},
			{"exactly at horizon", store.StatusConnected, ptr(horizon), "r", false},
			{"no refresh token", store.StatusConnected, ptr(t0.Add(time.Minute)), "", false},
			{"never expires", store.StatusConnected, nil, "r", false},
			{"needs reauth", store.StatusNeedsReauth, ptr(t0.Add(time.Minute)), "r", false},
			{"error", store.StatusError, ptr(t0.Add(time.Minute)), "r", false},
		}
		want := map[string]bool{}
		for i, r := range rows {
			u := newUser(t, db, fmt.Sprintf("u%d@example.com", i))
			c := connect(t, db, u.ID, "spotify", r.expires, r.refresh)
			if r.status != store.StatusConnected {
				_, _, err := db.SetConnectionStatus(ctx, c.ID, store.StatusChange{Status: r.status}, t0)
				storetest.Must(t, err)
			}
			if r.want {
				want[c.ID] = true
			}
			rows[i].name = c.ID + " " + r.name
		}
		// Page through two at a time: every wanted row once, in expiry order.
		var got []store.Connection
		var after *store.Cursor
		for {
			page, err := db.ListExpiringConnections(ctx, horizon, after, 2)
			storetest.Must(t, err)
			got = append(got, page...)
			if len(page) < 2 {
				break
			}
			last := page[len(page)-1]
			after = &store.Cursor{Time: *last.TokenExpiresAt, ID: last.ID}
		}
		if len(got) != len(want) {
			t.Fatalf("got %d expiring connections, want %d (%v)", len(got), len(want), rows)
		}
		for i, c := range got {
			if !want[c.ID] {
				t.Errorf("listed %s, which is not refreshable or not expiring", c.ID)
			}
			if i > 0 && c.TokenExpiresAt.Before(*got[i-1].TokenExpiresAt) {
				t.Errorf("not in expiry order at %d", i)
			}
		}
	})
}

func TestExpiringQueryUsesPartialIndexOnSQLite(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	q := db.NewSelect().Model((*store.Connection)(nil)).
		Where("status IN (?, ?)", store.StatusConnected, store.StatusTokenExpired).
		Where("refresh_token_enc IS NOT NULL").
		Where("token_expires_at < ?", t0).
		OrderExpr("token_expires_at ASC, id ASC").Limit(100)
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q.String())
	storetest.Must(t, err)
	defer rows.Close()
	var plan strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		storetest.Must(t, rows.Scan(&id, &parent, &unused, &detail))
		plan.WriteString(detail + "\n")
	}
	if !strings.Contains(plan.String(), "platform_connections_token_expires_idx") {
		t.Fatalf("plan does not use the partial index:\n%s", plan.String())
	}
}

func TestRefreshLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0), "r1")

		got, ok, err := db.AcquireRefreshLease(ctx, c.ID, "A", t0, t0.Add(time.Minute))
		storetest.Must(t, err)
		if !ok || got.RefreshLeaseOwner != "A" || got.ID != c.ID || *got.RefreshTokenEnc != c.ID+"/r1" {
			t.Fatalf("A did not get the lease with the row: ok=%v %+v", ok, got)
		}
		if _, ok, _ := db.AcquireRefreshLease(ctx, c.ID, "B", t0.Add(30*time.Second), t0.Add(90*time.Second)); ok {
			t.Fatal("B took a lease A still holds")
		}
		// Releasing someone else's lease does nothing.
		storetest.Must(t, db.ReleaseRefreshLease(ctx, c.ID, "B"))
		if _, ok, _ := db.AcquireRefreshLease(ctx, c.ID, "B", t0.Add(30*time.Second), t0.Add(90*time.Second)); ok {
			t.Fatal("B's release freed A's lease")
		}
		// A crashed: the lease expires and B takes over.
		if _, ok, _ := db.AcquireRefreshLease(ctx, c.ID, "B", t0.Add(61*time.Second), t0.Add(2*time.Minute)); !ok {
			t.Fatal("B could not take an expired lease")
		}
		storetest.Must(t, db.ReleaseRefreshLease(ctx, c.ID, "B"))
		if _, ok, _ := db.AcquireRefreshLease(ctx, c.ID, "A", t0.Add(62*time.Second), t0.Add(2*time.Minute)); !ok {
			t.Fatal("lease not free after B released it")
		}
	})
}

func TestConcurrentLeaseHasOneWinner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0), "r1")
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := db.AcquireRefreshLease(context.Background(), c.ID, fmt.Sprint("w", i), t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d workers hold the lease, want 1", winners)
		}
	})
}

func TestSaveRefreshedTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0), "r1")
		_, err := db.RecordTransientFailure(ctx, c.ID, "", "spotify could not be reached", t0)
		storetest.Must(t, err)
		_, _, err = db.AcquireRefreshLease(ctx, c.ID, "A", t0, t0.Add(time.Minute))
		storetest.Must(t, err)

		// No rotation: the old refresh token stays.
		got, ok, err := db.SaveRefreshedTokens(ctx, c.ID, "A", store.RefreshedTokens{AccessTokenEnc: "a2", ExpiresAt: ptr(t0.Add(time.Hour))}, t0)
		storetest.Must(t, err)
		if !ok || got.AccessTokenEnc != "a2" || *got.RefreshTokenEnc != c.ID+"/r1" || !got.TokenExpiresAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after refresh without rotation: %+v", got)
		}
		if got.RefreshLeaseUntil != nil || got.RefreshLeaseOwner != "" || got.ConsecutiveFailures != 0 ||
			got.TransientFailuresSince != nil || got.LastError != "" {
			t.Fatalf("refresh did not clear lease and failures: %+v", got)
		}

		// Rotation replaces it; a non-expiring token clears the expiry.
		got, _, err = db.SaveRefreshedTokens(ctx, c.ID, "A", store.RefreshedTokens{AccessTokenEnc: "a3", RefreshTokenEnc: ptr("r2")}, t0)
		storetest.Must(t, err)
		if *got.RefreshTokenEnc != "r2" || got.TokenExpiresAt != nil {
			t.Fatalf("after rotation: refresh %q expires %v", *got.RefreshTokenEnc, got.TokenExpiresAt)
		}

		// Someone else's lease is not cleared by A's save.
		_, _, err = db.AcquireRefreshLease(ctx, c.ID, "B", t0, t0.Add(time.Minute))
		storetest.Must(t, err)
		got, _, err = db.SaveRefreshedTokens(ctx, c.ID, "A", store.RefreshedTokens{AccessTokenEnc: "a4"}, t0)
		storetest.Must(t, err)
		if got.RefreshLeaseOwner != "B" || got.AccessTokenEnc != "a4" {
			t.Fatalf("A's save: owner %q access %q", got.RefreshLeaseOwner, got.AccessTokenEnc)
		}

		// A disconnected connection does not get tokens back.
		_, _, err = db.DisconnectConnection(ctx, u.ID, "spotify", t0)
		storetest.Must(t, err)
		if _, ok, err := db.SaveRefreshedTokens(ctx, c.ID, "A", store.RefreshedTokens{AccessTokenEnc: "a5"}, t0); err != nil || ok {
			t.Fatalf("save after disconnect: ok=%v err=%v", ok, err)
		}
		got, _ = db.ConnectionByID(ctx, c.ID)
		if got.AccessTokenEnc != "" || got.RefreshTokenEnc != nil || got.Status != store.StatusDisconnected {
			t.Fatalf("disconnected connection holds tokens: %+v", got)
		}
	})
}

func TestRecordTransientFailureKeepsStatusAndRunStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0), "r1")
		_, _, err := db.AcquireRefreshLease(ctx, c.ID, "A", t0, t0.Add(time.Minute))
		storetest.Must(t, err)
		got, err := db.RecordTransientFailure(ctx, c.ID, "A", "HTTP 503", t0)
		storetest.Must(t, err)
		if got.Status != store.StatusConnected || got.ConsecutiveFailures != 1 || got.LastError != "HTTP 503" ||
			!got.LastErrorAt.Equal(t0) || !got.TransientFailuresSince.Equal(t0) || got.RefreshLeaseOwner != "" {
			t.Fatalf("after first failure: %+v", got)
		}
		got, err = db.RecordTransientFailure(ctx, c.ID, "A", "timeout", t0.Add(time.Hour))
		storetest.Must(t, err)
		if got.ConsecutiveFailures != 2 || !got.TransientFailuresSince.Equal(t0) || !got.LastErrorAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after second failure: %+v", got)
		}
		if _, err := db.RecordTransientFailure(ctx, "missing", "A", "x", t0); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("missing connection: %v", err)
		}
	})
}

func TestSetConnectionStatusGuards(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", ptr(t0), "r1")
		// A worker that failed with a refresh token someone already
		// replaced must not mark the connection dead.
		_, ok, err := db.SetConnectionStatus(ctx, c.ID, store.StatusChange{
			Status: store.StatusNeedsReauth, Error: "invalid_grant", IfRefreshTokenEnc: ptr("stale"),
		}, t0)
		storetest.Must(t, err)
		if ok {
			t.Fatal("status changed although the refresh token was replaced")
		}
		got, _, err := db.SetConnectionStatus(ctx, c.ID, store.StatusChange{
			Status: store.StatusNeedsReauth, Error: "invalid_grant", IfRefreshTokenEnc: c.RefreshTokenEnc,
			From: []store.ConnectionStatus{store.StatusConnected, store.StatusTokenExpired},
		}, t0)
		storetest.Must(t, err)
		if got.Status != store.StatusNeedsReauth || got.LastError != "invalid_grant" {
			t.Fatalf("status change with the current token: %+v", got)
		}
		if _, _, err := db.SetConnectionStatus(ctx, "missing", store.StatusChange{Status: store.StatusError}, t0); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("missing connection: %v", err)
		}
	})
}

func TestOAuthStatesAreOneTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada, bob := newUser(t, db, "ada@example.com"), newUser(t, db, "bob@example.com")
		mk := func(hash string) {
			storetest.Must(t, db.CreateOAuthState(ctx, &store.OAuthState{StateHash: hash, UserID: ada.ID, Platform: "spotify",
				RedirectURI: "https://twinme.test/oauth/spotify/callback", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)}))
		}
		mk("h1")
		mk("h2")
		cases := []struct {
			name          string
			hash, user, p string
			at            time.Time
			want          bool
		}{
			{"another user's state", "h1", bob.ID, "spotify", t0, false},
			{"another platform", "h1", ada.ID, "github", t0, false},
			{"unknown state", "nope", ada.ID, "spotify", t0, false},
			{"expired", "h2", ada.ID, "spotify", t0.Add(10 * time.Minute), false},
			{"valid", "h1", ada.ID, "spotify", t0.Add(time.Minute), true},
			{"replayed", "h1", ada.ID, "spotify", t0.Add(2 * time.Minute), false},
		}
		for _, tc := range cases {
			s, err := db.ConsumeOAuthState(ctx, tc.hash, tc.user, tc.p, tc.at)
			if tc.want && (err != nil || s.RedirectURI == "") {
				t.Errorf("%s: %v", tc.name, err)
			}
			if !tc.want && apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("%s: got %v, want NOT_FOUND", tc.name, err)
			}
		}
		n, err := db.DeleteExpiredOAuthStates(ctx, t0.Add(time.Hour))
		storetest.Must(t, err)
		if n != 2 {
			t.Fatalf("deleted %d expired states, want 2", n)
		}
	})
}

func TestDeletingUserDeletesConnections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		c := connect(t, db, u.ID, "spotify", nil, "")
		_, err := db.NewDelete().Model((*store.User)(nil)).Where("id = ?", u.ID).Exec(ctx)
		storetest.Must(t, err)
		if _, err := db.ConnectionByID(ctx, c.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("connection survived its user: %v", err)
		}
	})
}

// BenchmarkExpiringConnections1M times the sweep's query (one page of 500)
// on PostgreSQL with 1,000,000 connections and prints its EXPLAIN ANALYZE,
// which must show the partial index. It fills the table with SQL, so run it
// on purpose: TWINME_TEST_DATABASE_URL=… TWINME_BENCH_1M=1 go test
// -run '^$' -bench ExpiringConnections1M ./internal/store/
//
// The rows look like production: tokens expire over the next 7 days (Google
// and Spotify hourly, Discord weekly, LinkedIn bimonthly), 85 % connected,
// the rest token_expired, needs_reauth, error or disconnected, and 10 %
// without a refresh token.
func BenchmarkExpiringConnections1M(b *testing.B) {
	if os.Getenv(storetest.EnvURL) == "" || os.Getenv("TWINME_BENCH_1M") != "1" {
		b.Skip("set TWINME_TEST_DATABASE_URL and TWINME_BENCH_1M=1 to fill 1,000,000 rows on PostgreSQL")
	}
	ctx := context.Background()
	db := storetest.Open(b, store.Postgres)
	const users, rows = 150_000, 1_000_000
	fill := []string{
		`INSERT INTO users (id, email, created_at, updated_at)
		 SELECT 'u' || g, 'u' || g || '@example.com', now(), now() FROM generate_series(1, 150000) g`,
		`INSERT INTO platform_connections (id, user_id, platform, status, access_token_enc, refresh_token_enc,
		     token_expires_at, connected_at, created_at, updated_at)
		 SELECT 'c' || n, 'u' || u, p,
		     CASE WHEN r < 0.85 THEN 'connected' WHEN r < 0.88 THEN 'token_expired' WHEN r < 0.93 THEN 'needs_reauth'
		          WHEN r < 0.95 THEN 'error' ELSE 'disconnected' END,
		     'v1:k1:access', CASE WHEN random() < 0.9 THEN 'v1:k1:refresh' END,
		     ?::timestamptz + random() * interval '7 days' - interval '1 hour', ?, ?, ?
		 FROM (SELECT row_number() OVER () AS n, u, p, random() AS r
		       FROM generate_series(1, 150000) u,
		            unnest(ARRAY['spotify','youtube','github','discord','gmail','linkedin','slack']) p
		       LIMIT 1000000) s`,
		`ANALYZE users`,
		`ANALYZE platform_connections`,
	}
	now := time.Now().UTC().Truncate(time.Second)
	t0 := time.Now()
	for i, q := range fill {
		var err error
		if i == 1 {
			_, err = db.ExecContext(ctx, q, now, now, now, now)
		} else {
			_, err = db.ExecContext(ctx, q)
		}
		if err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	var n int
	storetest.Must(b, db.NewSelect().ColumnExpr("count(*)").Table("platform_connections").Scan(ctx, &n))
	fmt.Printf("filled %d connections for %d users in %v\n", n, users, time.Since(t0).Round(time.Millisecond))
	if n != rows {
		b.Fatalf("filled %d rows, want %d", n, rows)
	}

	horizon := now.Add(10 * time.Minute)
	q := db.NewSelect().Model((*store.Connection)(nil)).
		Where("status IN (?, ?)", store.StatusConnected, store.StatusTokenExpired).
		Where("refresh_token_enc IS NOT NULL").
		Where("token_expires_at < ?", horizon).
		OrderExpr("token_expires_at ASC, id ASC").Limit(500)
	var plan []string
	storetest.Must(b, db.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q.String()).Scan(ctx, &plan))
	fmt.Println(strings.Join(plan, "\n"))
	if !strings.Contains(strings.Join(plan, "\n"), "platform_connections_token_expires_idx") {
		b.Fatal("the expiring query does not use the partial index")
	}
	var expiring int
	storetest.Must(b, db.NewSelect().Model((*store.Connection)(nil)).
		ColumnExpr("count(*)").
		Where("status IN (?, ?)", store.StatusConnected, store.StatusTokenExpired).
		Where("refresh_token_enc IS NOT NULL").
		Where("token_expires_at < ?", horizon).Scan(ctx, &expiring))
	fmt.Printf("%d connections expire within the margin\n", expiring)

	// All of them, page by page, as one sweep reads them.
	tAll := time.Now()
	var after *store.Cursor
	total := 0
	for {
		page, err := db.ListExpiringConnections(ctx, horizon, after, 500)
		storetest.Must(b, err)
		total += len(page)
		if len(page) < 500 {
			break
		}
		last := page[len(page)-1]
		after = &store.Cursor{Time: *last.TokenExpiresAt, ID: last.ID}
	}
	fmt.Printf("paged through all %d expiring connections in %v\n", total, time.Since(tAll).Round(10*time.Microsecond))

	b.ResetTimer()
	for b.Loop() {
		page, err := db.ListExpiringConnections(ctx, horizon, nil, 500)
		if err != nil {
			b.Fatal(err)
		}
		if len(page) != min(500, expiring) {
			b.Fatalf("page of %d rows, want %d", len(page), min(500, expiring))
		}
	}
}
