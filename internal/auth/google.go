package auth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/store"
)

// Cookie names.
const (
	SessionCookie = "twinme_session"
	// googleStateCookie holds state, nonce and PKCE verifier between the
	// start and the callback of one Google sign-in; it lives 10 minutes and
	// is only sent to /auth/google.
	googleStateCookie = "twinme_google_login"
)

// GoogleConfig configures Google sign-in.
type GoogleConfig struct {
	ClientID, ClientSecret string
	IssuerURL              string // https://accounts.google.com, or a test server
	RedirectURL            string // <public URL>/auth/google/callback
	AppURL                 string // where the browser lands after sign-in
	SecureCookies          bool
	HTTPClient             *http.Client
}

// GoogleSignIn serves /auth/google/start and /auth/google/callback.
type GoogleSignIn struct {
	cfg GoogleConfig
	svc *Service
	log *slog.Logger

	mu       sync.Mutex
	provider *oidc.Provider // discovered lazily so start-up needs no network
}

// NewGoogleSignIn returns the Google sign-in handlers.
func NewGoogleSignIn(svc *Service, log *slog.Logger, cfg GoogleConfig) *GoogleSignIn {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 15 * time.Second}
	}
	return &GoogleSignIn{cfg: cfg, svc: svc, log: log}
}

func (g *GoogleSignIn) discover(ctx context.Context) (*oidc.Provider, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.provider != nil {
		return g.provider, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, g.cfg.HTTPClient), g.cfg.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: discover %s: %w", g.cfg.IssuerURL, err)
	}
	g.provider = p
	return p, nil
}

func (g *GoogleSignIn) oauth2Config(p *oidc.Provider) *oauth2.Config {
	ep := p.Endpoint()
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{
		ClientID: g.cfg.ClientID, ClientSecret: g.cfg.ClientSecret,
		Endpoint: ep, RedirectURL: g.cfg.RedirectURL,
		Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
	}
}

type loginState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	// Return is where the browser goes after signing in when it is not
	// the app: one of returnPaths.
	Return string `json:"r,omitempty"`
}

// returnPaths are the local pages a sign-in may return to instead of the
// app (an allow-list: never an arbitrary URL).
var returnPaths = map[string]bool{"/admin": true}

// Start redirects the browser to Google with a fresh state, nonce and PKCE challenge.
func (g *GoogleSignIn) Start(w http.ResponseWriter, r *http.Request) {
	p, err := g.discover(r.Context())
	if err != nil {
		g.log.ErrorContext(r.Context(), "auth: google sign-in unavailable", slog.Any("error", err))
		errorPage(w, http.StatusBadGateway, "Google sign-in is unavailable right now. Try again in a minute.")
		return
	}
	st := loginState{State: newSecret(""), Nonce: newSecret(""), Verifier: oauth2.GenerateVerifier()}
	if ret := r.URL.Query().Get("return"); returnPaths[ret] {
		st.Return = ret
	}
	raw, _ := json.Marshal(st)
	http.SetCookie(w, &http.Cookie{
		Name: googleStateCookie, Value: base64.RawURLEncoding.EncodeToString(raw),
		Path: "/auth/google", MaxAge: 600, HttpOnly: true, Secure: g.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	url := g.oauth2Config(p).AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier))
	http.Redirect(w, r, url, http.StatusFound)
}

// Callback finishes a sign-in: it checks state, exchanges the code, verifies
// the ID token and its nonce, finds or creates the user and starts a session.
func (g *GoogleSignIn) Callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	clearState := &http.Cookie{Name: googleStateCookie, Value: "", Path: "/auth/google", MaxAge: -1, HttpOnly: true, Secure: g.cfg.SecureCookies, SameSite: http.SameSiteLaxMode}
	st, ok := readLoginState(r)
	q := r.URL.Query()
	if !ok || q.Get("state") == "" || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		http.SetCookie(w, clearState)
		errorPage(w, http.StatusBadRequest, "This sign-in link is invalid or has expired. Start signing in again.")
		return
	}
	http.SetCookie(w, clearState)
	if e := q.Get("error"); e != "" {
		errorPage(w, http.StatusBadRequest, "Google did not sign you in ("+e+").")
		return
	}
	code := q.Get("code")
	if code == "" {
		errorPage(w, http.StatusBadRequest, "Google sent no authorization code.")
		return
	}
	p, err := g.discover(ctx)
	if err != nil {
		g.log.ErrorContext(ctx, "auth: google sign-in unavailable", slog.Any("error", err))
		errorPage(w, http.StatusBadGateway, "Google sign-in is unavailable right now. Try again in a minute.")
		return
	}
	octx := oidc.ClientContext(ctx, g.cfg.HTTPClient)
	tok, err := g.oauth2Config(p).Exchange(octx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		g.log.WarnContext(ctx, "auth: google code exchange failed", slog.Any("error", err))
		errorPage(w, http.StatusBadRequest, "Google did not accept this sign-in. Start signing in again.")
		return
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: g.cfg.ClientID, Now: g.svc.clock.Now}).Verify(octx, rawID)
	if err != nil {
		g.log.WarnContext(ctx, "auth: google id token rejected", slog.Any("error", err))
		errorPage(w, http.StatusBadRequest, "Google's answer could not be verified. Start signing in again.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		errorPage(w, http.StatusBadRequest, "This sign-in was not started here. Start signing in again.")
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
		Name          string `json:"name"`
		Picture       string `json:"picture"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email == "" || !claims.EmailVerified {
		errorPage(w, http.StatusBadRequest, "Your Google account has no verified email address.")
		return
	}
	u, err := g.svc.signInGoogle(ctx, idt.Subject, claims.Email, claims.Name, claims.Picture)
	if err != nil {
		g.log.ErrorContext(ctx, "auth: google sign-in", slog.Any("error", err))
		errorPage(w, http.StatusConflict, apperr.MessageOf(err))
		return
	}
	value, expires, err := g.svc.CreateSession(ctx, u.ID, r.UserAgent())
	if err != nil {
		g.log.ErrorContext(ctx, "auth: create session", slog.Any("error", err))
		errorPage(w, http.StatusInternalServerError, "Signing in failed. Try again.")
		return
	}
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", Expires: expires,
		HttpOnly: true, Secure: g.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
	if returnPaths[st.Return] {
		http.Redirect(w, r, st.Return, http.StatusFound)
		return
	}
	http.Redirect(w, r, g.cfg.AppURL, http.StatusFound)
}

func readLoginState(r *http.Request) (loginState, bool) {
	c, err := r.Cookie(googleStateCookie)
	if err != nil {
		return loginState{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil {
		return loginState{}, false
	}
	var st loginState
	if json.Unmarshal(raw, &st) != nil || st.State == "" || st.Nonce == "" || st.Verifier == "" {
		return loginState{}, false
	}
	return st, true
}

// signInGoogle finds the user by Google subject, then by verified email
// (linking the account), or creates one.
func (s *Service) signInGoogle(ctx context.Context, sub, email, name, picture string) (*store.User, error) {
	u, err := s.db.UserByGoogleSub(ctx, sub)
	if err == nil {
		return s.promoteListedAdmin(ctx, u)
	}
	if !apperr.Is(err, apperr.NotFound) {
		return nil, err
	}
	now := s.clock.Now()
	u, err = s.db.UserByEmail(ctx, email)
	switch {
	case err == nil:
		if u.GoogleSub != nil && *u.GoogleSub != sub {
			return nil, apperr.New(apperr.Conflict, "this email is linked to another Google account")
		}
		u.GoogleSub = &sub
		u.UpdatedAt = now
		cols := []string{"google_sub"}
		if u.Name == "" {
			u.Name = name
			cols = append(cols, "name")
		}
		if u.AvatarURL == "" && strings.HasPrefix(picture, "https://") {
			u.AvatarURL = picture
			cols = append(cols, "avatar_url")
		}
		if err := s.db.UpdateUser(ctx, u, cols...); err != nil {
			return nil, err
		}
		return s.promoteListedAdmin(ctx, u)
	case apperr.Is(err, apperr.NotFound):
		u = &store.User{Email: email, Name: name, GoogleSub: &sub, Role: store.RoleUser, CreatedAt: now, UpdatedAt: now}
		if strings.HasPrefix(picture, "https://") {
			u.AvatarURL = picture
		}
		if s.isListedAdmin(email) {
			u.Role = store.RoleAdmin
		}
		if err := s.db.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		s.log.InfoContext(ctx, "auth: new user signed up with Google", slog.String("user_id", u.ID))
		return u, nil
	default:
		return nil, err
	}
}

// errorPage writes a small HTML page for browser-facing auth errors.
func errorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><meta charset=utf-8><title>twinme sign-in</title><h1>Sign-in failed</h1><p>%s</p>\n", html.EscapeString(msg))
}

func (s *Service) isListedAdmin(email string) bool {
	for _, e := range s.opts.AdminEmails {
		if strings.EqualFold(e, email) {
			return true
		}
	}
	return false
}

// promoteListedAdmin gives u the admin role when TWINME_ADMIN_EMAILS lists it.
func (s *Service) promoteListedAdmin(ctx context.Context, u *store.User) (*store.User, error) {
	if u.IsAdmin() || !s.isListedAdmin(u.Email) {
		return u, nil
	}
	u.Role = store.RoleAdmin
	u.UpdatedAt = s.clock.Now()
	if err := s.db.UpdateUser(ctx, u, "role"); err != nil {
		return nil, err
	}
	s.forgetUser(u.ID)
	return u, nil
}
