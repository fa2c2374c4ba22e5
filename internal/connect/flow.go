package connect

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// StateTTL is how long an authorization started with Start stays valid.
const StateTTL = 10 * time.Minute

// FlowOptions configure the connect flow.
type FlowOptions struct {
	// PublicURL is this server's external base URL; the redirect URI is
	// <PublicURL>/oauth/<platform>/callback.
	PublicURL string
	// AppURL is where the browser is sent with the outcome.
	AppURL string
	// DeleteData erases a user's stored data of a platform when disconnect
	// asks for it; nil when no platform data is stored yet.
	DeleteData func(ctx context.Context, userID, platform string) (int64, error)
	// SecureCookies marks the browser-binding cookie Secure (https public URL).
	SecureCookies bool
}

// bindingCookie names the cookie that binds an authorization to the browser
// that started it; one per platform, sent only to that platform's callback.
func bindingCookie(id platform.ID) string { return "twinme_oauth_" + string(id) }

// Flow connects and disconnects platform accounts.
type Flow struct {
	m    *Manager
	opts FlowOptions
}

// NewFlow returns the connect flow over the token manager m.
func NewFlow(m *Manager, opts FlowOptions) *Flow {
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	opts.AppURL = strings.TrimRight(opts.AppURL, "/")
	return &Flow{m: m, opts: opts}
}

// RedirectURI is the exact callback URL registered with the provider.
func (f *Flow) RedirectURI(id platform.ID) string {
	return f.opts.PublicURL + "/oauth/" + string(id) + "/callback"
}

// Configured reports whether the server has an OAuth client for id.
func (f *Flow) Configured(id platform.ID) bool {
	_, ok := f.m.platforms[id]
	return ok
}

func hashState(state string) string {
	sum := sha256.Sum256([]byte(state))
	return hex.EncodeToString(sum[:])
}

// boundStateHash is what is stored of a state: the hash of the state and the
// browser's binding secret together, so the state alone (all a forwarded
// authorize URL carries) finds nothing.
func boundStateHash(state, binding string) string { return hashState(state + "." + binding) }

// Start begins connecting userID's account on id: a one-time state bound to
// the user (10 minutes) and to this browser (an HttpOnly, SameSite=Lax
// cookie set on the response of ctx's request that only the callback
// reads), PKCE S256 where the provider supports it, and the exact redirect
// URI. It returns the provider's authorize URL. Without an HTTP response to
// carry the cookie (a websocket) it refuses with BAD_USER_INPUT.
func (f *Flow) Start(ctx context.Context, userID string, id platform.ID) (string, time.Time, error) {
	p, ok := f.m.platforms[id]
	if !ok {
		return "", time.Time{}, apperr.New(apperr.NotConfigured, "%s is not configured on this server", id)
	}
	state, err := randomString()
	if err != nil {
		return "", time.Time{}, err
	}
	binding, err := randomString()
	if err != nil {
		return "", time.Time{}, err
	}
	verifier := ""
	if p.Provider.PKCE {
		verifier = oauth2.GenerateVerifier()
	}
	now := f.m.clock.Now()
	st := &store.OAuthState{
		StateHash: boundStateHash(state, binding), UserID: userID, Platform: string(id),
		RedirectURI: f.RedirectURI(id), CreatedAt: now, ExpiresAt: now.Add(StateTTL),
	}
	if verifier != "" {
		enc, err := f.m.keys.EncryptString(verifier, st.StateHash)
		if err != nil {
			return "", time.Time{}, fmt.Errorf("connect: seal verifier: %w", err)
		}
		st.PKCEVerifierEnc = enc
	}
	cookie := &http.Cookie{
		Name: bindingCookie(id), Value: binding, Path: "/oauth/" + string(id) + "/callback",
		MaxAge: int(StateTTL / time.Second), HttpOnly: true, Secure: f.opts.SecureCookies, SameSite: http.SameSiteLaxMode,
	}
	if !auth.SetCookie(ctx, cookie) {
		return "", time.Time{}, apperr.New(apperr.BadUserInput, "start connecting over HTTP (POST /graphql) from the browser that will complete it, not over a websocket")
	}
	if err := f.m.db.CreateOAuthState(ctx, st); err != nil {
		return "", time.Time{}, err
	}
	cfg := *p.OAuth
	cfg.RedirectURL = st.RedirectURI
	return p.Provider.AuthCodeURL(&cfg, state, verifier), st.ExpiresAt, nil
}

// Callback serves GET /oauth/{platform}/callback: it checks the state
// (unknown, expired, reused or another user's → 400 page), handles the
// provider's error (the connection stays as it was), exchanges the code,
// reads the account identity, stores the encrypted tokens (one connection
// per user and platform, reviving a needs_reauth one) and sends the browser
// to the app with the outcome.
func (f *Flow) Callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := platform.Parse(r.PathValue("platform"))
	if err != nil {
		page(w, http.StatusNotFound, "Unknown platform.")
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		page(w, http.StatusBadRequest, "This connection link has no state. Start connecting again from twinme.")
		return
	}
	binding, err := r.Cookie(bindingCookie(id))
	if err != nil || binding.Value == "" {
		// A forwarded authorize URL completed in another browser: whoever
		// consented there must not link their account into this user's twin.
		page(w, http.StatusBadRequest, "This connection was started in another browser (or its cookie expired). Start connecting again from twinme in this browser.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: bindingCookie(id), Value: "", Path: "/oauth/" + string(id) + "/callback", MaxAge: -1, HttpOnly: true, Secure: f.opts.SecureCookies, SameSite: http.SameSiteLaxMode})
	hash := boundStateHash(state, binding.Value)
	st, err := f.m.db.OAuthStateByHash(ctx, hash)
	if err != nil || st.Platform != string(id) {
		f.badState(w, r, err)
		return
	}
	if v := auth.ViewerFrom(ctx); v != nil && v.User.ID != st.UserID {
		page(w, http.StatusBadRequest, "This connection was started by another account. Sign in as that account or start again.")
		return
	}
	// The state is consumed whatever happens next: a link works once.
	st, err = f.m.db.ConsumeOAuthState(ctx, hash, st.UserID, string(id), f.m.clock.Now())
	if err != nil {
		f.badState(w, r, err)
		return
	}
	if e := q.Get("error"); e != "" {
		// access_denied and friends: nothing changes.
		f.m.log.InfoContext(ctx, "connect: provider refused authorization", slog.String("platform", string(id)), slog.String("error", e))
		f.redirect(w, r, id, "denied")
		return
	}
	code := q.Get("code")
	if code == "" {
		page(w, http.StatusBadRequest, "The provider sent no authorization code. Start connecting again from twinme.")
		return
	}
	c, err := f.complete(ctx, st, id, code)
	if err != nil {
		f.m.log.WarnContext(ctx, "connect: callback failed", slog.String("platform", string(id)), slog.String("user_id", st.UserID), slog.Any("error", err))
		f.redirect(w, r, id, "error")
		return
	}
	f.m.notify(ctx, *c)
	f.redirect(w, r, id, "connected")
}

func (f *Flow) complete(ctx context.Context, st *store.OAuthState, id platform.ID, code string) (*store.Connection, error) {
	p, ok := f.m.platforms[id]
	if !ok {
		return nil, ErrNotConfigured
	}
	verifier := ""
	if st.PKCEVerifierEnc != "" {
		v, err := f.m.keys.DecryptString(st.PKCEVerifierEnc, st.StateHash)
		if err != nil {
			return nil, fmt.Errorf("connect: open verifier: %w", err)
		}
		verifier = v
	}
	cfg := *p.OAuth
	cfg.RedirectURL = st.RedirectURI
	hctx := ctx
	if f.m.opts.HTTPClient != nil {
		hctx = context.WithValue(ctx, oauth2.HTTPClient, f.m.opts.HTTPClient)
	}
	tok, err := p.Provider.Exchange(hctx, &cfg, code, verifier)
	if err != nil {
		return nil, fmt.Errorf("connect: exchange: %w", err)
	}
	client := f.m.opts.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	ident, err := p.Provider.FetchIdentity(ctx, client, tok.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("connect: identity: %w", err)
	}
	now := f.m.clock.Now()
	name := ident.DisplayName
	if name == "" {
		name = ident.Username
	}
	c := &store.Connection{
		UserID: st.UserID, Platform: id, AccountID: ident.AccountID, AccountName: name,
		Scopes: grantedScopes(tok, p.Provider), ConnectedAt: now, NextSyncAt: &now,
	}
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry
		c.TokenExpiresAt = &exp
	}
	if err := f.m.db.UpsertConnection(ctx, c, func(rowID string) (store.ConnectionTokens, error) {
		return f.m.Seal(rowID, tok)
	}); err != nil {
		return nil, err
	}
	return c, nil
}

func grantedScopes(tok *oauth2.Token, p platform.Provider) string {
	if s, ok := tok.Extra("scope").(string); ok && s != "" {
		return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }), " ")
	}
	return strings.Join(p.Scopes, " ")
}

// Disconnect revokes userID's grant on id where the provider offers
// revocation, erases the tokens and marks the connection disconnected. Its
// data stays unless deleteData. A revocation failure is logged, not fatal:
// the tokens are erased here either way.
func (f *Flow) Disconnect(ctx context.Context, userID string, id platform.ID, deleteData bool) (*domain.Connection, error) {
	before, after, err := f.m.db.DisconnectConnection(ctx, userID, string(id), f.m.clock.Now())
	if err != nil {
		return nil, err
	}
	if p, ok := f.m.platforms[id]; ok && p.Provider.CanRevoke() && before.AccessTokenEnc != "" && !f.sharesGoogleGrant(ctx, userID, id) {
		if tok, err := f.m.Tokens(before); err == nil {
			client := f.m.opts.HTTPClient
			if client == nil {
				client = http.DefaultClient
			}
			if err := p.Provider.Revoke(ctx, client, p.OAuth, tok); err != nil && !errors.Is(err, platform.ErrRevokeUnsupported) {
				f.m.log.WarnContext(ctx, "connect: revoke at provider failed; tokens erased locally", slog.String("platform", string(id)), slog.String("connection_id", before.ID), slog.Any("error", err))
			}
		}
	}
	if deleteData && f.opts.DeleteData != nil {
		if _, err := f.opts.DeleteData(ctx, userID, string(id)); err != nil {
			return nil, err
		}
	}
	f.m.notify(ctx, *after)
	d := after.Domain()
	return &d, nil
}

// Connections lists userID's connections, one per platform ever connected.
func (f *Flow) Connections(ctx context.Context, userID string) ([]domain.Connection, error) {
	rows, err := f.m.db.ListConnections(ctx, userID)
	return store.Domains(rows, (*store.Connection).Domain), err
}

// Connection returns userID's connection id (NOT_FOUND for anyone else's).
func (f *Flow) Connection(ctx context.Context, userID, id string) (*domain.Connection, error) {
	c, err := f.m.db.ConnectionForUser(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	d := c.Domain()
	return &d, nil
}

// sharesGoogleGrant reports whether revoking id's token would also end the
// user's other Google connection: Google revokes the whole grant of a client,
// so with YouTube and Gmail on one client, disconnecting one only erases its
// tokens here.
func (f *Flow) sharesGoogleGrant(ctx context.Context, userID string, id platform.ID) bool {
	var other platform.ID
	switch id {
	case platform.YouTube:
		other = platform.Gmail
	case platform.Gmail:
		other = platform.YouTube
	default:
		return false
	}
	p, po := f.m.platforms[id], f.m.platforms[other]
	if p.OAuth == nil || po.OAuth == nil || p.OAuth.ClientID != po.OAuth.ClientID {
		return false
	}
	c, err := f.m.db.ConnectionByPlatform(ctx, userID, string(other))
	if err != nil {
		return false
	}
	if c.Status == store.StatusDisconnected {
		return false
	}
	f.m.log.InfoContext(ctx, "connect: not revoking at Google: the grant also serves another connection", slog.String("platform", string(id)), slog.String("other", string(other)))
	return true
}

func randomString() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("connect: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (f *Flow) badState(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil && !apperr.Is(err, apperr.NotFound) {
		f.m.log.ErrorContext(r.Context(), "connect: read authorization state", slog.Any("error", err))
		page(w, http.StatusInternalServerError, "Something went wrong. Try connecting again.")
		return
	}
	page(w, http.StatusBadRequest, "This connection link is invalid, expired or already used. Start connecting again from twinme.")
}

func (f *Flow) redirect(w http.ResponseWriter, r *http.Request, id platform.ID, outcome string) {
	u := f.opts.AppURL + "/?" + url.Values{"platform": {string(id)}, "connection": {outcome}}.Encode()
	http.Redirect(w, r, u, http.StatusFound)
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>twinme</title><h1>Connection failed</h1><p>%s</p>\n", html.EscapeString(msg))
}
