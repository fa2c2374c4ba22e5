package app_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// A connection in error because the provider refused our OAuth client
// tells the person the service has a problem, not to reconnect.
func TestSyncNowOnAConfigErrorBlamesTheService(t *testing.T) {
	f := newFake(t, platform.Spotify)
	e := newEnv(t, store.SQLite, withFake(map[string]string{}, platform.Spotify, f))
	u, tok := e.user("con@example.com", false)
	e.connect(tok, platform.Spotify, f)
	ctx := context.Background()
	c, err := e.app.DB.ConnectionByPlatform(ctx, u.ID, "spotify")
	storetest.Must(t, err)
	_, _, err = e.app.DB.SetConnectionStatus(ctx, c.ID, store.StatusChange{
		Status: store.StatusError, Error: "twinme has a problem with its Spotify setup", ConfigFingerprint: "0123456789abcdef",
	}, e.clock.Now())
	storetest.Must(t, err)
	r := e.gql(tok, `mutation { syncNow(platform: SPOTIFY) { outcome } }`, nil)
	if r.code() != "NOT_CONFIGURED" || len(r.Errors) == 0 || strings.Contains(r.Errors[0].Message, "again") ||
		!strings.Contains(r.Errors[0].Message, "nothing you need to do") {
		t.Fatalf("syncNow on a config error: %s", r.Raw)
	}
}

// TWINME_SPOTIFY_REVOKE_URL cannot do anything: Spotify has no revocation
// endpoint. Start-up says so instead of accepting it silently.
func TestSpotifyRevokeURLIsReportedAtStartUp(t *testing.T) {
	vars := map[string]string{
		"TWINME_DATABASE_URL": storetest.URL(t, store.SQLite), "TWINME_DATA_DIR": t.TempDir(),
		"TWINME_SPOTIFY_CLIENT_ID": "id", "TWINME_SPOTIFY_CLIENT_SECRET": "secret",
		"TWINME_SPOTIFY_REVOKE_URL": "https://accounts.spotify.com/api/revoke",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	storetest.Must(t, err)
	var logs bytes.Buffer
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)), app.Options{Migrate: true})
	storetest.Must(t, err)
	defer a.Close()
	if !strings.Contains(logs.String(), "Spotify has no token revocation endpoint; TWINME_SPOTIFY_REVOKE_URL is ignored") {
		t.Fatalf("start-up log: %s", logs.String())
	}
	if a.Providers[platform.Spotify].CanRevoke() {
		t.Fatal("the ignored revoke URL was applied")
	}
}

// Fleet analytics: admins only over GraphQL, and the same figures as
// twinme_fleet_* gauges on /metrics.
func TestFleetAnalyticsForAdmins(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.Spotify)
		e := newEnv(t, d, withFake(map[string]string{}, platform.Spotify, f))
		_, admin := e.user("root@example.com", true)
		_, tok := e.user("con@example.com", false)
		e.connect(tok, platform.Spotify, f)

		if r := e.gql(tok, `{ fleetAnalytics { users { total } } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("non-admin fleetAnalytics: %s", r.Raw)
		}
		r := e.gql(admin, `{ fleetAnalytics { generatedAt users { total active7Days active30Days newPerDay { day count } }
			connections { platform status count } connectionProblems { platform status reason count }
			syncFreshness { platform synced neverSynced p50AgeSeconds p95AgeSeconds }
			refreshOutcomes24h { platform outcome count }
			activity { imports24h observerEvents24h analysisRuns24h insightsStored24h insightsTotal llmCalls24h llmErrors24h } } }`, nil)
		if len(r.Errors) != 0 || dig(r.Data, "fleetAnalytics", "users", "total") != 2.0 || dig(r.Data, "fleetAnalytics", "users", "active7Days") != 2.0 {
			t.Fatalf("fleetAnalytics: %s", r.Raw)
		}
		conns, _ := dig(r.Data, "fleetAnalytics", "connections").([]any)
		if len(conns) != 1 || conns[0].(map[string]any)["platform"] != "SPOTIFY" || conns[0].(map[string]any)["status"] != "CONNECTED" || conns[0].(map[string]any)["count"] != 1.0 {
			t.Fatalf("fleet connections: %s", r.Raw)
		}
		fresh, _ := dig(r.Data, "fleetAnalytics", "syncFreshness").([]any)
		if len(fresh) != len(platform.All) || fresh[0].(map[string]any)["neverSynced"] != 1.0 {
			t.Fatalf("fleet freshness: %s", r.Raw)
		}

		res, err := http.Get(e.srv.URL + "/metrics")
		storetest.Must(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		for _, want := range []string{
			`twinme_fleet_users 2`, `twinme_fleet_connections{platform="spotify",status="connected"} 1`,
			`twinme_fleet_connections_never_synced{platform="spotify"} 1`, `twinme_fleet_scrape_error 0`,
		} {
			if !strings.Contains(string(body), want) {
				t.Fatalf("/metrics lacks %q:\n%s", want, body)
			}
		}
	})
}

// With TWINME_SENTRY_DSN, an INTERNAL error reaches a (fake) Sentry
// ingestion endpoint tagged with the request id the client saw, without
// the viewer's email. Shape relied on: POST /api/<project>/envelope/ with
// a newline-separated envelope whose last item is the event JSON.
func TestInternalErrorsGoToSentry(t *testing.T) {
	var mu sync.Mutex
	var envelopes []string
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/7/envelope/" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		envelopes = append(envelopes, string(b))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"id":"00000000000000000000000000000000"}`))
	}))
	defer ingest.Close()
	dsn := strings.Replace(ingest.URL, "http://", "http://key@", 1) + "/7"
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_SENTRY_DSN": dsn})
	_, tok := e.user("private.person@example.com", false)
	_, err := e.app.DB.ExecContext(context.Background(), "DROP TABLE share_links")
	storetest.Must(t, err)
	r := e.gql(tok, `{ shareLinks { id } }`, nil)
	if r.code() != "INTERNAL" {
		t.Fatalf("shareLinks without its table: %s", r.Raw)
	}
	_, id, _ := strings.Cut(r.Errors[0].Message, "(request ")
	id = strings.TrimSuffix(id, ")")
	if id == "" {
		t.Fatalf("no request id in %q", r.Errors[0].Message)
	}
	var got string
	for deadline := time.Now().Add(10 * time.Second); got == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		for _, env := range envelopes {
			if strings.Contains(env, id) {
				got = env
			}
		}
		mu.Unlock()
	}
	if got == "" {
		t.Fatalf("no Sentry event with request id %s (got %d envelopes)", id, len(envelopes))
	}
	if !strings.Contains(got, "graphql: internal error") || strings.Contains(got, "private.person@example.com") || strings.Contains(got, tok) {
		t.Fatalf("event: %s", got)
	}
}
