package app_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

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
