package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twinme/twinme/internal/itemkey"
)

// spotifyTimeRanges are the windows of GET /me/top: ≈4 weeks, ≈6 months and
// the long term.
var spotifyTimeRanges = []string{"short_term", "medium_term", "long_term"}

func spotifyStreams() []Stream {
	return []Stream{
		{Name: "recently_played", DataType: DataSpotifyPlay, Fetch: spotifyRecentlyPlayed},
		{Name: "top_artists", DataType: DataSpotifyTopArtist, Fetch: spotifyTop("artists", DataSpotifyTopArtist)},
		{Name: "top_tracks", DataType: DataSpotifyTopTrack, Fetch: spotifyTop("tracks", DataSpotifyTopTrack)},
	}
}

// spotifyPlayCursor: After is cursors.after of the last answer (unix ms of
// the newest play seen); the next request asks only for plays after it.
type spotifyPlayCursor struct {
	After string `json:"after,omitempty"`
}

// spotifyArtist is a simplified artist object.
type spotifyArtist struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// spotifyTrack is the track object fields twinme keeps.
type spotifyTrack struct {
	ID         string          `json:"id"`
	URI        string          `json:"uri"`
	Name       string          `json:"name"`
	DurationMS int64           `json:"duration_ms"`
	Explicit   bool            `json:"explicit"`
	Popularity int             `json:"popularity"`
	Artists    []spotifyArtist `json:"artists"`
	Album      struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		ReleaseDate string `json:"release_date"`
	} `json:"album"`
}

// spotifyRecentlyPlayed reads GET /me/player/recently-played?limit=50&after=<ms>:
//
//	{"href":"…","limit":50,"next":"…|null","cursors":{"after":"1614861296789","before":"1614860000000"},
//	 "total":…,"items":[{"track":{"id":"…","uri":"spotify:track:…","name":"…","duration_ms":248413,
//	 "artists":[{"id":"…","name":"Daft Punk"}],"album":{"id":"…","name":"…"}},
//	 "played_at":"2021-03-04T12:34:56.789Z","context":{"type":"album","uri":"spotify:album:…"}|null}]}
//
// (PlayHistoryObject, Web API reference; cursors is null when there are no
// items). Only the latest 50 plays exist, so one request per run; a run more
// than 50 plays late loses the older ones. Plays are keyed with
// itemkey.SpotifyPlayID, the key the export importer uses, so a play from
// the API and the same play from an export are one item.
func spotifyRecentlyPlayed(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur spotifyPlayCursor
	ok := readCursor(raw, &cur)
	q := url.Values{"limit": {"50"}, "after": {cur.After}}
	var resp struct {
		Cursors *struct {
			After string `json:"after"`
		} `json:"cursors"`
		Items []struct {
			Track    spotifyTrack `json:"track"`
			PlayedAt time.Time    `json:"played_at"`
			Context  *struct {
				Type string `json:"type"`
				URI  string `json:"uri"`
			} `json:"context"`
		} `json:"items"`
	}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/me/player/recently-played", q), token, nil, &resp); err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok}
	newest := cur.After
	newestMS, _ := strconv.ParseInt(cur.After, 10, 64)
	for _, it := range resp.Items {
		t := it.Track
		if t.Name == "" || len(t.Artists) == 0 || it.PlayedAt.IsZero() {
			continue // an episode or an unplayable local file: nothing to key it on
		}
		artists := make([]string, len(t.Artists))
		for i, a := range t.Artists {
			artists[i] = a.Name
		}
		pl := SpotifyPlayPayload{
			Source: SourceAPI, TrackID: t.ID, TrackURI: t.URI, Track: t.Name, Artists: artists,
			Album: t.Album.Name, DurationMS: t.DurationMS, PlayedAt: it.PlayedAt.UTC().Format(time.RFC3339Nano),
		}
		if it.Context != nil {
			pl.ContextType, pl.ContextURI = it.Context.Type, it.Context.URI
		}
		payload, err := payloadOf(pl)
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{
			DataType:   DataSpotifyPlay,
			ExternalID: itemkey.SpotifyPlayID(t.Artists[0].Name, t.Name, it.PlayedAt),
			OccurredAt: it.PlayedAt.UTC(),
			Payload:    payload,
		})
		if ms := it.PlayedAt.UnixMilli(); ms > newestMS {
			newestMS, newest = ms, strconv.FormatInt(ms, 10)
		}
	}
	if resp.Cursors != nil && resp.Cursors.After != "" {
		if ms, err := strconv.ParseInt(resp.Cursors.After, 10, 64); err == nil && ms >= newestMS {
			newest = resp.Cursors.After
		}
	}
	page.Cursor = cursorOf(spotifyPlayCursor{After: newest})
	return page, nil
}

// spotifyTopCursor: during a run, Next is the time range still to fetch;
// after a complete run, Done is the snapshot date (UTC) it was taken on. A
// snapshot is taken once per day.
type spotifyTopCursor struct {
	Next string `json:"next,omitempty"`
	Date string `json:"date,omitempty"`
	Done string `json:"done,omitempty"`
}

// spotifyTop reads GET /me/top/{artists|tracks}?time_range=…&limit=50, a
// paging object {"href","items":[…],"limit":50,"next","offset":0,"previous","total"}
// whose items are artist objects {"id","name","genres":[…],"popularity","uri",…}
// or track objects. One fetch per time range (the top 50 is the snapshot);
// items are keyed by time range, snapshot date and id, so each day's ranking
// is kept beside the earlier ones.
func spotifyTop(kind string, dataType DataType) Fetcher {
	return func(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
		var cur spotifyTopCursor
		ok := readCursor(raw, &cur)
		now := p.now().UTC()
		today := now.Format(time.DateOnly)
		if cur.Next != "" && cur.Date != today {
			// A snapshot left unfinished on an earlier day starts over
			// under today's date rather than mixing two days.
			cur = spotifyTopCursor{}
		}
		if cur.Next == "" {
			if cur.Done == today {
				return Page{Cursor: raw, NotModified: true}, nil
			}
			cur = spotifyTopCursor{Next: spotifyTimeRanges[0], Date: today}
		}
		timeRange := cur.Next
		q := url.Values{"time_range": {timeRange}, "limit": {"50"}}
		var resp struct {
			Offset int               `json:"offset"`
			Items  []json.RawMessage `json:"items"`
		}
		if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/me/top/"+kind, q), token, nil, &resp); err != nil {
			return Page{}, err
		}
		page := Page{Reset: !ok}
		for i, rawItem := range resp.Items {
			rank := resp.Offset + i + 1
			var id string
			var pl any
			if kind == "artists" {
				var a struct {
					spotifyArtist
					URI        string   `json:"uri"`
					Genres     []string `json:"genres"`
					Popularity int      `json:"popularity"`
				}
				if err := json.Unmarshal(rawItem, &a); err != nil {
					return Page{}, err
				}
				id = a.ID
				pl = SpotifyTopArtistPayload{SourceAPI, timeRange, cur.Date, rank, a.ID, a.URI, a.Name, nonNil(a.Genres), a.Popularity}
			} else {
				var t spotifyTrack
				if err := json.Unmarshal(rawItem, &t); err != nil {
					return Page{}, err
				}
				id = t.ID
				artists := make([]string, len(t.Artists))
				for i, a := range t.Artists {
					artists[i] = a.Name
				}
				pl = SpotifyTopTrackPayload{SourceAPI, timeRange, cur.Date, rank, t.ID, t.URI, t.Name, artists, t.Album.Name, t.DurationMS, t.Popularity}
			}
			if id == "" {
				continue
			}
			payload, err := payloadOf(pl)
			if err != nil {
				return Page{}, err
			}
			page.Items = append(page.Items, Item{
				DataType:   dataType,
				ExternalID: timeRange + ":" + cur.Date + ":" + id,
				OccurredAt: now,
				Payload:    payload,
			})
		}
		next := ""
		for i, r := range spotifyTimeRanges {
			if r == timeRange && i+1 < len(spotifyTimeRanges) {
				next = spotifyTimeRanges[i+1]
			}
		}
		if next == "" {
			page.Cursor = cursorOf(spotifyTopCursor{Done: cur.Date})
		} else {
			page.Cursor = cursorOf(spotifyTopCursor{Next: next, Date: cur.Date})
			page.More = true
		}
		return page, nil
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
