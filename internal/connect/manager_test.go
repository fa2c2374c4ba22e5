package connect_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestBackoff(t *testing.T) {
	cases := []struct {
		n    int
		want time.Duration
	}{
		{-1, 0},
		{0, 0},
		{1, time.Minute},
		{2, 2 * time.Minute},
		{3, 4 * time.Minute},
		{6, 32 * time.Minute},
		{7, time.Hour},
		{8, time.Hour},
		{1000, time.Hour},
	}
	for _, c := range cases {
		if got := connect.Backoff(c.n); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.n, got, c.want)
		}
	}
}

func spotifyEnv(t *testing.T, rotation bool, opts ...envOpt) *env {
	t.Helper()
	db := storetest.Open(t, store.SQLite)
	e := &env{}
	f := platformtest.New(t, platform.Spotify, platformtest.WithRotation(rotation))
	e = newEnv(t, db, f, opts...)
	return e
}

func TestValidTokenReturnsFreshTokenWithoutRefreshing(t *testing.T) {
	e := spotifyEnv(t, true)
	c, tok := e.connectUser(e.user)
	e.clock.Advance(49 * time.Minute) // 11 minutes left, outside the margin
	got, err := e.m.ValidToken(context.Background(), c.ID)
	storetest.Must(t, err)
	if got != tok.AccessToken || e.fake.RefreshCount() != 0 {
		t.Fatalf("got %q after %d refreshes, want the stored token and none", got, e.fake.RefreshCount())
	}
}

func TestRefreshWithRotation(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, tok := e.connectUser(e.user)

	e.clock.Advance(51 * time.Minute) // within the 10-minute margin
	got, err := e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	if got == tok.AccessToken || !e.fake.AccessTokenValid(got) {
		t.Fatalf("ValidToken returned %q, want a new token the provider accepts", got)
	}
	stored := e.storedTokens(c.ID)
	if stored.RefreshToken == tok.RefreshToken || stored.RefreshToken == "" {
		t.Fatalf("rotated refresh token not stored (still the old one: %v)", stored.RefreshToken == tok.RefreshToken)
	}
	if stored.AccessToken != got || !stored.Expiry.Equal(e.clock.Now().Add(time.Hour)) {
		t.Fatalf("stored access token / expiry: %v %v", stored.AccessToken == got, stored.Expiry)
	}
	// The next hour it refreshes again with the rotated token, which the
	// fake accepts only once: this fails if the rotation was not persisted.
	e.clock.Advance(55 * time.Minute)
	again, err := e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	if again == got || e.fake.RefreshCount() != 2 {
		t.Fatalf("second refresh: same token %v, %d refreshes", again == got, e.fake.RefreshCount())
	}
	if ev := e.statusEvents(); len(ev) != 0 {
		t.Fatalf("successful refreshes of a connected connection published %v", ev)
	}
}

func TestRefreshWithoutRotationKeepsRefreshToken(t *testing.T) {
	e := spotifyEnv(t, false)
	ctx := context.Background()
	c, tok := e.connectUser(e.user)
	for i := range 3 {
		e.clock.Advance(55 * time.Minute)
		got, err := e.m.ValidToken(ctx, c.ID)
		storetest.Must(t, err)
		if !e.fake.AccessTokenValid(got) {
			t.Fatalf("refresh %d returned a token the provider rejects", i)
		}
		if rt := e.storedTokens(c.ID).RefreshToken; rt != tok.RefreshToken {
			t.Fatalf("refresh %d replaced the refresh token although the provider sent none", i)
		}
	}
	if e.fake.RefreshCount() != 3 {
		t.Fatalf("%d refreshes, want 3", e.fake.RefreshCount())
	}
}

// A token response without expires_in gets the provider's documented
// default lifetime, so the token is still refreshed in time.
func TestMissingExpiresInUsesProviderDefault(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	f := platformtest.New(t, platform.Spotify)
	e := newEnv(t, db, f)
	c, _ := e.connectUser(e.user)

	// RFC 6749 §5.1: expires_in is RECOMMENDED, not required.
	// {"access_token":"…","token_type":"Bearer"}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "BQA-no-expiry", "token_type": "Bearer"})
	}))
	defer bare.Close()
	p := f.Provider().WithEndpoints(platform.Endpoints{TokenURL: bare.URL + "/api/token"})
	cfg := p.OAuth2Config(f.ClientID, f.ClientSecret, f.RedirectURL)
	m := connect.NewManager(db, e.keys, map[platform.ID]connect.Platform{platform.Spotify: {Provider: p, OAuth: cfg}},
		connect.Options{Clock: e.clock})

	e.clock.Advance(55 * time.Minute)
	got, err := m.ValidToken(context.Background(), c.ID)
	storetest.Must(t, err)
	row := e.reload(c.ID)
	want := e.clock.Now().Add(p.DefaultTokenLifetime)
	if got != "BQA-no-expiry" || row.TokenExpiresAt == nil || !row.TokenExpiresAt.Equal(want) {
		t.Fatalf("token %q expires %v, want %v", got, row.TokenExpiresAt, want)
	}
}

func TestInvalidGrantNeedsReauth(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.RevokeAll() // the person removed the app at Spotify
	e.clock.Advance(55 * time.Minute)

	_, err := e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrNeedsReauth) || apperr.CodeOf(err) != apperr.BadUserInput {
		t.Fatalf("got %v, want ErrNeedsReauth as BAD_USER_INPUT", err)
	}
	row := e.reload(c.ID)
	if row.Status != store.StatusNeedsReauth || !strings.Contains(row.LastError, "connect Spotify again") || row.RefreshLeaseOwner != "" {
		t.Fatalf("row after invalid_grant: status %s, error %q, lease %q", row.Status, row.LastError, row.RefreshLeaseOwner)
	}
	if ev := e.statusEvents(); !slices.Equal(ev, []store.ConnectionStatus{store.StatusNeedsReauth}) {
		t.Fatalf("status events %v, want [needs_reauth]", ev)
	}
	// No more requests with a dead grant.
	_, err = e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrNeedsReauth) || e.fake.RefreshCount() != 1 {
		t.Fatalf("second call: %v after %d refresh requests", err, e.fake.RefreshCount())
	}
}

func TestTransientFailuresKeepStatusAndRetryLater(t *testing.T) {
	for _, mode := range []platformtest.FailMode{platformtest.Fail503, platformtest.FailTimeout, platformtest.Fail429} {
		t.Run(mode.String(), func(t *testing.T) {
			e := spotifyEnv(t, true, func(o *connect.Options) { o.RefreshTimeout = 200 * time.Millisecond })
			ctx := context.Background()
			c, tok := e.connectUser(e.user)
			e.fake.FailNext(1, mode)

			// Within the margin but not expired: the caller still gets the
			// current token, which still works.
			e.clock.Advance(59*time.Minute + 30*time.Second)
			got, err := e.m.ValidToken(ctx, c.ID)
			storetest.Must(t, err)
			if got != tok.AccessToken || !e.fake.AccessTokenValid(got) {
				t.Fatal("a failed early refresh did not fall back to the still-valid token")
			}
			row := e.reload(c.ID)
			if row.Status != store.StatusConnected || row.ConsecutiveFailures != 1 || row.LastError == "" ||
				row.LastErrorAt == nil || !row.LastErrorAt.Equal(e.clock.Now()) || row.RefreshLeaseOwner != "" {
				t.Fatalf("after %s: %+v", mode, row)
			}
			if strings.Contains(row.LastError, tok.RefreshToken) || strings.Contains(e.logs.String(), tok.RefreshToken) {
				t.Fatal("refresh token leaked into last_error or logs")
			}

			// Expired and backing off: no request, a retryable error.
			e.clock.Advance(45 * time.Second)
			_, err = e.m.ValidToken(ctx, c.ID)
			if !errors.Is(err, connect.ErrUnavailable) || e.fake.RefreshCount() != 1 {
				t.Fatalf("during backoff: %v, %d refresh requests", err, e.fake.RefreshCount())
			}

			// After the backoff the retry succeeds and clears the failure.
			e.clock.Advance(connect.Backoff(1) - 45*time.Second)
			got, err = e.m.ValidToken(ctx, c.ID)
			storetest.Must(t, err)
			row = e.reload(c.ID)
			if !e.fake.AccessTokenValid(got) || row.ConsecutiveFailures != 0 || row.LastError != "" || row.TransientFailuresSince != nil {
				t.Fatalf("after retry: valid %v, row %+v", e.fake.AccessTokenValid(got), row)
			}
			if ev := e.statusEvents(); len(ev) != 0 {
				t.Fatalf("transient failures published status changes %v", ev)
			}
		})
	}
}

func TestFourDaysOfTransientFailuresSetError(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.FailNext(100, platformtest.Fail503)

	e.clock.Advance(55 * time.Minute)
	_, _ = e.m.ValidToken(ctx, c.ID)
	e.clock.Advance(3*24*time.Hour + 23*time.Hour)
	_, _ = e.m.ValidToken(ctx, c.ID)
	if row := e.reload(c.ID); row.Status != store.StatusConnected || row.ConsecutiveFailures != 2 {
		t.Fatalf("before 4 days: status %s, %d failures", row.Status, row.ConsecutiveFailures)
	}
	e.clock.Advance(time.Hour)
	_, err := e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrConnectionFailed) {
		t.Fatalf("after 4 days: %v, want ErrConnectionFailed", err)
	}
	if row := e.reload(c.ID); row.Status != store.StatusError {
		t.Fatalf("after 4 days of failures status is %s", row.Status)
	}
	if ev := e.statusEvents(); !slices.Equal(ev, []store.ConnectionStatus{store.StatusError}) {
		t.Fatalf("status events %v", ev)
	}
}

func TestSuccessEndsTheFailureRun(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.FailNext(1, platformtest.Fail503)
	e.clock.Advance(55 * time.Minute)
	_, _ = e.m.ValidToken(ctx, c.ID)
	e.clock.Advance(2 * time.Minute)
	storetest.Must(t, func() error { _, err := e.m.ValidToken(ctx, c.ID); return err }())
	e.fake.FailNext(1, platformtest.Fail503)
	e.clock.Advance(4 * 24 * time.Hour)
	_, _ = e.m.ValidToken(ctx, c.ID)
	if row := e.reload(c.ID); row.Status != store.StatusConnected || row.ConsecutiveFailures != 1 {
		t.Fatalf("a failure 4 days after a success: status %s, %d failures", row.Status, row.ConsecutiveFailures)
	}
}

func TestInvalidClientSetsErrorAndTellsOperator(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, tok := e.connectUser(e.user)
	e.fake.FailNext(1, platformtest.FailInvalidClient)
	e.clock.Advance(61 * time.Minute)

	_, err := e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrConnectionFailed) || apperr.CodeOf(err) != apperr.NotConfigured {
		t.Fatalf("got %v, want ErrConnectionFailed as NOT_CONFIGURED", err)
	}
	if strings.Contains(apperr.MessageOf(err), "again") {
		t.Fatalf("the person is told to reconnect for our configuration error: %q", apperr.MessageOf(err))
	}
	row := e.reload(c.ID)
	if row.Status != store.StatusError {
		t.Fatalf("status %s, want error", row.Status)
	}
	if ev := e.statusEvents(); !slices.Equal(ev, []store.ConnectionStatus{store.StatusError}) {
		t.Fatalf("status events %v", ev)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if rec["level"] == "ERROR" && rec["platform"] == "spotify" && rec["connection_id"] == c.ID && rec["code"] == "invalid_client" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no operator ERROR line with platform and connection id:\n%s", e.logs.String())
	}
	if logs := e.logs.String(); strings.Contains(logs, tok.AccessToken) || strings.Contains(logs, tok.RefreshToken) ||
		strings.Contains(logs, platformtest.DefaultClientSecret) {
		t.Fatal("a token or the client secret was logged")
	}
}

func TestStatusesWithoutToken(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	if _, err := e.m.ValidToken(ctx, "no-such-connection"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("unknown connection: %v", err)
	}
	_, _, err := e.db.DisconnectConnection(ctx, e.user.ID, "spotify", e.clock.Now())
	storetest.Must(t, err)
	if _, err := e.m.ValidToken(ctx, c.ID); !errors.Is(err, connect.ErrNotConnected) {
		t.Fatalf("disconnected: %v", err)
	}
	if e.fake.RefreshCount() != 0 {
		t.Fatal("refresh attempted for a disconnected connection")
	}
}

// A token that expires and cannot be refreshed (no refresh token) turns
// the connection to token_expired and asks the person to reconnect.
func TestExpiredWithoutRefreshToken(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	exp := start.Add(time.Hour)
	c := &store.Connection{UserID: e.user.ID, Platform: "spotify", TokenExpiresAt: &exp, ConnectedAt: start}
	storetest.Must(t, e.db.UpsertConnection(ctx, c, func(id string) (store.ConnectionTokens, error) {
		enc, err := e.keys.EncryptString("BQA-only-access", connect.TokenAAD(id, connect.ColumnAccessToken))
		return store.ConnectionTokens{AccessTokenEnc: enc}, err
	}))
	e.clock.Advance(55 * time.Minute)
	if got, err := e.m.ValidToken(ctx, c.ID); err != nil || got != "BQA-only-access" {
		t.Fatalf("not yet expired: %q %v", got, err)
	}
	e.clock.Advance(5 * time.Minute)
	if _, err := e.m.ValidToken(ctx, c.ID); !errors.Is(err, connect.ErrNeedsReauth) {
		t.Fatalf("expired: %v", err)
	}
	if row := e.reload(c.ID); row.Status != store.StatusTokenExpired {
		t.Fatalf("status %s, want token_expired", row.Status)
	}
	if ev := e.statusEvents(); !slices.Equal(ev, []store.ConnectionStatus{store.StatusTokenExpired}) {
		t.Fatalf("status events %v", ev)
	}
}

// The admin refresh works whatever the expiry, and revives a connection
// set to error once the configuration is fixed.
func TestForcedRefresh(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, tok := e.connectUser(e.user)
	e.fake.FailNext(1, platformtest.FailInvalidClient)
	if _, err := e.m.Refresh(ctx, c.ID); !errors.Is(err, connect.ErrConnectionFailed) {
		t.Fatalf("forced refresh with bad client: %v", err)
	}
	row, err := e.m.Refresh(ctx, c.ID)
	storetest.Must(t, err)
	if row.Status != store.StatusConnected || e.fake.RefreshCount() != 2 {
		t.Fatalf("after fixed configuration: %s, %d refreshes", row.Status, e.fake.RefreshCount())
	}
	got, err := e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	if got == tok.AccessToken || !e.fake.AccessTokenValid(got) {
		t.Fatal("ValidToken after a forced refresh does not return the new token")
	}
	if ev := e.statusEvents(); !slices.Equal(ev, []store.ConnectionStatus{store.StatusError, store.StatusConnected}) {
		t.Fatalf("status events %v", ev)
	}
}

// Every platform's refresh, in its own token dialect (client
// authentication style, Slack's ok:false, GitHub's 200 errors …), goes
// through the token manager and survives a second refresh, which fails if a
// rotated refresh token was not stored.
func TestRefreshOnEveryPlatform(t *testing.T) {
	for _, id := range platform.All {
		t.Run(string(id), func(t *testing.T) {
			db := storetest.Open(t, store.SQLite)
			f := platformtest.New(t, id, platformtest.WithRotation(true))
			e := newEnv(t, db, f)
			ctx := context.Background()
			c, tok := e.connectUser(e.user)
			if c.TokenExpiresAt == nil || tok.RefreshToken == "" {
				// Non-expiring or non-refreshable tokens are used as they are.
				got, err := e.m.ValidToken(ctx, c.ID)
				if err != nil || got != tok.AccessToken || f.RefreshCount() != 0 {
					t.Fatalf("token without refresh: %v, same %v, %d refreshes", err, got == tok.AccessToken, f.RefreshCount())
				}
				t.Skipf("%s issues no expiring, refreshable token in this setup", id)
			}
			prev := tok
			for round := 1; round <= 2; round++ {
				row := e.reload(c.ID)
				e.clock.Advance(row.TokenExpiresAt.Sub(e.clock.Now()) - 5*time.Minute)
				got, err := e.m.ValidToken(ctx, c.ID)
				if err != nil {
					t.Fatalf("refresh %d: %v", round, err)
				}
				if got == prev.AccessToken || !f.AccessTokenValid(got) || f.RefreshCount() != round {
					t.Fatalf("refresh %d: new %v, valid %v, %d requests", round, got != prev.AccessToken, f.AccessTokenValid(got), f.RefreshCount())
				}
				stored := e.storedTokens(c.ID)
				if stored.RefreshToken == "" {
					t.Fatalf("refresh %d lost the refresh token", round)
				}
				prev = stored
			}
		})
	}
}
