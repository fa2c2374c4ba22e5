package platformtest

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"sync"
	"time"
)

// recorder keeps the request URIs an API fake served, for tests that check
// what was asked (shared by the api_*.go fakes).
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) record(req *http.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(req.Context()))
	r.mu.Unlock()
}

// Requests returns the requests served so far (method, URL with query,
// headers), oldest first.
func (r *recorder) Requests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*http.Request(nil), r.reqs...)
}

// RequestURIs returns the path and query of every request served so far.
func (r *recorder) RequestURIs() []string {
	var out []string
	for _, req := range r.Requests() {
		out = append(out, req.URL.RequestURI())
	}
	return out
}

// SpotifyPlay is one play in the fake's listening history.
type SpotifyPlay struct {
	TrackID    string
	Track      string
	Artists    []string
	Album      string
	DurationMS int64
	PlayedAt   time.Time
	// ContextType is "album", "playlist", "artist" or "" (no context).
	ContextType string
}

// SpotifyAPI serves the Web API endpoints the Spotify streams read:
// /v1/me/player/recently-played and /v1/me/top/{artists,tracks}.
type SpotifyAPI struct {
	recorder
	mu    sync.Mutex
	plays []SpotifyPlay // any order; answers sort newest first
	top   map[string][]string
}

// SpotifyHistoryStart is when the seeded listening history begins.
var SpotifyHistoryStart = time.Date(2026, 3, 14, 8, 0, 0, 0, time.UTC)

var spotifySongs = []struct{ artist, track, album string }{
	{"Daft Punk", "Get Lucky (feat. Pharrell Williams and Nile Rodgers)", "Random Access Memories"},
	{"Björk", "Jóga", "Homogenic"},
	{"Radiohead", "Weird Fishes/Arpeggi", "In Rainbows"},
	{"Nina Simone", "Feeling Good", "I Put A Spell On You"},
	{"Khruangbin", "Maria También", "Con Todo El Mundo"},
}

// ServeSpotifyAPI registers the endpoints on f with n seeded plays, one
// every four minutes from SpotifyHistoryStart, and three top artists and
// tracks per time range.
func ServeSpotifyAPI(f *Fake, n int) *SpotifyAPI {
	a := &SpotifyAPI{top: map[string][]string{
		"short_term":  {"Khruangbin", "Björk", "Daft Punk"},
		"medium_term": {"Daft Punk", "Radiohead", "Björk"},
		"long_term":   {"Radiohead", "Nina Simone", "Daft Punk"},
	}}
	for i := range n {
		a.plays = append(a.plays, SpotifySongPlay(i, SpotifyHistoryStart.Add(time.Duration(i)*4*time.Minute)))
	}
	f.HandleAPI(http.MethodGet, "/v1/me/player/recently-played", a.recentlyPlayed)
	f.HandleAPI(http.MethodGet, "/v1/me/top/{kind}", a.topItems)
	return a
}

// SpotifySongPlay is play number i of a small catalogue, ending at at.
func SpotifySongPlay(i int, at time.Time) SpotifyPlay {
	s := spotifySongs[i%len(spotifySongs)]
	ctx := []string{"album", "playlist", ""}[i%3]
	return SpotifyPlay{
		TrackID: fmt.Sprintf("4uLU6hMCjMI75M1A2tKUQ%c", 'A'+rune(i%len(spotifySongs))), Track: s.track,
		Artists: []string{s.artist}, Album: s.album, DurationMS: 180000 + int64(i%7)*1000, PlayedAt: at.UTC(), ContextType: ctx,
	}
}

// AddPlays adds plays to the history, as the person listening on.
func (a *SpotifyAPI) AddPlays(plays ...SpotifyPlay) {
	a.mu.Lock()
	a.plays = append(a.plays, plays...)
	a.mu.Unlock()
}

// SetTopArtists replaces the top artists of a time range (the top tracks
// are their first songs).
func (a *SpotifyAPI) SetTopArtists(timeRange string, artists ...string) {
	a.mu.Lock()
	a.top[timeRange] = artists
	a.mu.Unlock()
}

// recentlyPlayed answers GET /v1/me/player/recently-played?limit&after|before
// as the Web API reference documents (CursorPagingPlayHistoryObject):
//
//	{"href":"https://api.spotify.com/v1/me/player/recently-played?limit=50","limit":50,
//	 "next":"https://api.spotify.com/v1/me/player/recently-played?before=1614860000000&limit=50",
//	 "cursors":{"after":"1614861296789","before":"1614860000000"},"total":50,
//	 "items":[{"track":{…TrackObject…},"played_at":"2021-03-04T12:34:56.789Z",
//	 "context":{"type":"album","href":"…","external_urls":{"spotify":"…"},"uri":"spotify:album:…"}}]}
//
// Only the 50 most recent plays exist; items are newest first; after and
// before are exclusive unix-ms cursors and may not both be set (400).
func (a *SpotifyAPI) recentlyPlayed(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	q := r.URL.Query()
	if q.Has("after") && q.Has("before") {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"status": 400, "message": "Only one of after and before may be specified"}})
		return
	}
	limit := 20
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 50 {
			writeJSON(w, 400, map[string]any{"error": map[string]any{"status": 400, "message": "Invalid limit"}})
			return
		}
		limit = n
	}
	a.mu.Lock()
	plays := append([]SpotifyPlay(nil), a.plays...)
	a.mu.Unlock()
	sort.Slice(plays, func(i, j int) bool { return plays[i].PlayedAt.After(plays[j].PlayedAt) })
	if len(plays) > 50 {
		plays = plays[:50]
	}
	var sel []SpotifyPlay
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
	for _, p := range plays {
		ms := p.PlayedAt.UnixMilli()
		if (q.Has("after") && ms <= after) || (q.Has("before") && ms >= before) {
			continue
		}
		sel = append(sel, p)
	}
	if q.Has("after") && len(sel) > limit {
		sel = sel[len(sel)-limit:] // the plays right after the cursor
	} else if len(sel) > limit {
		sel = sel[:limit]
	}
	items := []any{}
	for _, p := range sel {
		artists := []any{}
		for _, name := range p.Artists {
			artists = append(artists, map[string]any{"id": "0" + strconv.Itoa(len(name)) + "artist", "name": name, "type": "artist", "uri": "spotify:artist:0" + strconv.Itoa(len(name))})
		}
		var ctx any
		if p.ContextType != "" {
			ctx = map[string]any{"type": p.ContextType, "uri": "spotify:" + p.ContextType + ":37i9dQZF1DXcBWIGoYBM5M", "href": "https://api.spotify.com/v1/" + p.ContextType + "s/37i9dQZF1DXcBWIGoYBM5M"}
		}
		items = append(items, map[string]any{
			"track": map[string]any{
				"id": p.TrackID, "uri": "spotify:track:" + p.TrackID, "name": p.Track, "type": "track",
				"duration_ms": p.DurationMS, "explicit": false, "popularity": 71, "artists": artists,
				"album": map[string]any{"id": "2noRn2Aes5aoNVsU6iWThc", "name": p.Album, "release_date": "2013-05-17"},
			},
			"played_at": p.PlayedAt.Format("2006-01-02T15:04:05.000Z07:00"),
			"context":   ctx,
		})
	}
	body := map[string]any{"href": "https://api.spotify.com/v1/me/player/recently-played?" + q.Encode(), "limit": limit, "next": nil, "cursors": nil, "total": len(sel), "items": items}
	if len(sel) > 0 {
		body["cursors"] = map[string]string{
			"after":  strconv.FormatInt(sel[0].PlayedAt.UnixMilli(), 10),
			"before": strconv.FormatInt(sel[len(sel)-1].PlayedAt.UnixMilli(), 10),
		}
	}
	writeJSON(w, 200, body)
}

// topItems answers GET /v1/me/top/{artists|tracks}?time_range&limit&offset
// with a paging object:
//
//	{"href":"…","limit":50,"next":null,"offset":0,"previous":null,"total":3,
//	 "items":[{"id":"4tZwfgrHOc3mvqYlEYSvVi","name":"Daft Punk","genres":["electro","filter house"],
//	 "popularity":77,"type":"artist","uri":"spotify:artist:4tZwfgrHOc3mvqYlEYSvVi"}]}
//
// (tracks: TrackObjects). An unknown time_range is a 400.
func (a *SpotifyAPI) topItems(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	kind := r.PathValue("kind")
	tr := r.URL.Query().Get("time_range")
	if tr == "" {
		tr = "medium_term"
	}
	a.mu.Lock()
	names, ok := a.top[tr]
	names = append([]string(nil), names...)
	a.mu.Unlock()
	if !ok || (kind != "artists" && kind != "tracks") {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"status": 400, "message": "Invalid time range"}})
		return
	}
	items := []any{}
	for _, name := range names {
		id := fmt.Sprintf("%022x", len(name)*7919+int(name[0]))[:22]
		if kind == "artists" {
			items = append(items, map[string]any{"id": id, "name": name, "genres": []string{"genre of " + name}, "popularity": 60 + len(name), "type": "artist", "uri": "spotify:artist:" + id})
			continue
		}
		song := spotifySongs[0]
		for _, s := range spotifySongs {
			if s.artist == name {
				song = s
			}
		}
		items = append(items, map[string]any{
			"id": "t" + id[1:], "name": song.track, "type": "track", "uri": "spotify:track:t" + id[1:], "duration_ms": 200000, "popularity": 70,
			"artists": []any{map[string]any{"id": id, "name": name}}, "album": map[string]any{"id": "a" + id[1:], "name": song.album},
		})
	}
	writeJSON(w, 200, map[string]any{"href": "https://api.spotify.com/v1/me/top/" + kind, "limit": 50, "next": nil, "offset": 0, "previous": nil, "total": len(items), "items": items})
}

// overridePattern turns path into a ServeMux pattern for the fake's host.
// The identity handler already answers some paths the streams read with
// more parameters; a pattern with a host takes precedence over one without
// (and ServeMux matches the host without its port).
func overridePattern(f *Fake, path string) string {
	u, err := url.Parse(f.URL())
	if err != nil {
		panic(err)
	}
	return u.Hostname() + path
}
