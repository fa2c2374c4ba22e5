// Package platform describes the seven platforms twinme connects to: their
// OAuth endpoints, scopes and quirks, the identity call made after a
// connection, revocation, and the classification of token and API errors.
//
// Every URL is a field that config (TWINME_<PLATFORM>_AUTH_URL …) and tests
// can override with WithEndpoints; platformtest serves fakes for all seven.
// Facts and their sources are in /work/shared/PROVIDERS.md.
package platform

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
)

// ID names a platform (domain.Platform). Its value is the lowercase name
// used in URLs (/oauth/{platform}/callback), configuration and the database.
type ID = domain.Platform

const (
	Spotify  = domain.PlatformSpotify
	YouTube  = domain.PlatformYouTube
	GitHub   = domain.PlatformGitHub
	Discord  = domain.PlatformDiscord
	Gmail    = domain.PlatformGmail
	LinkedIn = domain.PlatformLinkedIn
	Slack    = domain.PlatformSlack
)

// All lists every platform in the order the API shows them.
var All = domain.Platforms()

// Parse accepts a platform name in any case, including the GraphQL enum
// spelling ("SPOTIFY"). An unknown name is a BAD_USER_INPUT error that lists
// the valid ones.
func Parse(s string) (ID, error) {
	id := ID(strings.ToLower(strings.TrimSpace(s)))
	for _, known := range All {
		if id == known {
			return id, nil
		}
	}
	names := make([]string, len(All))
	for i, known := range All {
		names[i] = string(known)
	}
	return "", apperr.Invalid("platform", "unknown platform %q; valid platforms are %s", s, strings.Join(names, ", "))
}

// Endpoints are a provider's URLs. APIBaseURL is the REST base the identity
// call and polling build on (no trailing slash). GitHub's RevokeURL contains
// the placeholder {client_id}.
type Endpoints struct {
	AuthURL    string
	TokenURL   string
	RevokeURL  string
	APIBaseURL string
}

// Identity is the account a token belongs to, read right after connecting.
type Identity struct {
	// AccountID is the provider's stable id for the account (not the
	// username, which people can change).
	AccountID   string
	Username    string
	DisplayName string
	Email       string
	AvatarURL   string
	ProfileURL  string
}

// ErrRevokeUnsupported is returned by Revoke for providers that offer no
// revocation endpoint (Spotify, LinkedIn): people remove the app in the
// provider's account settings instead.
var ErrRevokeUnsupported = errors.New("platform: provider offers no token revocation")

// Provider is one platform's OAuth and API description. Providers returns the
// production values; the zero Provider is not usable.
type Provider struct {
	ID        ID
	Name      string
	Endpoints Endpoints
	// Scopes are the minimal read-only scopes twinme asks for. For Slack
	// they are user scopes, sent as user_scope.
	Scopes []string
	// PKCE: the provider accepts an S256 code challenge in the web flow.
	PKCE bool
	// RotatesRefreshTokens: a refresh may return a new refresh token that
	// replaces (and may invalidate) the old one; persist it at once.
	RotatesRefreshTokens bool
	// ExpiringTokens: access tokens expire and must be refreshed. False for
	// GitHub OAuth apps and Slack without token rotation, whose tokens last
	// until revoked.
	ExpiringTokens bool
	// DefaultTokenLifetime is assumed when a token response has no
	// expires_in. Zero means such a token does not expire.
	DefaultTokenLifetime time.Duration
	// Reads says in plain words what twinme reads from the platform.
	Reads []string

	authStyle oauth2.AuthStyle
	// authParams are extra authorize parameters (Google's offline access).
	authParams map[string]string
	// userScopes: scopes go in Slack's user_scope parameter, not scope.
	userScopes bool
	// acceptJSON: the token endpoint answers form-encoded unless asked for
	// JSON (GitHub).
	acceptJSON bool
	clock      clockwork.Clock
}

// Providers returns every provider with its production endpoints. Each call
// returns fresh values that the caller may change.
func Providers() map[ID]Provider {
	return map[ID]Provider{
		Spotify:  spotifyProvider(),
		YouTube:  youTubeProvider(),
		GitHub:   gitHubProvider(),
		Discord:  discordProvider(),
		Gmail:    gmailProvider(),
		LinkedIn: linkedInProvider(),
		Slack:    slackProvider(),
	}
}

// WithEndpoints returns a copy of p whose endpoints are replaced by the
// non-empty fields of overrides.
func (p Provider) WithEndpoints(overrides Endpoints) Provider {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = strings.TrimRight(v, "/")
		}
	}
	set(&p.Endpoints.AuthURL, overrides.AuthURL)
	set(&p.Endpoints.TokenURL, overrides.TokenURL)
	set(&p.Endpoints.RevokeURL, overrides.RevokeURL)
	set(&p.Endpoints.APIBaseURL, overrides.APIBaseURL)
	return p
}

// WithClock returns a copy of p that computes token expiry with c.
func (p Provider) WithClock(c clockwork.Clock) Provider {
	p.clock = c
	return p
}

func (p Provider) now() time.Time {
	if p.clock == nil {
		return time.Now()
	}
	return p.clock.Now()
}

// CanRevoke reports whether Revoke can reach the provider.
func (p Provider) CanRevoke() bool { return p.Endpoints.RevokeURL != "" }

// OAuth2Config returns the x/oauth2 configuration for p with an explicit
// AuthStyle: x/oauth2's auto-detection retries with the other style on any
// error, which doubles failed requests and can cache the wrong style.
func (p Provider) OAuth2Config(clientID, clientSecret, redirectURL string) *oauth2.Config {
	cfg := &oauth2.Config{
		ClientID:     clientID,
		ClientSecret: clientSecret,
		RedirectURL:  redirectURL,
		Endpoint: oauth2.Endpoint{
			AuthURL:   p.Endpoints.AuthURL,
			TokenURL:  p.Endpoints.TokenURL,
			AuthStyle: p.authStyle,
		},
	}
	if !p.userScopes {
		cfg.Scopes = append([]string(nil), p.Scopes...)
	}
	return cfg
}

// AuthCodeURL is the URL to send the person to. pkceVerifier (from
// oauth2.GenerateVerifier) adds an S256 challenge when the provider supports
// PKCE; pass the same verifier to Exchange.
func (p Provider) AuthCodeURL(cfg *oauth2.Config, state, pkceVerifier string) string {
	var opts []oauth2.AuthCodeOption
	if p.PKCE && pkceVerifier != "" {
		opts = append(opts, oauth2.S256ChallengeOption(pkceVerifier))
	}
	for k, v := range p.authParams {
		opts = append(opts, oauth2.SetAuthURLParam(k, v))
	}
	if p.userScopes {
		opts = append(opts, oauth2.SetAuthURLParam("user_scope", strings.Join(p.Scopes, ",")))
	}
	return cfg.AuthCodeURL(state, opts...)
}

// defaultRequestTimeout bounds a token or API request whose context has no
// deadline, so a hanging provider cannot hold a job forever.
const defaultRequestTimeout = 30 * time.Second

func withDefaultTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, defaultRequestTimeout)
}

// Exchange trades an authorization code for a token. The HTTP client is
// taken from ctx (oauth2.HTTPClient) like x/oauth2 does. On failure the error
// is an apperr wrapping a *TokenError (see ClassifyTokenError).
func (p Provider) Exchange(ctx context.Context, cfg *oauth2.Config, code, pkceVerifier string) (*oauth2.Token, error) {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	if p.ID == Slack {
		form := map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": cfg.RedirectURL}
		return p.slackToken(ctx, cfg, form)
	}
	var opts []oauth2.AuthCodeOption
	if p.PKCE && pkceVerifier != "" {
		opts = append(opts, oauth2.VerifierOption(pkceVerifier))
	}
	tok, err := cfg.Exchange(p.tokenContext(ctx), code, opts...)
	if err != nil {
		return nil, p.tokenError("exchange", err)
	}
	return p.normalize(tok), nil
}

// Refresh makes one refresh request. A result with an empty RefreshToken
// means the provider did not rotate: keep the old refresh token. A non-empty
// one replaces it and must be persisted before anything else happens, since
// a rotating provider has already invalidated the old one.
func (p Provider) Refresh(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	if refreshToken == "" {
		return nil, p.wrapTokenError(&TokenError{
			Platform: p.ID, Op: "refresh", Class: Reauth, Code: "missing_refresh_token",
			Description: "no refresh token stored for this connection",
		})
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var (
		tok *oauth2.Token
		err error
	)
	if p.ID == Slack {
		tok, err = p.slackToken(ctx, cfg, map[string]string{"grant_type": "refresh_token", "refresh_token": refreshToken})
		if err != nil {
			return nil, err
		}
	} else {
		// An empty access token makes the source refresh at once.
		tok, err = cfg.TokenSource(p.tokenContext(ctx), &oauth2.Token{RefreshToken: refreshToken}).Token()
		if err != nil {
			return nil, p.tokenError("refresh", err)
		}
		tok = p.normalize(tok)
	}
	// x/oauth2 copies the old refresh token into the result when the
	// response has none; report "not rotated" as documented instead.
	if tok.RefreshToken == refreshToken {
		tok.RefreshToken = ""
	}
	return tok, nil
}

// tokenContext adds the HTTP client quirks the token endpoint needs.
func (p Provider) tokenContext(ctx context.Context) context.Context {
	if !p.acceptJSON {
		return ctx
	}
	base := http.DefaultClient
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		base = c
	}
	c := *base
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	c.Transport = acceptJSONTransport{base: rt}
	return context.WithValue(ctx, oauth2.HTTPClient, &c)
}

type acceptJSONTransport struct{ base http.RoundTripper }

var _ http.RoundTripper = acceptJSONTransport{}

func (t acceptJSONTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	return t.base.RoundTrip(r)
}

// normalize computes Expiry from the injected clock and applies the
// provider's default lifetime when expires_in is missing.
func (p Provider) normalize(tok *oauth2.Token) *oauth2.Token {
	secs := tok.ExpiresIn
	if secs == 0 {
		// Form-encoded responses only fill Extra.
		switch v := tok.Extra("expires_in").(type) {
		case int64:
			secs = v
		case float64:
			secs = int64(v)
		}
	}
	now := p.now()
	switch {
	case secs > 0:
		tok.ExpiresIn = secs
		tok.Expiry = now.Add(time.Duration(secs) * time.Second)
	case p.ExpiringTokens && p.DefaultTokenLifetime > 0:
		tok.ExpiresIn = int64(p.DefaultTokenLifetime / time.Second)
		tok.Expiry = now.Add(p.DefaultTokenLifetime)
	default:
		tok.ExpiresIn = 0
		tok.Expiry = time.Time{}
	}
	if strings.EqualFold(tok.TokenType, "bearer") || tok.TokenType == "" {
		tok.TokenType = "Bearer"
	}
	return tok
}

// FetchIdentity reads the account behind accessToken. client may be nil
// (http.DefaultClient). API failures are returned as *APIError in the chain.
func (p Provider) FetchIdentity(ctx context.Context, client *http.Client, accessToken string) (Identity, error) {
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var (
		id  Identity
		err error
	)
	switch p.ID {
	case Spotify:
		id, err = spotifyIdentity(ctx, p, client, accessToken)
	case YouTube:
		id, err = youTubeIdentity(ctx, p, client, accessToken)
	case Gmail:
		id, err = gmailIdentity(ctx, p, client, accessToken)
	case GitHub:
		id, err = gitHubIdentity(ctx, p, client, accessToken)
	case Discord:
		id, err = discordIdentity(ctx, p, client, accessToken)
	case LinkedIn:
		id, err = linkedInIdentity(ctx, p, client, accessToken)
	case Slack:
		id, err = slackIdentity(ctx, p, client, accessToken)
	default:
		return Identity{}, fmt.Errorf("platform: unknown provider %q", p.ID)
	}
	if err != nil {
		return Identity{}, fmt.Errorf("platform: %s identity: %w", p.ID, err)
	}
	if id.AccountID == "" {
		return Identity{}, fmt.Errorf("platform: %s identity: response has no account id", p.ID)
	}
	return id, nil
}

// Revoke ends the authorization behind tok where the provider allows it
// (Google, GitHub, Discord, Slack) and returns ErrRevokeUnsupported
// otherwise. A token the provider already considers revoked counts as
// revoked. client may be nil.
func (p Provider) Revoke(ctx context.Context, client *http.Client, cfg *oauth2.Config, tok *oauth2.Token) error {
	if !p.CanRevoke() {
		return fmt.Errorf("%w (%s)", ErrRevokeUnsupported, p.Name)
	}
	if tok == nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return fmt.Errorf("platform: %s revoke: no token to revoke", p.ID)
	}
	if client == nil {
		client = http.DefaultClient
	}
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	var err error
	switch p.ID {
	case YouTube, Gmail:
		err = googleRevoke(ctx, p, client, tok)
	case GitHub:
		err = gitHubRevoke(ctx, p, client, cfg, tok)
	case Discord:
		err = discordRevoke(ctx, p, client, cfg, tok)
	case Slack:
		err = slackRevoke(ctx, p, client, tok)
	default:
		return fmt.Errorf("%w (%s)", ErrRevokeUnsupported, p.Name)
	}
	if err != nil {
		return fmt.Errorf("platform: %s revoke: %w", p.ID, err)
	}
	return nil
}
