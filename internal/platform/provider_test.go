package platform_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// providerCase describes what each provider does in its default fake
// configuration, and with rotation where rotation is a setting.
type providerCase struct {
	id platform.ID
	// lifetime of an access token from the default fake; 0 = never expires.
	lifetime time.Duration
	// refreshWithoutRotation: the default fake issues refresh tokens that
	// a refresh leaves in place.
	refreshWithoutRotation bool
	// defaultRefresh: the default fake's exchange includes a refresh token.
	defaultRefresh bool
	// rotation: options under which refreshes rotate (nil: never rotates).
	rotation []platformtest.Option
	// rotatedLifetime: access token lifetime under rotation.
	rotatedLifetime time.Duration
	revocable       bool
}

var cases = []providerCase{
	{id: platform.Spotify, lifetime: time.Hour, refreshWithoutRotation: true, defaultRefresh: true,
		rotation: []platformtest.Option{platformtest.WithRotation(true)}, rotatedLifetime: time.Hour},
	{id: platform.YouTube, lifetime: 3599 * time.Second, refreshWithoutRotation: true, defaultRefresh: true, revocable: true},
	{id: platform.GitHub, lifetime: 0,
		rotation: []platformtest.Option{platformtest.WithRotation(true)}, rotatedLifetime: 8 * time.Hour, revocable: true},
	{id: platform.Discord, lifetime: 7 * 24 * time.Hour, defaultRefresh: true,
		rotation: []platformtest.Option{}, rotatedLifetime: 7 * 24 * time.Hour, revocable: true},
	{id: platform.Gmail, lifetime: 3599 * time.Second, refreshWithoutRotation: true, defaultRefresh: true, revocable: true},
	{id: platform.LinkedIn, lifetime: 60 * 24 * time.Hour, refreshWithoutRotation: true, defaultRefresh: true},
	{id: platform.Slack, lifetime: 0,
		rotation: []platformtest.Option{platformtest.WithRotation(true)}, rotatedLifetime: 12 * time.Hour, revocable: true},
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

type conn struct {
	f   *platformtest.Fake
	p   platform.Provider
	cfg *oauth2.Config
	clk *clockwork.FakeClock
	tok *oauth2.Token
}

// connect runs the authorize + exchange flow against a new fake.
func connect(t *testing.T, id platform.ID, opts ...platformtest.Option) conn {
	t.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	f := platformtest.New(t, id, append([]platformtest.Option{platformtest.WithClock(clk)}, opts...)...)
	p := f.Provider().WithClock(clk)
	cfg := f.Config()
	verifier := oauth2.GenerateVerifier()
	code := f.IssueCode(p.AuthCodeURL(cfg, "state-123", verifier))
	if code == "" {
		t.FailNow()
	}
	tok, err := p.Exchange(ctxT(t), cfg, code, verifier)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return conn{f: f, p: p, cfg: cfg, clk: clk, tok: tok}
}

func wantExpiry(t *testing.T, tok *oauth2.Token, now time.Time, lifetime time.Duration) {
	t.Helper()
	if lifetime == 0 {
		if !tok.Expiry.IsZero() {
			t.Errorf("Expiry = %v, want none (token does not expire)", tok.Expiry)
		}
		return
	}
	if want := now.Add(lifetime); !tok.Expiry.Equal(want) {
		t.Errorf("Expiry = %v, want %v (now + %v from the injected clock)", tok.Expiry, want, lifetime)
	}
}

func TestExchangeAndIdentity(t *testing.T) {
	for _, tc := range cases {
		t.Run(string(tc.id), func(t *testing.T) {
			c := connect(t, tc.id)
			if c.tok.AccessToken == "" {
				t.Fatal("no access token")
			}
			if c.tok.Type() != "Bearer" {
				t.Errorf("token type = %q, want Bearer", c.tok.Type())
			}
			wantExpiry(t, c.tok, t0, tc.lifetime)
			if got := c.tok.RefreshToken != ""; got != tc.defaultRefresh {
				t.Errorf("refresh token present = %v, want %v", got, tc.defaultRefresh)
			}
			if c.f.ExchangeCount() != 1 {
				t.Errorf("ExchangeCount = %d, want 1", c.f.ExchangeCount())
			}

			form, header := c.f.LastTokenRequest()
			if c.p.PKCE && form.Get("code_verifier") == "" {
				t.Error("provider supports PKCE but no code_verifier was sent")
			}
			if !c.p.PKCE && form.Has("code_verifier") {
				t.Error("code_verifier sent to a provider without PKCE")
			}
			if strings.Contains(form.Encode(), c.f.ClientSecret) && header.Get("Authorization") != "" {
				t.Error("client secret sent both in the body and in the Authorization header")
			}

			id, err := c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
			if err != nil {
				t.Fatalf("FetchIdentity: %v", err)
			}
			if want := c.f.Identity(); id != want {
				t.Errorf("identity = %+v\nwant       %+v", id, want)
			}
		})
	}
}

func TestRefreshWithoutRotation(t *testing.T) {
	for _, tc := range cases {
		if !tc.refreshWithoutRotation {
			continue
		}
		t.Run(string(tc.id), func(t *testing.T) {
			c := connect(t, tc.id)
			c.clk.Advance(30 * time.Minute)
			now := c.clk.Now()

			got, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if got.RefreshToken != "" {
				t.Errorf("RefreshToken = %q, want empty (provider did not rotate, keep the old one)", got.RefreshToken)
			}
			if got.AccessToken == "" || got.AccessToken == c.tok.AccessToken {
				t.Error("refresh did not return a new access token")
			}
			wantExpiry(t, got, now, tc.lifetime)
			if _, err := c.p.FetchIdentity(ctxT(t), nil, got.AccessToken); err != nil {
				t.Errorf("refreshed access token rejected: %v", err)
			}
			// The kept refresh token keeps working.
			if _, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken); err != nil {
				t.Errorf("second refresh with the kept token: %v", err)
			}
			if c.f.RefreshCount() != 2 {
				t.Errorf("RefreshCount = %d, want 2", c.f.RefreshCount())
			}
		})
	}
}

func TestRefreshWithRotation(t *testing.T) {
	for _, tc := range cases {
		if tc.rotation == nil {
			continue
		}
		t.Run(string(tc.id), func(t *testing.T) {
			c := connect(t, tc.id, tc.rotation...)
			if c.tok.RefreshToken == "" {
				t.Fatal("no refresh token from the exchange")
			}
			wantExpiry(t, c.tok, t0, tc.rotatedLifetime)

			got, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
			if err != nil {
				t.Fatalf("Refresh: %v", err)
			}
			if got.RefreshToken == "" || got.RefreshToken == c.tok.RefreshToken {
				t.Fatalf("RefreshToken = %q, want a new one", got.RefreshToken)
			}
			wantExpiry(t, got, t0, tc.rotatedLifetime)

			// Reusing the rotated-away refresh token is a dead grant.
			_, err = c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
			if platform.ClassifyTokenError(err) != platform.Reauth {
				t.Errorf("reuse of old refresh token: class %v (err %v), want reauth", platform.ClassifyTokenError(err), err)
			}
			// The new one works.
			if _, err := c.p.Refresh(ctxT(t), c.cfg, got.RefreshToken); err != nil {
				t.Errorf("refresh with the rotated token: %v", err)
			}
		})
	}
}

// failingCall returns the token call that FailNext affects for a provider:
// a refresh where the provider has refresh tokens, else an exchange.
func failingCall(t *testing.T, tc providerCase) (conn, func() error) {
	t.Helper()
	var opts []platformtest.Option
	if !tc.defaultRefresh {
		opts = tc.rotation
	}
	c := connect(t, tc.id, opts...)
	if c.tok.RefreshToken != "" {
		return c, func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			_, err := c.p.Refresh(ctx, c.cfg, c.tok.RefreshToken)
			return err
		}
	}
	t.Fatalf("%s: no refresh token in any mode", tc.id)
	return c, nil
}

func TestTokenErrorClasses(t *testing.T) {
	modes := []struct {
		mode     platformtest.FailMode
		class    platform.ErrorClass
		appCode  apperr.Code
		retryGap time.Duration
	}{
		{platformtest.FailInvalidGrant, platform.Reauth, apperr.BadUserInput, 0},
		{platformtest.FailInvalidClient, platform.ClientConfig, apperr.NotConfigured, 0},
		{platformtest.Fail503, platform.Transient, apperr.Internal, 0},
		{platformtest.FailTimeout, platform.Transient, apperr.Internal, 0},
		{platformtest.Fail429, platform.Transient, apperr.RateLimited, platformtest.RetryAfterSeconds * time.Second},
	}
	for _, tc := range cases {
		for _, m := range modes {
			t.Run(string(tc.id)+"/"+m.mode.String(), func(t *testing.T) {
				t.Parallel()
				c, call := failingCall(t, tc)
				c.f.FailNext(1, m.mode)
				err := call()
				if err == nil {
					t.Fatal("no error")
				}
				if got := platform.ClassifyTokenError(err); got != m.class {
					t.Errorf("class = %v, want %v (err: %v)", got, m.class, err)
				}
				if got := apperr.CodeOf(err); got != m.appCode {
					t.Errorf("apperr code = %v, want %v", got, m.appCode)
				}
				var te *platform.TokenError
				if !errors.As(err, &te) {
					t.Fatalf("error %v carries no *TokenError", err)
				}
				if te.Platform != tc.id || te.Op != "refresh" {
					t.Errorf("TokenError platform/op = %s/%s", te.Platform, te.Op)
				}
				if te.RetryAfter != m.retryGap {
					t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, m.retryGap)
				}
				if m.mode == platformtest.FailTimeout && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("timeout error does not wrap context.DeadlineExceeded: %v", err)
				}
				// The failure was injected once; the next call succeeds.
				if err := call(); err != nil {
					t.Errorf("call after the failure: %v", err)
				}
			})
		}
	}
}

func TestExchangeErrors(t *testing.T) {
	for _, tc := range cases {
		t.Run(string(tc.id), func(t *testing.T) {
			clk := clockwork.NewFakeClockAt(t0)
			f := platformtest.New(t, tc.id)
			p := f.Provider().WithClock(clk)
			cfg := f.Config()
			verifier := oauth2.GenerateVerifier()
			code := f.IssueCode(p.AuthCodeURL(cfg, "s", verifier))

			wrong := *cfg
			wrong.ClientSecret = "not-the-secret"
			_, err := p.Exchange(ctxT(t), &wrong, code, verifier)
			if got := platform.ClassifyTokenError(err); got != platform.ClientConfig {
				t.Errorf("wrong client secret: class %v (err %v), want client_config", got, err)
			}

			_, err = p.Exchange(ctxT(t), cfg, "made-up-code", verifier)
			if got := platform.ClassifyTokenError(err); got != platform.Reauth {
				t.Errorf("unknown code: class %v (err %v), want reauth", got, err)
			}

			if p.PKCE {
				_, err = p.Exchange(ctxT(t), cfg, code, oauth2.GenerateVerifier())
				if got := platform.ClassifyTokenError(err); got != platform.Reauth {
					t.Errorf("wrong PKCE verifier: class %v (err %v), want reauth", got, err)
				}
			}

			if _, err := p.Exchange(ctxT(t), cfg, code, verifier); err != nil {
				t.Fatalf("exchange with the right inputs: %v", err)
			}
			_, err = p.Exchange(ctxT(t), cfg, code, verifier)
			if got := platform.ClassifyTokenError(err); got != platform.Reauth {
				t.Errorf("code used twice: class %v (err %v), want reauth", got, err)
			}
		})
	}
}

func TestRevoke(t *testing.T) {
	for _, tc := range cases {
		t.Run(string(tc.id), func(t *testing.T) {
			c := connect(t, tc.id)
			err := c.p.Revoke(ctxT(t), nil, c.cfg, c.tok)
			if !tc.revocable {
				if !errors.Is(err, platform.ErrRevokeUnsupported) {
					t.Errorf("Revoke = %v, want ErrRevokeUnsupported", err)
				}
				if c.p.CanRevoke() {
					t.Error("CanRevoke = true")
				}
				return
			}
			if err != nil {
				t.Fatalf("Revoke: %v", err)
			}
			if c.f.RevokeCount() != 1 {
				t.Errorf("RevokeCount = %d, want 1", c.f.RevokeCount())
			}
			_, err = c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
			var apiErr *platform.APIError
			if !errors.As(err, &apiErr) || apiErr.Kind != platform.APIAuth {
				t.Errorf("identity with a revoked token: %v, want an APIAuth error", err)
			}
			if c.tok.RefreshToken != "" {
				_, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
				if platform.ClassifyTokenError(err) != platform.Reauth {
					t.Errorf("refresh after revoke: %v, want reauth", err)
				}
			}
		})
	}
}

// Disconnecting twice, or after the person already removed the app on the
// provider's side, must not fail: the grant is gone either way.
func TestRevokeOfAGoneGrantCountsAsDone(t *testing.T) {
	for _, tc := range cases {
		if !tc.revocable {
			continue
		}
		t.Run(string(tc.id)+"/twice", func(t *testing.T) {
			c := connect(t, tc.id)
			if err := c.p.Revoke(ctxT(t), nil, c.cfg, c.tok); err != nil {
				t.Fatal(err)
			}
			if err := c.p.Revoke(ctxT(t), nil, c.cfg, c.tok); err != nil {
				t.Errorf("revoking an already revoked token: %v, want nil", err)
			}
			if c.f.RevokeCount() != 2 {
				t.Errorf("RevokeCount = %d, want 2", c.f.RevokeCount())
			}
		})
		t.Run(string(tc.id)+"/removed_by_user", func(t *testing.T) {
			c := connect(t, tc.id)
			c.f.RevokeAll()
			if err := c.p.Revoke(ctxT(t), nil, c.cfg, c.tok); err != nil {
				t.Errorf("revoke after the person removed the app: %v, want nil", err)
			}
		})
	}
}

func TestIdentityErrors(t *testing.T) {
	for _, tc := range cases {
		t.Run(string(tc.id), func(t *testing.T) {
			c := connect(t, tc.id)
			_, err := c.p.FetchIdentity(ctxT(t), nil, "not-a-token-the-fake-issued")
			var apiErr *platform.APIError
			if !errors.As(err, &apiErr) || apiErr.Kind != platform.APIAuth || apiErr.Platform != tc.id {
				t.Errorf("unknown token: %v, want APIAuth", err)
			}

			c.f.FailNextAPI(1, platformtest.Fail429)
			_, err = c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
			if !errors.As(err, &apiErr) || apiErr.Kind != platform.APIRateLimited {
				t.Fatalf("429: %v, want APIRateLimited", err)
			}
			if at := apiErr.RetryAt(t0); at.Before(t0.Add(6*time.Second)) || at.After(t0.Add(7*time.Second)) {
				t.Errorf("RetryAt = %v after now, want 6-7 s", at.Sub(t0))
			}

			c.f.FailNextAPI(1, platformtest.Fail503)
			_, err = c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
			if !errors.As(err, &apiErr) || apiErr.Kind != platform.APITransient || !apiErr.Retryable() {
				t.Errorf("503: %v, want retryable APITransient", err)
			}

			if tc.lifetime > 0 {
				c.clk.Advance(tc.lifetime)
				_, err = c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
				if !errors.As(err, &apiErr) || apiErr.Kind != platform.APIAuth {
					t.Errorf("expired token: %v, want APIAuth", err)
				}
			}
		})
	}
}

func TestYouTubeWithoutChannel(t *testing.T) {
	c := connect(t, platform.YouTube, platformtest.WithIdentity(platform.Identity{}))
	_, err := c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
	if apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("account without channel: %v, want NOT_FOUND", err)
	}
	if !strings.Contains(apperr.MessageOf(err), "no YouTube channel") {
		t.Errorf("message %q does not explain the missing channel", apperr.MessageOf(err))
	}
}

func TestGitHubAsksForJSON(t *testing.T) {
	c := connect(t, platform.GitHub, platformtest.WithRotation(true))
	_, header := c.f.LastTokenRequest()
	if !strings.Contains(header.Get("Accept"), "application/json") {
		t.Errorf("token request Accept = %q, want application/json", header.Get("Accept"))
	}
	if got := c.tok.Extra("refresh_token_expires_in"); got != float64(15811200) {
		t.Errorf("refresh_token_expires_in = %v (%T), want the JSON number 15811200", got, got)
	}
}

func TestGitHubRotationKillsOldAccessToken(t *testing.T) {
	c := connect(t, platform.GitHub, platformtest.WithRotation(true))
	if _, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if c.f.AccessTokenValid(c.tok.AccessToken) {
		t.Error("old access token still valid after a GitHub App refresh")
	}
}

func TestSlackTokenExtras(t *testing.T) {
	c := connect(t, platform.Slack)
	if !strings.HasPrefix(c.tok.AccessToken, "xoxp-") {
		t.Errorf("access token %q is not the user token from authed_user", c.tok.AccessToken)
	}
	if c.tok.Extra("team_id") != "T12345678" || c.tok.Extra("user_id") != "W12345678" {
		t.Errorf("team/user extras = %v/%v", c.tok.Extra("team_id"), c.tok.Extra("user_id"))
	}
	_, header := c.f.LastTokenRequest()
	if id, _, ok := basicAuth(header); !ok || id != c.f.ClientID {
		t.Error("Slack token request did not use HTTP Basic client authentication")
	}
}

func basicAuth(h http.Header) (string, string, bool) {
	r := &http.Request{Header: h}
	return r.BasicAuth()
}

func TestConcurrentRefreshOfRotatingTokenOnlyOneWins(t *testing.T) {
	c := connect(t, platform.Discord)
	const n = 50
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		ok     int
		reauth int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else if platform.ClassifyTokenError(err) == platform.Reauth {
				reauth++
			}
		}()
	}
	wg.Wait()
	if ok != 1 || reauth != n-1 {
		t.Errorf("%d succeeded and %d got reauth; want 1 and %d", ok, reauth, n-1)
	}
	if c.f.RefreshCount() != n {
		t.Errorf("RefreshCount = %d, want %d", c.f.RefreshCount(), n)
	}
}

func TestAuthorizeEndpointRedirectsWithCodeAndState(t *testing.T) {
	f := platformtest.New(t, platform.Spotify)
	p, cfg := f.Provider(), f.Config()
	verifier := oauth2.GenerateVerifier()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(p.AuthCodeURL(cfg, "xyz", verifier))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "xyz" || !strings.HasPrefix(loc.String(), f.RedirectURL) {
		t.Errorf("redirect %s lacks state or goes elsewhere", loc)
	}
	if _, err := p.Exchange(ctxT(t), cfg, loc.Query().Get("code"), verifier); err != nil {
		t.Errorf("exchange of the redirected code: %v", err)
	}
}

func TestGoogleRefreshTokenNeedsOfflineAccess(t *testing.T) {
	f := platformtest.New(t, platform.Gmail)
	p, cfg := f.Provider(), f.Config()
	// Without access_type=offline (what x/oauth2 alone would build).
	code := f.IssueCode(cfg.AuthCodeURL("s"))
	tok, err := p.Exchange(ctxT(t), cfg, code, "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken != "" {
		t.Fatal("fake issued a refresh token without offline access")
	}
	// Provider.AuthCodeURL asks for offline access and consent each time,
	// so even a second connection gets a refresh token.
	for i := range 2 {
		v := oauth2.GenerateVerifier()
		tok, err := p.Exchange(ctxT(t), cfg, f.IssueCode(p.AuthCodeURL(cfg, "s", v)), v)
		if err != nil {
			t.Fatal(err)
		}
		if tok.RefreshToken == "" {
			t.Errorf("connection %d: no refresh token", i+1)
		}
	}
}

func TestLatencyAndCallerTimeout(t *testing.T) {
	c := connect(t, platform.Spotify)
	c.f.SetLatency(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.p.Refresh(ctx, c.cfg, c.tok.RefreshToken)
	if platform.ClassifyTokenError(err) != platform.Transient || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow provider: %v, want a transient deadline error", err)
	}
}

func TestRefreshWithoutStoredToken(t *testing.T) {
	p := platform.Providers()[platform.Spotify]
	_, err := p.Refresh(ctxT(t), p.OAuth2Config("id", "secret", "https://x/cb"), "")
	if platform.ClassifyTokenError(err) != platform.Reauth {
		t.Errorf("refresh with no token: %v, want reauth", err)
	}
}

func TestRevokeAllByUser(t *testing.T) {
	c := connect(t, platform.LinkedIn)
	c.f.RevokeAll()
	_, err := c.p.Refresh(ctxT(t), c.cfg, c.tok.RefreshToken)
	if platform.ClassifyTokenError(err) != platform.Reauth {
		t.Errorf("refresh after the person removed the app: %v, want reauth", err)
	}
	_, err = c.p.FetchIdentity(ctxT(t), nil, c.tok.AccessToken)
	var apiErr *platform.APIError
	if !errors.As(err, &apiErr) || apiErr.Kind != platform.APIAuth || apiErr.Code != "65601" {
		t.Errorf("identity after removal: %v, want APIAuth 65601", err)
	}
}
