package soul_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// t0 is a Sunday noon; test data lies in the weeks before it.
var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

type env struct {
	db     *store.DB
	clock  *clockwork.FakeClock
	bus    *events.Local
	ingest *ingest.Service
	soul   *soul.Service
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newEnv(t testing.TB, db *store.DB, model llm.Model) *env {
	t.Helper()
	return newEnvWith(t, db, model, clockwork.NewFakeClockAt(t0))
}

func newEnvWithClock(t testing.TB, db *store.DB, clock *clockwork.FakeClock) *env {
	t.Helper()
	return newEnvWith(t, db, nil, clock)
}

func newEnvWith(t testing.TB, db *store.DB, model llm.Model, clock *clockwork.FakeClock) *env {
	t.Helper()
	bus := events.NewLocal(quiet())
	return &env{
		db: db, clock: clock, bus: bus,
		ingest: ingest.New(db, ingest.Options{Clock: clock, Logger: quiet()}),
		soul:   soul.New(db, soul.Options{Clock: clock, Logger: quiet(), Bus: bus, Model: model}),
	}
}

func (e *env) user(t testing.TB, email string) string {
	t.Helper()
	u := &store.User{Email: email, CreatedAt: t0, UpdatedAt: t0}
	storetest.Must(t, e.db.CreateUser(context.Background(), u))
	return u.ID
}

// extendedRow is one row of Spotify's extended streaming history
// (Streaming_History_Audio_*.json), as Spotify documents it in "Understanding
// my data": ts (UTC, when the stream ended), platform, ms_played,
// conn_country, master_metadata_track_name, master_metadata_album_artist_name,
// master_metadata_album_album_name, spotify_track_uri, reason_start,
// reason_end, shuffle, skipped, offline, incognito_mode.
type extendedRow struct {
	Ts            string `json:"ts"`
	Platform      string `json:"platform"`
	MsPlayed      int    `json:"ms_played"`
	ConnCountry   string `json:"conn_country"`
	Track         string `json:"master_metadata_track_name"`
	Artist        string `json:"master_metadata_album_artist_name"`
	Album         string `json:"master_metadata_album_album_name"`
	TrackURI      string `json:"spotify_track_uri"`
	ReasonStart   string `json:"reason_start"`
	ReasonEnd     string `json:"reason_end"`
	Shuffle       bool   `json:"shuffle"`
	Skipped       *bool  `json:"skipped"`
	Offline       bool   `json:"offline"`
	IncognitoMode bool   `json:"incognito_mode"`
}

// importPlays imports n evening plays over the days before t0 through the
// real importer: every fifth is skipped with reason_end "fwdbtn".
func (e *env) importPlays(t testing.TB, userID string, n, offset int) ingest.ImportResult {
	t.Helper()
	rows := make([]extendedRow, n)
	for i := range rows {
		i2 := i + offset
		skipped := i2%5 == 0
		end := t0.AddDate(0, 0, -1-i2/6).Truncate(24 * time.Hour).Add(time.Duration(19+i2%4)*time.Hour + time.Duration(i2%50)*time.Minute)
		r := extendedRow{
			Ts: end.Format(time.RFC3339), Platform: "Android OS 14", MsPlayed: 200000, ConnCountry: "DE",
			Track: fmt.Sprintf("Song %d", i2%25), Artist: fmt.Sprintf("Artist %d", i2%12), Album: "Album",
			TrackURI: fmt.Sprintf("spotify:track:t%02d", i2%25), ReasonStart: "trackdone", ReasonEnd: "trackdone",
			Skipped: &skipped,
		}
		if skipped {
			r.ReasonEnd, r.MsPlayed = "fwdbtn", 8000
		}
		rows[i] = r
	}
	raw, err := json.Marshal(rows)
	storetest.Must(t, err)
	file := importer.File{Name: fmt.Sprintf("Streaming_History_Audio_2026_%d.json", offset), Size: int64(len(raw)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }}
	res, err := e.ingest.ImportFiles(context.Background(), userID, "spotify", []importer.File{file}, nil)
	storetest.Must(t, err)
	return res
}

// upsert stores items as the polling engine does (one transaction per page).
func (e *env) upsert(t testing.TB, userID, platform string, items []store.PlatformItem) {
	t.Helper()
	err := e.db.RunInTx(context.Background(), nil, func(ctx context.Context, tx store.Tx) error {
		_, err := store.UpsertPlatformData(ctx, tx, userID, platform, items, e.clock.Now())
		return err
	})
	storetest.Must(t, err)
}

func apiItem(t testing.TB, dataType, id string, at time.Time, payload any) store.PlatformItem {
	t.Helper()
	raw, err := json.Marshal(payload)
	storetest.Must(t, err)
	return store.PlatformItem{DataType: dataType, ExternalID: id, OccurredAt: at, Payload: raw, Source: store.SourceAPI}
}

// topArtists stores a top-artists snapshot the way the Spotify stream does
// (GET /v1/me/top/artists items: id, name, uri, genres, popularity).
func (e *env) topArtists(t testing.TB, userID string) {
	t.Helper()
	genres := [][]string{{"indie pop", "pop"}, {"jazz"}, {"hip hop", "rap"}, {"classical"}}
	var items []store.PlatformItem
	for i := range 12 {
		id := fmt.Sprintf("ar%02d", i)
		items = append(items, apiItem(t, "top_artist", "long_term:2026-11-28:"+id, t0, map[string]any{
			"source": "api", "time_range": "long_term", "snapshot": "2026-11-28", "rank": i + 1, "artist_id": id,
			"uri": "spotify:artist:" + id, "name": fmt.Sprintf("Artist %d", i), "genres": genres[i%len(genres)], "popularity": 50,
		}))
	}
	e.upsert(t, userID, "spotify", items)
}

// gitHub stores repositories and events the way the GitHub streams do
// (GET /users/{user}/events: id, type, repo.name, created_at; repos with
// their /languages answer merged in).
func (e *env) gitHub(t testing.TB, userID string, n int) {
	t.Helper()
	items := []store.PlatformItem{
		apiItem(t, "repo", "101", t0, map[string]any{"source": "api", "full_name": "ada/engine", "language": "Go",
			"languages": map[string]int{"Go": 90000, "Shell": 2000}, "stargazers_count": 12, "topics": []string{}}),
		apiItem(t, "repo", "102", t0, map[string]any{"source": "api", "full_name": "ada/site", "language": "TypeScript",
			"languages": map[string]int{"TypeScript": 40000}, "stargazers_count": 1, "topics": []string{}}),
	}
	types := []string{"PushEvent", "PushEvent", "PullRequestEvent", "PullRequestReviewEvent", "IssueCommentEvent"}
	for i := range n {
		at := t0.AddDate(0, 0, -1-i/3).Truncate(24 * time.Hour).Add(time.Duration(9+i%8) * time.Hour)
		repo := "ada/engine"
		if i%4 == 0 {
			repo = "ada/site"
		}
		items = append(items, apiItem(t, "event", fmt.Sprint(30000000000+i), at, map[string]any{
			"source": "api", "type": types[i%len(types)], "repo": repo, "repo_id": 101, "public": true,
			"created_at": at.Format(time.RFC3339)}))
	}
	e.upsert(t, userID, "github", items)
}

// observe records typing and scroll events through the observer service.
func (e *env) observe(t testing.TB, userID string, n int) {
	t.Helper()
	ctx := context.Background()
	_, err := e.ingest.SetObserverSettings(ctx, userID, true, false)
	storetest.Must(t, err)
	var raw []observe.RawEvent
	for i := range n {
		at := e.clock.Now().Add(-time.Duration(i+1) * 7 * time.Minute)
		ev := observe.RawEvent{ClientEventID: fmt.Sprintf("ev-%d-%d", e.clock.Now().Unix(), i), OccurredAt: at.Format(time.RFC3339), URL: "https://github.com/ada?tab=repos"}
		if i%2 == 0 {
			ev.Type, ev.Data = "typing", json.RawMessage(`{"keys":120,"corrections":6,"duration_ms":30000}`)
		} else {
			ev.Type, ev.Data = "scroll", json.RawMessage(`{"depth_pct":70,"speed_px_s":900,"direction":"down"}`)
		}
		raw = append(raw, ev)
	}
	accepted, _, err := e.ingest.RecordEvents(ctx, userID, raw)
	storetest.Must(t, err)
	if accepted != n {
		t.Fatalf("observer accepted %d of %d", accepted, n)
	}
}

// collect subscribes to topic for userID and returns a function that
// drains what arrived so far (the local bus delivers synchronously).
func (e *env) collect(t testing.TB, topic, userID string) func() []events.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch := e.bus.Subscribe(ctx, events.Filter{Topic: topic, UserID: userID})
	return func() []events.Event {
		var out []events.Event
		for {
			select {
			case ev := <-ch:
				out = append(out, ev)
			default:
				return out
			}
		}
	}
}

func clusterOf(v privacy.View, c privacy.Cluster) int {
	n := 0
	for _, in := range v.Insights {
		if in.Cluster == c {
			n++
		}
	}
	return n
}
