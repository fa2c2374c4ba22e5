package ingest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/testutil"
)

var start = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// env is one database, a Spotify fake (OAuth and API), the real token
// manager and an event bus.
type env struct {
	t     testing.TB
	db    *store.DB
	clock *clockwork.FakeClock
	fake  *platformtest.Fake
	m     *connect.Manager
	bus   *events.Local
	feed  *savedTracks
	// analysis records the analysis hook's calls.
	analysis *analysisCalls

	mu       sync.Mutex
	statuses []store.ConnectionStatus
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: clockwork.NewFakeClockAt(start), bus: events.NewLocal(slog.New(slog.DiscardHandler)), analysis: &analysisCalls{}}
	e.fake = platformtest.New(t, platform.Spotify, platformtest.WithClock(e.clock))
	e.m = connect.NewManager(db, testutil.Keyring(t), map[platform.ID]connect.Platform{
		platform.Spotify: {Provider: e.fake.Provider(), OAuth: e.fake.Config()},
	}, connect.Options{
		Clock: e.clock, Logger: slog.New(slog.DiscardHandler),
		OnStatusChange: func(_ context.Context, c store.Connection) {
			e.mu.Lock()
			e.statuses = append(e.statuses, c.Status)
			e.mu.Unlock()
		},
	})
	e.feed = serveSavedTracks(e.fake)
	return e
}

func (e *env) statusEvents() []store.ConnectionStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]store.ConnectionStatus(nil), e.statuses...)
}

// analysisCalls is an analysis hook that records "user source" per call.
type analysisCalls struct {
	mu    sync.Mutex
	calls []string
}

func (a *analysisCalls) DataChanged(_ context.Context, userID, source string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, userID+" "+source)
}

func (a *analysisCalls) got() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.calls...)
}

// connectUser creates a user and connects Spotify through the fake's OAuth
// flow, as the connect callback does.
func (e *env) connectUser(email string) *store.Connection {
	e.t.Helper()
	ctx := context.Background()
	u := &store.User{Email: email, CreatedAt: start, UpdatedAt: start}
	storetest.Must(e.t, e.db.CreateUser(ctx, u))
	p := e.fake.Provider().WithClock(e.clock)
	cfg := e.fake.Config()
	verifier := oauth2.GenerateVerifier()
	code := e.fake.IssueCode(p.AuthCodeURL(cfg, "state", verifier))
	tok, err := p.Exchange(ctx, cfg, code, verifier)
	storetest.Must(e.t, err)
	now := e.clock.Now()
	c := &store.Connection{UserID: u.ID, Platform: "spotify", AccountID: "acct-" + email, AccountName: email,
		Scopes: "user-library-read", ConnectedAt: now, NextSyncAt: &now}
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry
		c.TokenExpiresAt = &exp
	}
	storetest.Must(e.t, e.db.UpsertConnection(ctx, c, func(id string) (store.ConnectionTokens, error) { return e.m.Seal(id, tok) }))
	return c
}

func (e *env) reload(id string) *store.Connection {
	e.t.Helper()
	c, err := e.db.ConnectionByID(context.Background(), id)
	storetest.Must(e.t, err)
	return c
}

// engine builds a polling engine over e with the given streams (default:
// the saved-tracks feed) and no rate limit.
func (e *env) engine(streams ...platform.Stream) *ingest.Engine {
	return e.engineWith(nil, streams...)
}

// engineWith is engine with options adjusted by opt.
func (e *env) engineWith(opt func(*ingest.EngineOptions), streams ...platform.Stream) *ingest.Engine {
	if len(streams) == 0 {
		streams = []platform.Stream{e.feed.stream()}
	}
	o := ingest.EngineOptions{
		Providers:  map[platform.ID]platform.Provider{platform.Spotify: e.fake.Provider()},
		Streams:    func(platform.Provider) []platform.Stream { return streams },
		RateLimits: map[platform.ID]rate.Limit{platform.Spotify: rate.Inf},
		Bus:        e.bus,
		Analysis:   e.analysis,
		Clock:      e.clock,
		Logger:     slog.New(slog.DiscardHandler),
	}
	if opt != nil {
		opt(&o)
	}
	return ingest.NewEngine(e.db, e.m, o)
}

// savedTracks serves GET /v1/me/tracks?limit&offset, the Web API's "Get
// User's Saved Tracks", answering a paging object of SavedTrackObjects:
//
//	{"href":"https://api.spotify.com/v1/me/tracks?offset=0&limit=20","limit":20,
//	 "next":"https://api.spotify.com/v1/me/tracks?offset=20&limit=20","offset":0,"previous":null,
//	 "total":4,"items":[{"added_at":"2026-01-02T10:00:00Z","track":{"id":"…","name":"…",
//	 "uri":"spotify:track:…","artists":[{"id":"…","name":"…"}]}}]}
//
// (limit 1..50, default 20; offset from 0). Tracks are listed oldest saved
// first here, so new saves appear at the end and an offset cursor resumes.
// failAt makes the request with that offset answer 503 once.
type savedTracks struct {
	mu       sync.Mutex
	tracks   []string
	requests []string
	failAt   map[int]int // offset -> HTTP status, once
}

func serveSavedTracks(f *platformtest.Fake) *savedTracks {
	s := &savedTracks{failAt: map[int]int{}}
	f.HandleAPI(http.MethodGet, "/v1/me/tracks", s.serve)
	return s
}

func (s *savedTracks) add(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.tracks = append(s.tracks, fmt.Sprintf("track%04d", len(s.tracks)))
	}
}

func (s *savedTracks) failOnce(offset, status int) {
	s.mu.Lock()
	s.failAt[offset] = status
	s.mu.Unlock()
}

func (s *savedTracks) served() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func (s *savedTracks) serve(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit < 1 || limit > 50 {
		limit = 20
	}
	offset, _ := strconv.Atoi(r.URL.Query().Get("offset"))
	s.mu.Lock()
	s.requests = append(s.requests, r.URL.RawQuery)
	if status, ok := s.failAt[offset]; ok {
		delete(s.failAt, offset)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"status":%d,"message":"Service unavailable"}}`, status)
		return
	}
	end := min(offset+limit, len(s.tracks))
	type artist struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	type track struct {
		ID      string   `json:"id"`
		Name    string   `json:"name"`
		URI     string   `json:"uri"`
		Artists []artist `json:"artists"`
	}
	type saved struct {
		AddedAt string `json:"added_at"`
		Track   track  `json:"track"`
	}
	items := []saved{}
	for i := offset; i < end; i++ {
		id := s.tracks[i]
		items = append(items, saved{
			AddedAt: start.Add(-time.Duration(len(s.tracks)-i) * time.Hour).Format(time.RFC3339),
			Track:   track{ID: id, Name: "Song " + id, URI: "spotify:track:" + id, Artists: []artist{{ID: "a1", Name: "Björk"}}},
		})
	}
	total := len(s.tracks)
	s.mu.Unlock()
	var next any
	if end < total {
		next = fmt.Sprintf("https://api.spotify.com/v1/me/tracks?offset=%d&limit=%d", end, limit)
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"href": r.URL.String(), "limit": limit, "next": next, "offset": offset, "previous": nil,
		"total": total, "items": items,
	})
}

// stream is a saved-tracks stream: the cursor is the offset of the next
// unseen save; pages of 10.
func (s *savedTracks) stream() platform.Stream {
	return platform.Stream{Name: "saved_tracks", DataType: "saved_track", Fetch: fetchSavedTracks}
}

func fetchSavedTracks(ctx context.Context, client *http.Client, p platform.Provider, token string, cursor json.RawMessage) (platform.Page, error) {
	var cur struct {
		Offset int `json:"offset"`
	}
	if len(cursor) > 0 {
		if err := json.Unmarshal(cursor, &cur); err != nil {
			return platform.Page{}, err
		}
	}
	u := fmt.Sprintf("%s/me/tracks?limit=10&offset=%d", p.Endpoints.APIBaseURL, cur.Offset)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return platform.Page{}, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return platform.Page{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if apiErr := platform.ClassifyAPIError(p.ID, resp.StatusCode, resp.Header, body); apiErr != nil {
		return platform.Page{}, apiErr
	}
	var pg struct {
		Next  *string `json:"next"`
		Items []struct {
			AddedAt time.Time `json:"added_at"`
			Track   struct {
				ID   string `json:"id"`
				Name string `json:"name"`
			} `json:"track"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &pg); err != nil {
		return platform.Page{}, err
	}
	out := platform.Page{More: pg.Next != nil}
	for _, it := range pg.Items {
		payload, _ := json.Marshal(map[string]string{"source": "api", "track": it.Track.Name})
		out.Items = append(out.Items, platform.Item{DataType: "saved_track", ExternalID: it.Track.ID, OccurredAt: it.AddedAt, Payload: payload})
	}
	next, _ := json.Marshal(map[string]int{"offset": cur.Offset + len(pg.Items)})
	out.Cursor = next
	return out, nil
}
