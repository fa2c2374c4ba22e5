// Package platformtest serves fake OAuth and API servers for the seven
// platforms on httptest, answering with each provider's documented shapes
// (quoted above each handler), including its error bodies, 401s, 429 with
// Retry-After and refresh-token rotation. A Fake is safe for concurrent use.
//
//	f := platformtest.New(t, platform.Spotify)
//	p, cfg := f.Provider(), f.Config()
//	code := f.IssueCode(p.AuthCodeURL(cfg, "state", verifier))
//	tok, err := p.Exchange(ctx, cfg, code, verifier)
package platformtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/platform"
)

// FailMode is an injected failure.
type FailMode int

const (
	// Fail503 answers 503 Service Unavailable with a plain-text body, as a
	// load balancer in front of the provider does.
	Fail503 FailMode = iota + 1
	// FailTimeout never answers: the handler waits until the request's
	// context ends (client timeout or cancellation) or the fake closes.
	FailTimeout
	// FailInvalidGrant answers the provider's own "grant is gone" error
	// (invalid_grant, GitHub bad_refresh_token, Slack invalid_refresh_token
	// …). On API endpoints it answers the provider's 401.
	FailInvalidGrant
	// FailInvalidClient answers the provider's client authentication error.
	// On API endpoints it answers the provider's 401.
	FailInvalidClient
	// Fail429 answers 429 with Retry-After: RetryAfterSeconds (and
	// Discord's retry_after in the body).
	Fail429
)

func (m FailMode) String() string {
	switch m {
	case Fail503:
		return "503"
	case FailTimeout:
		return "timeout"
	case FailInvalidGrant:
		return "invalid_grant"
	case FailInvalidClient:
		return "invalid_client"
	case Fail429:
		return "429"
	}
	return fmt.Sprintf("FailMode(%d)", int(m))
}

// RetryAfterSeconds is the Retry-After a Fail429 answer carries.
const RetryAfterSeconds = 7

// Default client credentials of a Fake.
const (
	DefaultClientID     = "twinme-test-client"
	DefaultClientSecret = "twinme-test-secret"
)

// Option configures a Fake.
type Option func(*Fake)

// WithClient sets the registered client id, secret and redirect URI.
func WithClient(id, secret, redirectURL string) Option {
	return func(f *Fake) { f.ClientID, f.ClientSecret, f.RedirectURL = id, secret, redirectURL }
}

// WithRotation turns refresh-token rotation on or off where that is a
// setting of the provider: Spotify (which rotates sometimes), GitHub (a
// GitHub App with expiring user tokens; off means an OAuth app whose tokens
// never expire and which has no refresh token) and Slack (token rotation;
// off means non-expiring tokens without refresh tokens). Discord always
// rotates; Google and LinkedIn never do, and ignore this option.
func WithRotation(on bool) Option { return func(f *Fake) { f.rotation = on } }

// WithIdentity sets the account the identity endpoint describes.
func WithIdentity(id platform.Identity) Option { return func(f *Fake) { f.identity = id } }

// WithClock makes the API endpoints reject access tokens past their expiry
// as the provider would (with its 401). Without it, expiry is not enforced.
func WithClock(c clockwork.Clock) Option { return func(f *Fake) { f.clock = c } }

// Fake is one provider's fake OAuth and API server.
type Fake struct {
	ID           platform.ID
	ClientID     string
	ClientSecret string
	RedirectURL  string

	t     testing.TB
	d     *dialect
	srv   *httptest.Server
	mux   *http.ServeMux
	done  chan struct{}
	clock clockwork.Clock

	mu         sync.Mutex
	rotation   bool
	identity   platform.Identity
	latency    time.Duration
	lateAnswer time.Duration
	retryAfter time.Duration
	tokenFails []FailMode
	apiFails   []FailMode
	codes      map[string]*codeRec
	access     map[string]*accessRec
	refresh    map[string]*refreshRec
	grants     []*grantRec
	consented  bool // Google: a refresh token was already handed out once
	lastForm   url.Values
	lastHeader http.Header

	exchanges atomic.Int64
	refreshes atomic.Int64
	revokes   atomic.Int64
}

type grantRec struct {
	scope   string
	revoked bool
}

type codeRec struct {
	clientID, redirectURI, challenge, scope string
	offline, consent                        bool
	used                                    bool
}

type accessRec struct {
	grant   *grantRec
	expires time.Time // zero: never
	dead    bool
}

type refreshRec struct {
	grant *grantRec
	used  bool
}

// issued is what a token response reports.
type issued struct {
	Access           string
	Refresh          string // empty: omitted from the response
	ExpiresIn        int64  // 0: omitted
	RefreshExpiresIn int64  // 0: omitted
	Scope            string
	Refreshing       bool
}

// New starts a fake for platform id; it stops when the test ends.
func New(t testing.TB, id platform.ID, opts ...Option) *Fake {
	t.Helper()
	d, ok := dialects()[id]
	if !ok {
		t.Fatalf("platformtest: no fake for platform %q", id)
	}
	f := &Fake{
		ID:           id,
		ClientID:     DefaultClientID,
		ClientSecret: DefaultClientSecret,
		RedirectURL:  "https://twinme.test/oauth/" + string(id) + "/callback",
		t:            t,
		d:            d,
		done:         make(chan struct{}),
		identity:     d.identity,
		codes:        map[string]*codeRec{},
		access:       map[string]*accessRec{},
		refresh:      map[string]*refreshRec{},
		mux:          http.NewServeMux(),
	}
	for _, o := range opts {
		o(f)
	}
	f.mux.HandleFunc("GET "+d.authPath, f.handleAuthorize)
	f.mux.HandleFunc("POST "+d.tokenPath, f.handleToken)
	if d.revokePath != "" {
		f.mux.HandleFunc(d.revokeMethod+" "+d.revokePath, f.wrap(func(w http.ResponseWriter, r *http.Request) {
			f.revokes.Add(1)
			d.revoke(f, w, r)
		}))
	}
	for _, m := range d.identityMethods {
		f.HandleAPI(m, d.identityPath, func(w http.ResponseWriter, r *http.Request) {
			d.writeIdentity(w, f.Identity())
		})
	}
	f.srv = httptest.NewServer(f.mux)
	t.Cleanup(f.Close)
	return f
}

// Close stops the server; hanging FailTimeout handlers return at once.
// Tests need not call it: New registers it with t.Cleanup.
func (f *Fake) Close() {
	select {
	case <-f.done:
		return
	default:
	}
	close(f.done)
	f.srv.Close()
}

// URL is the server's base URL.
func (f *Fake) URL() string { return f.srv.URL }

// Endpoints are the fake's URLs, to plug into Provider.WithEndpoints.
func (f *Fake) Endpoints() platform.Endpoints {
	e := platform.Endpoints{
		AuthURL:    f.srv.URL + f.d.authPath,
		TokenURL:   f.srv.URL + f.d.tokenPath,
		APIBaseURL: f.srv.URL + f.d.apiBase,
	}
	if f.d.revokePath != "" {
		e.RevokeURL = f.srv.URL + f.d.revokePath
	}
	return e
}

// Provider is the production provider pointed at this fake.
func (f *Fake) Provider() platform.Provider {
	return platform.Providers()[f.ID].WithEndpoints(f.Endpoints())
}

// Config is the provider's oauth2.Config with the fake's client.
func (f *Fake) Config() *oauth2.Config {
	return f.Provider().OAuth2Config(f.ClientID, f.ClientSecret, f.RedirectURL)
}

// Identity is the account the identity endpoint describes, as
// Provider.FetchIdentity should report it.
func (f *Fake) Identity() platform.Identity {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.identity
}

// SetLatency delays every later request by d (a request whose context ends
// first gets no answer).
func (f *Fake) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

// SetLateAnswer makes the token endpoint process each later request at
// once (codes consumed, refresh tokens rotated) but hold its answer for d,
// like a provider whose response is slow on the way back. A client that
// gives up meanwhile loses the answer; the provider's state has changed.
func (f *Fake) SetLateAnswer(d time.Duration) {
	f.mu.Lock()
	f.lateAnswer = d
	f.mu.Unlock()
}

// SetTokenRetryAfter makes Fail429 answers of the token endpoint carry
// Retry-After: d (whole seconds) instead of RetryAfterSeconds.
func (f *Fake) SetTokenRetryAfter(d time.Duration) {
	f.mu.Lock()
	f.retryAfter = d
	f.mu.Unlock()
}

// retryAfterWriter replaces the Retry-After header as the answer starts.
type retryAfterWriter struct {
	http.ResponseWriter
	value string
}

func (w retryAfterWriter) WriteHeader(code int) {
	w.Header().Set("Retry-After", w.value)
	w.ResponseWriter.WriteHeader(code)
}

// FailNext makes the next n token endpoint requests fail with mode.
func (f *Fake) FailNext(n int, mode FailMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.tokenFails = append(f.tokenFails, mode)
	}
}

// FailNextAPI makes the next n API requests (identity, revoke and handlers
// added with HandleAPI) fail with mode.
func (f *Fake) FailNextAPI(n int, mode FailMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		f.apiFails = append(f.apiFails, mode)
	}
}

// ExchangeCount is the number of authorization_code requests received.
func (f *Fake) ExchangeCount() int { return int(f.exchanges.Load()) }

// RefreshCount is the number of refresh_token requests received.
func (f *Fake) RefreshCount() int { return int(f.refreshes.Load()) }

// RevokeCount is the number of revoke requests received.
func (f *Fake) RevokeCount() int { return int(f.revokes.Load()) }

// LastTokenRequest returns the form and headers of the last token request.
func (f *Fake) LastTokenRequest() (url.Values, http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastForm, f.lastHeader
}

// AccessTokenValid reports whether the API endpoints would accept tok.
func (f *Fake) AccessTokenValid(tok string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.accessValidLocked(tok)
}

// RevokeAll ends every grant, as when the person removes the app in the
// provider's settings: refresh tokens then fail with the provider's
// invalid_grant and access tokens with its 401.
func (f *Fake) RevokeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		g.revoked = true
	}
}

// HandleAPI adds an API handler on method and path (relative to the server
// root, e.g. "/v1/me/player/recently-played"). It runs only for a valid
// access token; other requests get the provider's 401. Latency and
// FailNextAPI apply.
func (f *Fake) HandleAPI(method, path string, h http.HandlerFunc) {
	f.mux.HandleFunc(method+" "+path, f.wrap(func(w http.ResponseWriter, r *http.Request) {
		tok := bearer(r)
		f.mu.Lock()
		ok := f.accessValidLocked(tok)
		revoked := !ok && f.accessKnownLocked(tok)
		f.mu.Unlock()
		if !ok {
			f.d.writeUnauthorized(w, revoked)
			return
		}
		h(w, r)
	}))
}

// IssueCode does what the provider's consent screen does when the person
// clicks "Allow": it checks the authorize URL the app built (client id,
// registered redirect URI, scopes, PKCE challenge, Google's offline access)
// and mints a code bound to it. On a bad URL it reports a test error and
// returns "".
func (f *Fake) IssueCode(authorizeURL string) string {
	f.t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		f.t.Errorf("platformtest: authorize URL %q: %v", authorizeURL, err)
		return ""
	}
	code, problem := f.authorize(u)
	if problem != "" {
		f.t.Errorf("platformtest: %s authorize URL rejected: %s (%s)", f.ID, problem, authorizeURL)
		return ""
	}
	return code
}

func (f *Fake) authorize(u *url.URL) (code, problem string) {
	if f.srv != nil && u.Scheme+"://"+u.Host != f.srv.URL {
		return "", "host is not the fake's (" + u.Host + ")"
	}
	if u.Path != f.d.authPath {
		return "", "path " + u.Path + " is not " + f.d.authPath
	}
	q := u.Query()
	if q.Get("client_id") != f.ClientID {
		return "", "unknown client_id"
	}
	if q.Get("redirect_uri") != f.RedirectURL {
		return "", "redirect_uri is not the registered one"
	}
	if f.d.requireResponseType && q.Get("response_type") != "code" {
		return "", "response_type must be code"
	}
	scope := q.Get(f.d.scopeParam)
	if scope == "" {
		return "", "no " + f.d.scopeParam
	}
	if f.d.scopeParam != "scope" && q.Get("scope") != "" {
		return "", "scope (bot scopes) set; twinme only asks for user scopes"
	}
	challenge := q.Get("code_challenge")
	if challenge != "" && f.d.pkce && q.Get("code_challenge_method") != "S256" {
		return "", "code_challenge_method must be S256"
	}
	if !f.d.pkce {
		challenge = ""
	}
	rec := &codeRec{
		clientID: f.ClientID, redirectURI: q.Get("redirect_uri"), challenge: challenge, scope: scope,
		offline: q.Get("access_type") == "offline", consent: q.Get("prompt") == "consent",
	}
	code = f.d.codePrefix + randomString(16)
	f.mu.Lock()
	f.codes[code] = rec
	f.mu.Unlock()
	return code, ""
}

// handleAuthorize serves the authorize URL for code that follows it with an
// HTTP client: the consent is implied and the answer redirects with code and
// state.
func (f *Fake) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	code, problem := f.authorize(&u)
	if problem != "" {
		http.Error(w, "invalid authorization request: "+problem, http.StatusBadRequest)
		return
	}
	to, _ := url.Parse(f.RedirectURL)
	q := to.Query()
	q.Set("code", code)
	if s := r.URL.Query().Get("state"); s != "" {
		q.Set("state", s)
	}
	to.RawQuery = q.Encode()
	http.Redirect(w, r, to.String(), http.StatusFound)
}

// wrap applies latency and injected API failures.
func (f *Fake) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !f.delay(r) {
			return
		}
		if mode, ok := f.popFail(&f.apiFails); ok {
			switch mode {
			case FailInvalidGrant, FailInvalidClient:
				f.d.writeUnauthorized(w, true)
			default:
				f.writeFailure(w, r, mode)
			}
			return
		}
		h(w, r)
	}
}

// delay waits out the latency; false if the request ended meanwhile.
func (f *Fake) delay(r *http.Request) bool {
	f.mu.Lock()
	d := f.latency
	f.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-f.done:
	}
	return false
}

func (f *Fake) popFail(q *[]FailMode) (FailMode, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(*q) == 0 {
		return 0, false
	}
	m := (*q)[0]
	*q = (*q)[1:]
	return m, true
}

// writeFailure answers the transport-level modes.
func (f *Fake) writeFailure(w http.ResponseWriter, r *http.Request, mode FailMode) {
	switch mode {
	case FailTimeout:
		select {
		case <-r.Context().Done():
		case <-f.done:
		}
	case Fail429:
		f.d.write429(w)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "upstream connect error or disconnect/reset before headers. reset reason: overflow")
	}
}

// handleToken is the token endpoint: authorization_code and refresh_token
// grants, client authentication in the provider's style, PKCE, rotation.
func (f *Fake) handleToken(w http.ResponseWriter, r *http.Request) {
	if !f.delay(r) {
		return
	}
	f.mu.Lock()
	late, ra := f.lateAnswer, f.retryAfter
	f.mu.Unlock()
	if ra > 0 {
		w = retryAfterWriter{w, strconv.Itoa(int(ra / time.Second))}
	}
	if late > 0 {
		rec := httptest.NewRecorder()
		f.processToken(rec, r)
		t := time.NewTimer(late)
		defer t.Stop()
		select {
		case <-t.C:
		case <-f.done:
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
		return
	}
	f.processToken(w, r)
}

func (f *Fake) processToken(w http.ResponseWriter, r *http.Request) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		f.d.writeTokenError(w, r, errInvalidRequest)
		return
	}
	if err := r.ParseForm(); err != nil {
		f.d.writeTokenError(w, r, errInvalidRequest)
		return
	}
	grantType := r.PostForm.Get("grant_type")
	if f.ID == platform.Slack && grantType == "" && r.PostForm.Get("code") != "" {
		grantType = "authorization_code" // grant_type is optional at Slack
	}
	f.mu.Lock()
	f.lastForm, f.lastHeader = cloneValues(r.PostForm), r.Header.Clone()
	f.mu.Unlock()
	switch grantType {
	case "authorization_code":
		f.exchanges.Add(1)
	case "refresh_token":
		f.refreshes.Add(1)
	}

	if mode, ok := f.popFail(&f.tokenFails); ok {
		switch mode {
		case FailInvalidGrant:
			if grantType == "refresh_token" {
				f.d.writeTokenError(w, r, errBadRefresh)
			} else {
				f.d.writeTokenError(w, r, errBadCode)
			}
		case FailInvalidClient:
			f.d.writeTokenError(w, r, errBadClient)
		default:
			f.writeFailure(w, r, mode)
		}
		return
	}

	clientID, ok := f.authenticateClient(r)
	if !ok {
		f.d.writeTokenError(w, r, errBadClient)
		return
	}

	switch grantType {
	case "authorization_code":
		f.exchange(w, r, clientID)
	case "refresh_token":
		f.refreshGrant(w, r, clientID)
	default:
		f.d.writeTokenError(w, r, errUnsupportedGrant)
	}
}

// authenticateClient checks the client credentials in one of the styles the
// provider accepts.
func (f *Fake) authenticateClient(r *http.Request) (string, bool) {
	id, secret, basic := r.BasicAuth()
	if basic {
		if !f.d.acceptsBasic {
			return "", false
		}
		// RFC 6749 §2.3.1: form-encoded before Basic encoding.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		if !f.d.acceptsPost {
			return "", false
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return id, id == f.ClientID && secret == f.ClientSecret
}

func (f *Fake) exchange(w http.ResponseWriter, r *http.Request, clientID string) {
	form := r.PostForm
	f.mu.Lock()
	rec, ok := f.codes[form.Get("code")]
	switch {
	case !ok || rec.used || rec.clientID != clientID:
		f.mu.Unlock()
		f.d.writeTokenError(w, r, errBadCode)
		return
	case form.Get("redirect_uri") != rec.redirectURI:
		f.mu.Unlock()
		f.d.writeTokenError(w, r, errRedirect)
		return
	case rec.challenge != "" && s256(form.Get("code_verifier")) != rec.challenge:
		f.mu.Unlock()
		f.d.writeTokenError(w, r, errPKCE)
		return
	}
	rec.used = true
	g := &grantRec{scope: rec.scope}
	f.grants = append(f.grants, g)
	out := issued{Access: f.newAccessLocked(g), ExpiresIn: f.d.lifetime(f), Scope: f.d.grantedScope(rec.scope)}
	if f.d.issuesRefresh(f, rec) {
		out.Refresh = f.newRefreshLocked(g)
		out.RefreshExpiresIn = f.d.refreshLifetime(f)
	}
	f.mu.Unlock()
	f.d.writeToken(w, r, out)
}

func (f *Fake) refreshGrant(w http.ResponseWriter, r *http.Request, clientID string) {
	old := r.PostForm.Get("refresh_token")
	f.mu.Lock()
	rec, ok := f.refresh[old]
	if !ok || rec.used || rec.grant.revoked || clientID != f.ClientID {
		f.mu.Unlock()
		f.d.writeTokenError(w, r, errBadRefresh)
		return
	}
	out := issued{ExpiresIn: f.d.lifetime(f), Scope: f.d.grantedScope(rec.grant.scope), Refreshing: true}
	if f.d.rotates(f) {
		rec.used = true
		if f.d.killsAccessOnRotation {
			for _, a := range f.access {
				if a.grant == rec.grant {
					a.dead = true
				}
			}
		}
		out.Refresh = f.newRefreshLocked(rec.grant)
		out.RefreshExpiresIn = f.d.refreshLifetime(f)
	} else if f.d.repeatsRefresh {
		out.Refresh = old
		out.RefreshExpiresIn = f.d.refreshLifetime(f)
	}
	out.Access = f.newAccessLocked(rec.grant)
	f.mu.Unlock()
	f.d.writeToken(w, r, out)
}

func (f *Fake) newAccessLocked(g *grantRec) string {
	tok := f.d.accessPrefix + randomString(24)
	a := &accessRec{grant: g}
	if life := f.d.lifetime(f); life > 0 && f.clock != nil {
		a.expires = f.clock.Now().Add(time.Duration(life) * time.Second)
	}
	f.access[tok] = a
	return tok
}

func (f *Fake) newRefreshLocked(g *grantRec) string {
	tok := f.d.refreshPrefix + randomString(24)
	f.refresh[tok] = &refreshRec{grant: g}
	return tok
}

func (f *Fake) accessKnownLocked(tok string) bool {
	_, ok := f.access[tok]
	return ok
}

func (f *Fake) accessValidLocked(tok string) bool {
	a, ok := f.access[tok]
	if !ok || a.dead || a.grant.revoked {
		return false
	}
	if !a.expires.IsZero() && f.clock != nil && !f.clock.Now().Before(a.expires) {
		return false
	}
	return true
}

// revokeLocked ends the grant tok (access or refresh token) belongs to.
func (f *Fake) revokeLocked(tok string) bool {
	if a, ok := f.access[tok]; ok && !a.grant.revoked {
		a.grant.revoked = true
		return true
	}
	if rt, ok := f.refresh[tok]; ok && !rt.grant.revoked {
		rt.grant.revoked = true
		return true
	}
	return false
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
