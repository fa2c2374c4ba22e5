package app_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/store"
)

// fakeGoogle is a local OpenID Connect provider shaped like Google's:
// discovery at /.well-known/openid-configuration (issuer, authorization_endpoint,
// token_endpoint, jwks_uri), an RS256-signed ID token with sub, email,
// email_verified, name, picture, nonce, and PKCE S256 checked at the token
// endpoint (developers.google.com/identity/openid-connect/openid-connect).
type fakeGoogle struct {
	srv   *httptest.Server
	key   *rsa.PrivateKey
	now   func() time.Time
	mu    sync.Mutex
	codes map[string]fakeGrant // code → what the authorize step saw
}

type fakeGrant struct {
	nonce, challenge, sub, email string
}

func newFakeGoogle(t *testing.T, now func() time.Time) *fakeGoogle {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeGoogle{key: key, now: now, codes: map[string]fakeGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": f.srv.URL, "authorization_endpoint": f.srv.URL + "/o/oauth2/v2/auth",
			"token_endpoint": f.srv.URL + "/token", "jwks_uri": f.srv.URL + "/certs",
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("/certs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		f.mu.Lock()
		g, ok := f.codes[r.PostForm.Get("code")]
		delete(f.codes, r.PostForm.Get("code"))
		f.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant","error_description":"Bad Request"}`))
			return
		}
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		claims := map[string]any{
			"iss": f.srv.URL, "aud": r.PostForm.Get("client_id"), "sub": g.sub,
			"email": g.email, "email_verified": true, "name": "Grace Hopper", "picture": "https://lh3.googleusercontent.com/a/x",
			"nonce": g.nonce, "iat": f.now().Unix(), "exp": f.now().Add(time.Hour).Unix(),
		}
		idt, _ := jwt.Signed(signer).Claims(claims).Serialize()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer", "id_token": idt, "scope": "openid email profile"})
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// authorize plays the user consenting at Google: it reads the authorize URL
// and mints a code for it.
func (f *fakeGoogle) authorize(t *testing.T, authURL, sub, email string) (code, state string) {
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("nonce") == "" || q.Get("state") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorize URL lacks PKCE, nonce, state or openid: %s", authURL)
	}
	code = "4/code-" + sub
	f.mu.Lock()
	f.codes[code] = fakeGrant{nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), sub: sub, email: email}
	f.mu.Unlock()
	return code, q.Get("state")
}

func TestGoogleSignIn(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		var e *testEnv
		g := newFakeGoogle(t, func() time.Time { return e.clock.Now() })
		e = newEnv(t, d, map[string]string{
			"TWINME_GOOGLE_CLIENT_ID": "cid.apps.googleusercontent.com", "TWINME_GOOGLE_CLIENT_SECRET": "secret",
			"TWINME_GOOGLE_ISSUER_URL": g.srv.URL, "TWINME_APP_URL": "https://app.twin.me",
			"TWINME_ADMIN_EMAILS": "grace@example.com",
		})
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		start := func() (*http.Cookie, string) {
			res, err := client.Get(e.srv.URL + "/auth/google/start")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound || len(res.Cookies()) == 0 {
				t.Fatalf("start: %d", res.StatusCode)
			}
			return res.Cookies()[0], res.Header.Get("Location")
		}
		callback := func(c *http.Cookie, query string) *http.Response {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/auth/google/callback?"+query, nil)
			if c != nil {
				req.AddCookie(c)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}

		// A wrong state is refused and creates nothing.
		c, loc := start()
		code, _ := g.authorize(t, loc, "sub-1", "grace@example.com")
		if res := callback(c, "code="+code+"&state=forged"); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("forged state: %d", res.StatusCode)
		}
		if _, err := e.app.DB.UserByEmail(context.Background(), "grace@example.com"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("user created despite bad state: %v", err)
		}
		// No state cookie (another browser) is refused too.
		c, loc = start()
		code, state := g.authorize(t, loc, "sub-1", "grace@example.com")
		if res := callback(nil, "code="+code+"&state="+state); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("missing cookie: %d", res.StatusCode)
		}

		// The real flow: a new admin-listed user, a session cookie, redirect to the app.
		c, loc = start()
		code, state = g.authorize(t, loc, "sub-1", "grace@example.com")
		res := callback(c, "code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state))
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "https://app.twin.me" {
			t.Fatalf("callback: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		var session *http.Cookie
		for _, ck := range res.Cookies() {
			if ck.Name == auth.SessionCookie && ck.Value != "" {
				session = ck
			}
		}
		if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
			t.Fatalf("session cookie missing or not HttpOnly+Lax: %+v", res.Cookies())
		}
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(`{"query":"{ me { email name role } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(session)
		r := e.do(req)
		if dig(r.Data, "me", "email") != "grace@example.com" || dig(r.Data, "me", "role") != "ADMIN" || dig(r.Data, "me", "name") != "Grace Hopper" {
			t.Fatalf("me after sign-in: %s", r.Raw)
		}
		// Replaying the used code (and state) fails and changes nothing.
		if res := callback(c, "code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state)); res.StatusCode != http.StatusBadRequest {
			t.Fatalf("replayed code: %d", res.StatusCode)
		}
		// Signing in again finds the same user.
		c, loc = start()
		code, state = g.authorize(t, loc, "sub-1", "grace@example.com")
		if res := callback(c, "code="+url.QueryEscape(code)+"&state="+url.QueryEscape(state)); res.StatusCode != http.StatusFound {
			t.Fatalf("second sign-in: %d", res.StatusCode)
		}
		users, _ := e.app.DB.ListUsers(context.Background(), "grace", nil, 10)
		if len(users) != 1 {
			t.Fatalf("second sign-in created a duplicate: %d users", len(users))
		}
	})
}
