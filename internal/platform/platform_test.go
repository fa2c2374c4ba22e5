package platform

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    ID
		wantErr bool
	}{
		{"spotify", Spotify, false},
		{"SPOTIFY", Spotify, false},
		{"YouTube", YouTube, false},
		{" github ", GitHub, false},
		{"GMAIL", Gmail, false},
		{"linkedin", LinkedIn, false},
		{"slack", Slack, false},
		{"discord", Discord, false},
		{"twitter", "", true},
		{"", "", true},
		{"spotify,github", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr {
				if apperr.CodeOf(err) != apperr.BadUserInput {
					t.Fatalf("Parse(%q) error = %v, want BAD_USER_INPUT", tt.in, err)
				}
				if msg := apperr.MessageOf(err); !strings.Contains(msg, "spotify, youtube, github, discord, gmail, linkedin, slack") {
					t.Errorf("message %q does not list the valid platforms", msg)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
	if Spotify.Enum() != "SPOTIFY" {
		t.Errorf("Enum = %q", Spotify.Enum())
	}
}

func TestProvidersDefaults(t *testing.T) {
	ps := Providers()
	if len(ps) != len(All) {
		t.Fatalf("%d providers for %d platforms", len(ps), len(All))
	}
	for _, id := range All {
		p, ok := ps[id]
		if !ok {
			t.Fatalf("no provider for %s", id)
		}
		if p.ID != id || p.Name == "" || len(p.Scopes) == 0 || len(p.Reads) == 0 {
			t.Errorf("%s: incomplete provider %+v", id, p)
		}
		for _, u := range []string{p.Endpoints.AuthURL, p.Endpoints.TokenURL, p.Endpoints.APIBaseURL, p.Endpoints.RevokeURL} {
			if u != "" && !strings.HasPrefix(u, "https://") {
				t.Errorf("%s: endpoint %q is not https", id, u)
			}
		}
		if p.authStyle == oauth2.AuthStyleAutoDetect {
			t.Errorf("%s: AuthStyle is auto-detect", id)
		}
		if cfg := p.OAuth2Config("id", "secret", "https://twinme.test/cb"); cfg.Endpoint.AuthStyle != p.authStyle {
			t.Errorf("%s: config AuthStyle %v, want %v", id, cfg.Endpoint.AuthStyle, p.authStyle)
		}
		if p.ExpiringTokens && p.DefaultTokenLifetime <= 0 {
			t.Errorf("%s: expiring tokens without a default lifetime", id)
		}
	}
	if got := ps[Gmail].Scopes; len(got) != 1 || got[0] != "https://www.googleapis.com/auth/gmail.metadata" {
		t.Errorf("Gmail scopes = %v, want gmail.metadata only", got)
	}
	if got := ps[YouTube].Scopes; len(got) != 1 || got[0] != "https://www.googleapis.com/auth/youtube.readonly" {
		t.Errorf("YouTube scopes = %v, want youtube.readonly only", got)
	}
	if ps[GitHub].ExpiringTokens || ps[Slack].ExpiringTokens {
		t.Error("GitHub OAuth app and Slack tokens do not expire by default")
	}
	// Each call returns independent values.
	a := Providers()[Spotify]
	a.Scopes[0] = "changed"
	if Providers()[Spotify].Scopes[0] == "changed" {
		t.Error("Providers shares slices between calls")
	}
}

func TestAuthCodeURL(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	challenge := oauth2.S256ChallengeFromVerifier(verifier)
	tests := []struct {
		id       ID
		want     map[string]string // parameter → value ("*" = present)
		wantNone []string
	}{
		{Spotify, map[string]string{"code_challenge": challenge, "code_challenge_method": "S256", "scope": "user-read-recently-played user-top-read", "response_type": "code"}, nil},
		{YouTube, map[string]string{"access_type": "offline", "prompt": "consent", "code_challenge": challenge, "scope": "https://www.googleapis.com/auth/youtube.readonly"}, nil},
		{Gmail, map[string]string{"access_type": "offline", "prompt": "consent", "scope": "https://www.googleapis.com/auth/gmail.metadata"}, nil},
		{GitHub, map[string]string{"code_challenge": challenge, "scope": "read:user"}, nil},
		{Discord, map[string]string{"code_challenge": challenge, "scope": "identify guilds"}, nil},
		{LinkedIn, map[string]string{"scope": "openid profile email"}, []string{"code_challenge"}},
		{Slack, map[string]string{"user_scope": "channels:read,users:read"}, []string{"scope", "code_challenge"}},
	}
	for _, tt := range tests {
		t.Run(string(tt.id), func(t *testing.T) {
			p := Providers()[tt.id]
			cfg := p.OAuth2Config("client-1", "secret", "https://twinme.test/oauth/"+string(tt.id)+"/callback")
			raw := p.AuthCodeURL(cfg, "state-9", verifier)
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, p.Endpoints.AuthURL+"?") {
				t.Errorf("URL %s does not start with %s", raw, p.Endpoints.AuthURL)
			}
			q := u.Query()
			for k, v := range map[string]string{"client_id": "client-1", "state": "state-9", "redirect_uri": cfg.RedirectURL} {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			for k, v := range tt.want {
				if q.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, q.Get(k), v)
				}
			}
			for _, k := range tt.wantNone {
				if q.Has(k) {
					t.Errorf("%s present (%q)", k, q.Get(k))
				}
			}
			if strings.Contains(raw, verifier) {
				t.Error("authorize URL leaks the PKCE verifier")
			}
		})
	}
}

func TestWithEndpoints(t *testing.T) {
	p := Providers()[Spotify].WithEndpoints(Endpoints{TokenURL: "http://127.0.0.1:9/api/token", APIBaseURL: "http://127.0.0.1:9/v1/"})
	if p.Endpoints.TokenURL != "http://127.0.0.1:9/api/token" || p.Endpoints.APIBaseURL != "http://127.0.0.1:9/v1" {
		t.Errorf("overrides not applied: %+v", p.Endpoints)
	}
	if p.Endpoints.AuthURL != "https://accounts.spotify.com/authorize" {
		t.Errorf("empty override replaced AuthURL: %q", p.Endpoints.AuthURL)
	}
	if Providers()[Spotify].Endpoints.TokenURL != "https://accounts.spotify.com/api/token" {
		t.Error("WithEndpoints changed the defaults")
	}
}

func TestNormalizeExpiry(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		id   ID
		tok  *oauth2.Token
		want time.Time
	}{
		{"expires_in given", Spotify, &oauth2.Token{AccessToken: "a", ExpiresIn: 3600}, now.Add(time.Hour)},
		{"missing expires_in uses the default", Discord, &oauth2.Token{AccessToken: "a"}, now.Add(7 * 24 * time.Hour)},
		{"missing on a non-expiring provider", GitHub, &oauth2.Token{AccessToken: "a"}, time.Time{}},
		{"form-encoded expires_in", GitHub, (&oauth2.Token{AccessToken: "a"}).WithExtra(url.Values{"expires_in": {"28800"}}), now.Add(8 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Providers()[tt.id]
			p.clock = fixedClock(now)
			if got := p.normalize(tt.tok).Expiry; !got.Equal(tt.want) {
				t.Errorf("Expiry = %v, want %v", got, tt.want)
			}
		})
	}
}
