package connect_test

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"golang.org/x/oauth2"
)

// managerWith builds a token manager over e's database and clock with
// another OAuth client secret or keyring (nil: e's).
func (e *env) managerWith(secretValue string, keys *secret.Keyring, opts ...envOpt) *connect.Manager {
	cfg := e.fake.Config()
	if secretValue != "" {
		cfg = e.fake.Provider().OAuth2Config(e.fake.ClientID, secretValue, e.fake.RedirectURL)
	}
	if keys == nil {
		keys = e.keys
	}
	o := connect.Options{Clock: e.clock, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
		OnStatusChange: func(_ context.Context, c store.Connection) {
			e.mu.Lock()
			e.events = append(e.events, c)
			e.mu.Unlock()
		}}
	for _, f := range opts {
		f(&o)
	}
	return connect.NewManager(e.db, keys, map[platform.ID]connect.Platform{
		e.fake.ID: {Provider: e.fake.Provider(), OAuth: cfg},
	}, o)
}

// Gap 1: a wrong client secret sets connections to error with the
// configuration's fingerprint; the sweep retries them slowly while nothing
// changes and at once when the operator fixes the secret.
func TestConfigErrorHealsAfterTheSecretIsFixed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := platformtest.New(t, platform.Spotify)
		e := newEnv(t, db, f)
		ctx := context.Background()
		c, _ := e.connectUser(e.user)
		bad := e.managerWith("a-wrong-secret", nil)

		e.clock.Advance(55 * time.Minute) // within the margin
		res, err := bad.Sweep(ctx)
		storetest.Must(t, err)
		row := e.reload(c.ID)
		if res.Failed != 1 || row.Status != store.StatusError || row.ConfigFingerprint == "" {
			t.Fatalf("wrong secret: %+v, row %s fingerprint %q", res, row.Status, row.ConfigFingerprint)
		}
		if strings.Contains(row.LastError, "again") || !strings.Contains(row.LastError, "nothing you need to do") {
			t.Fatalf("the person is told %q", row.LastError)
		}
		_, err = bad.ValidToken(ctx, c.ID)
		if apperr.CodeOf(err) != apperr.NotConfigured || !errors.Is(err, connect.ErrConnectionFailed) {
			t.Fatalf("ValidToken of a config error: %v (%s)", err, apperr.CodeOf(err))
		}

		// Same configuration, shortly after: not retried.
		e.clock.Advance(10 * time.Minute)
		n := f.RefreshCount()
		_, err = bad.Sweep(ctx)
		storetest.Must(t, err)
		if f.RefreshCount() != n {
			t.Fatal("a config error was retried with the same configuration before the slow cadence")
		}
		// Same configuration after the slow cadence: retried once, still error.
		e.clock.Advance(connect.ConfigRetryInterval)
		_, err = bad.Sweep(ctx)
		storetest.Must(t, err)
		if f.RefreshCount() != n+1 || e.reload(c.ID).Status != store.StatusError {
			t.Fatalf("slow retry: %d requests (want %d), status %s", f.RefreshCount(), n+1, e.reload(c.ID).Status)
		}

		// The operator fixes the secret: the next sweep heals it.
		good := e.managerWith("", nil)
		res, err = good.Sweep(ctx)
		storetest.Must(t, err)
		row = e.reload(c.ID)
		if res.Refreshed != 1 || row.Status != store.StatusConnected || row.ConfigFingerprint != "" || row.LastError != "" {
			t.Fatalf("after the fix: %+v, row %s %q %q", res, row.Status, row.ConfigFingerprint, row.LastError)
		}
		tok, err := good.ValidToken(ctx, c.ID)
		storetest.Must(t, err)
		if !f.AccessTokenValid(tok) {
			t.Fatal("healed connection's token does not work")
		}
		ev := e.statusEvents()
		if len(ev) < 2 || ev[len(ev)-1] != store.StatusConnected {
			t.Fatalf("status events %v, want ... connected", ev)
		}
	})
}

// twoKeys gives e a known key k1 (rebuilding e.m) and returns keyrings
// [k2, k1] (rotation) and [k2] (the old key dropped).
func (e *env) twoKeys(t *testing.T) (*secret.Keyring, *secret.Keyring) {
	t.Helper()
	key := func(id string) secret.Key {
		k := secret.Key{ID: id, Material: make([]byte, secret.KeySize)}
		_, _ = rand.Read(k.Material)
		return k
	}
	k1, k2 := key("k1"), key("k2")
	var err error
	e.keys, err = secret.NewKeyring([]secret.Key{k1})
	storetest.Must(t, err)
	e.m = e.manager()
	both, err := secret.NewKeyring([]secret.Key{k2, k1})
	storetest.Must(t, err)
	onlyNew, err := secret.NewKeyring([]secret.Key{k2})
	storetest.Must(t, err)
	return both, onlyNew
}

// Gap 2: key rotation between the sweep's read and its refresh does not
// make the sweep believe another worker refreshed.
func TestRotationDuringSweepDoesNotSkipRefresh(t *testing.T) {
	e := spotifyEnv(t, true)
	both, _ := e.twoKeys(t)
	ctx := context.Background()
	c, tok := e.connectUser(e.user)
	e.clock.Advance(55 * time.Minute)
	seen := e.reload(c.ID) // what the sweep listed

	m2 := e.managerWith("", both)
	res, err := m2.RotateKeys(ctx)
	storetest.Must(t, err)
	if res.Rotated != 1 {
		t.Fatalf("rotation: %+v", res)
	}
	if e.reload(c.ID).AccessTokenEnc == seen.AccessTokenEnc {
		t.Fatal("rotation did not re-encrypt")
	}
	got, err := m2.RefreshSeen(ctx, seen)
	storetest.Must(t, err)
	if e.fake.RefreshCount() != 1 || got == tok.AccessToken {
		t.Fatalf("after rotation the due refresh was skipped: %d refresh requests", e.fake.RefreshCount())
	}
}

// Gap 2: `keys rotate` re-seals pending connect flows' PKCE verifiers, so
// dropping the old key keeps flows started before the rotation working.
func TestRotationCoversPendingOAuthStates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := platformtest.New(t, platform.Spotify)
		e := newEnv(t, db, f)
		ctx := context.Background()
		both, onlyNew := e.twoKeys(t)
		flow := connect.NewFlow(e.m, connect.FlowOptions{PublicURL: "https://twinme.test", AppURL: "https://app.test"})
		// Start binds the flow to the browser with a cookie on the response.
		authURL, _, err := flow.Start(auth.WithCookieWriter(ctx, httptest.NewRecorder()), e.user.ID, platform.Spotify)
		storetest.Must(t, err)

		res, err := e.managerWith("", both).RotateKeys(ctx)
		storetest.Must(t, err)
		if res.StatesChecked != 1 || res.StatesRotated != 1 {
			t.Fatalf("rotation: %+v", res)
		}
		// Old key dropped: the callback must still open the verifier.
		states, err := db.PendingOAuthStatesAfter(ctx, "", 10)
		storetest.Must(t, err)
		if len(states) != 1 {
			t.Fatalf("%d pending states", len(states))
		}
		v, err := onlyNew.DecryptString(states[0].PKCEVerifierEnc, states[0].StateHash)
		if err != nil || v == "" {
			t.Fatalf("verifier after rotation with only the new key: %v", err)
		}
		if !strings.Contains(authURL, "code_challenge=") {
			t.Fatal("no PKCE in the authorize URL")
		}
		if !strings.Contains(authURL, "code_challenge="+oauth2.S256ChallengeFromVerifier(v)) {
			t.Fatal("re-sealed verifier is not the one the flow started with")
		}
	})
}

// Gap 3: a token endpoint's Retry-After longer than the backoff is honoured
// by on-demand refreshes and the sweep.
func TestTokenEndpointRetryAfterIsHonoured(t *testing.T) {
	e := spotifyEnv(t, true)
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.SetTokenRetryAfter(10 * time.Minute)
	e.fake.FailNext(1, platformtest.Fail429)
	e.clock.Advance(61 * time.Minute) // expired
	_, err := e.m.ValidToken(ctx, c.ID)
	if apperr.CodeOf(err) != apperr.RateLimited {
		t.Fatalf("429: %v", err)
	}
	row := e.reload(c.ID)
	if row.RefreshNotBefore == nil || !row.RefreshNotBefore.Equal(e.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("refresh_not_before %v", row.RefreshNotBefore)
	}
	// The one-minute backoff is over, Retry-After is not.
	e.clock.Advance(2 * time.Minute)
	if _, err := e.m.ValidToken(ctx, c.ID); !errors.Is(err, connect.ErrUnavailable) {
		t.Fatalf("during Retry-After: %v", err)
	}
	res, err := e.m.Sweep(ctx)
	storetest.Must(t, err)
	if e.fake.RefreshCount() != 1 || len(res.PerConnection) != 1 || res.PerConnection[0].Kind != connect.OutcomeBackoff {
		t.Fatalf("during Retry-After: %d requests, sweep %+v", e.fake.RefreshCount(), res)
	}
	e.clock.Advance(8 * time.Minute)
	_, err = e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	if e.fake.RefreshCount() != 2 || e.reload(c.ID).RefreshNotBefore != nil {
		t.Fatalf("after Retry-After: %d requests", e.fake.RefreshCount())
	}
}

// Gap 4: a refresh the provider processes but answers after the timeout is
// recorded as "outcome unknown"; with a rotating provider the next attempt
// learns the grant is gone and says why.
func TestRefreshAnsweredAfterTimeoutIsRecordedAsUnknown(t *testing.T) {
	e := spotifyEnv(t, true, func(o *connect.Options) { o.RefreshTimeout = 150 * time.Millisecond; o.LeaseTTL = 2 * time.Second })
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.SetLateAnswer(600 * time.Millisecond)
	e.clock.Advance(61 * time.Minute)
	_, err := e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrUnavailable) {
		t.Fatalf("late answer: %v", err)
	}
	row := e.reload(c.ID)
	if row.RefreshOutcomeUnknownAt == nil || row.Status != store.StatusConnected || row.ConsecutiveFailures != 1 ||
		!strings.Contains(row.LastError, "no answer") || row.RefreshLeaseOwner != "" {
		t.Fatalf("after a lost answer: %+v", row)
	}
	if !strings.Contains(e.logs.String(), "outcome unknown") {
		t.Fatal("operator log does not say the outcome is unknown")
	}
	counts, err := e.db.CounterTotals(ctx, store.CounterRefresh, e.clock.Now().Add(-time.Hour))
	storetest.Must(t, err)
	if counts["spotify/unknown"] != 1 {
		t.Fatalf("refresh outcome counters %v; logs %s", counts, e.logs.String())
	}

	// The provider rotated in the lost answer: the old refresh token is
	// refused; the connection needs the person, and says why.
	e.fake.SetLateAnswer(0)
	e.clock.Advance(2 * time.Minute)
	_, err = e.m.ValidToken(ctx, c.ID)
	if !errors.Is(err, connect.ErrNeedsReauth) {
		t.Fatalf("after the lost rotation: %v", err)
	}
	row = e.reload(c.ID)
	if row.Status != store.StatusNeedsReauth || !strings.Contains(row.LastError, "lost") {
		t.Fatalf("status %s, last error %q", row.Status, row.LastError)
	}
	if !strings.Contains(e.logs.String(), "outcome_unknown_at") {
		t.Fatal("operator log does not link the refusal to the lost answer")
	}
}

// Gap 4: with a provider that keeps the refresh token, the attempt after an
// unknown outcome succeeds and clears the mark.
func TestRefreshAfterUnknownOutcomeClearsIt(t *testing.T) {
	e := spotifyEnv(t, false, func(o *connect.Options) { o.RefreshTimeout = 150 * time.Millisecond; o.LeaseTTL = 2 * time.Second })
	ctx := context.Background()
	c, _ := e.connectUser(e.user)
	e.fake.SetLateAnswer(600 * time.Millisecond)
	e.clock.Advance(61 * time.Minute)
	if _, err := e.m.ValidToken(ctx, c.ID); err == nil {
		t.Fatal("late answer counted as success")
	}
	e.fake.SetLateAnswer(0)
	e.clock.Advance(2 * time.Minute)
	tok, err := e.m.ValidToken(ctx, c.ID)
	storetest.Must(t, err)
	row := e.reload(c.ID)
	if !e.fake.AccessTokenValid(tok) || row.RefreshOutcomeUnknownAt != nil || row.Status != store.StatusConnected {
		t.Fatalf("after a successful retry: %+v", row)
	}
}

// Gap 4: a caller that stops waiting does not cancel a refresh already
// sent; the rotated token is stored when the answer arrives.
func TestSentRefreshIsNotCancelledByItsCaller(t *testing.T) {
	e := spotifyEnv(t, true, func(o *connect.Options) { o.RefreshTimeout = 10 * time.Second; o.LeaseTTL = 20 * time.Second })
	c, _ := e.connectUser(e.user)
	before := e.storedTokens(c.ID)
	e.fake.SetLateAnswer(300 * time.Millisecond)
	e.clock.Advance(61 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := e.m.ValidToken(ctx, c.ID); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("impatient caller: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.storedTokens(c.ID).AccessToken == before.AccessToken {
		if time.Now().After(deadline) {
			t.Fatal("the late answer of a sent refresh was never stored")
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := e.storedTokens(c.ID)
	if after.RefreshToken == before.RefreshToken || !e.fake.AccessTokenValid(after.AccessToken) {
		t.Fatal("the rotated refresh token was not kept")
	}
	// The stored (rotated) refresh token works.
	e.fake.SetLateAnswer(0)
	_, err := e.m.Refresh(context.Background(), c.ID)
	storetest.Must(t, err)
}
