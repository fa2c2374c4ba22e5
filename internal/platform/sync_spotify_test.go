package platform_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/itemkey"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestSpotifyRecentlyPlayedResumesFromCursor(t *testing.T) {
	c := connect(t, platform.Spotify)
	api := platformtest.ServeSpotifyAPI(c.f, 55)
	s := stream(t, c.p, "recently_played")

	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	// Only the latest 50 plays exist on Spotify's side.
	if len(first.items) != 50 || first.pages != 1 {
		t.Fatalf("first run: %d items in %d pages, want 50 in 1", len(first.items), first.pages)
	}
	newest := platformtest.SpotifyHistoryStart.Add(54 * 4 * time.Minute)
	wantCursor := `{"after":"` + itoa(newest.UnixMilli()) + `"}`
	if string(first.cursor) != wantCursor {
		t.Errorf("cursor = %s, want %s", first.cursor, wantCursor)
	}
	noDuplicates(t, first.items)

	later := newest.Add(5 * time.Minute)
	api.AddPlays(platformtest.SpotifySongPlay(1, later), platformtest.SpotifySongPlay(2, later.Add(4*time.Minute)))
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	if len(second.items) != 2 {
		t.Fatalf("second run: %d items, want only the 2 new plays", len(second.items))
	}
	reqs := api.RequestURIs()
	last, _ := url.Parse(reqs[len(reqs)-1])
	if got := last.Query().Get("after"); got != itoa(newest.UnixMilli()) {
		t.Errorf("second run asked after=%q, want the stored cursor %d", got, newest.UnixMilli())
	}

	// A run with nothing new is an empty page, not an error, and keeps the cursor.
	third := runStream(t, c, s, second.cursor)
	if third.err != nil || len(third.items) != 0 || string(third.cursor) != string(second.cursor) {
		t.Errorf("third run: %d items, cursor %s (was %s), err %v", len(third.items), third.cursor, second.cursor, third.err)
	}
}

func TestSpotifyPlayUsesTheImporterKey(t *testing.T) {
	c := connect(t, platform.Spotify)
	api := platformtest.ServeSpotifyAPI(c.f, 0)
	at := time.Date(2021, 3, 4, 12, 34, 56, 789e6, time.UTC)
	api.AddPlays(platformtest.SpotifyPlay{TrackID: "69kOkLUCkxIZYexIgSG8rq", Track: "Get Lucky (feat. Pharrell Williams and Nile Rodgers)",
		Artists: []string{"Daft Punk", "Pharrell Williams"}, Album: "Random Access Memories", DurationMS: 248413, PlayedAt: at, ContextType: "album"})
	res := runStream(t, c, stream(t, c.p, "recently_played"), nil)
	if res.err != nil || len(res.items) != 1 {
		t.Fatalf("items %d, err %v", len(res.items), res.err)
	}
	it := res.items[0]
	// The extended streaming history names the same play
	// ts 2021-03-04T12:34:57Z, master_metadata_album_artist_name "Daft Punk".
	export := itemkey.SpotifyPlayID("Daft Punk", "Get Lucky (feat. Pharrell Williams and Nile Rodgers)", time.Date(2021, 3, 4, 12, 34, 57, 0, time.UTC))
	if it.DataType != platform.DataSpotifyPlay || it.ExternalID != export {
		t.Errorf("item %s/%s, want %s/%s (the export's key)", it.DataType, it.ExternalID, platform.DataSpotifyPlay, export)
	}
	if !it.OccurredAt.Equal(at) {
		t.Errorf("OccurredAt = %v, want %v", it.OccurredAt, at)
	}
	var pl map[string]any
	if err := json.Unmarshal(it.Payload, &pl); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]any{"source": "api", "track_id": "69kOkLUCkxIZYexIgSG8rq", "track_uri": "spotify:track:69kOkLUCkxIZYexIgSG8rq",
		"album": "Random Access Memories", "duration_ms": 248413.0, "context_type": "album", "played_at": "2021-03-04T12:34:56.789Z"} {
		if pl[k] != want {
			t.Errorf("payload %s = %v, want %v", k, pl[k], want)
		}
	}
	if strings.Contains(string(it.Payload), "audio_features") || strings.Contains(string(it.Payload), "energy") {
		t.Error("payload mentions audio features, which Spotify removed")
	}
}

func TestSpotifyTopSnapshots(t *testing.T) {
	for _, tc := range []struct {
		stream   string
		dataType platform.DataType
		kindPath string
	}{
		{"top_artists", platform.DataSpotifyTopArtist, "/v1/me/top/artists"},
		{"top_tracks", platform.DataSpotifyTopTrack, "/v1/me/top/tracks"},
	} {
		t.Run(tc.stream, func(t *testing.T) {
			c := connect(t, platform.Spotify)
			api := platformtest.ServeSpotifyAPI(c.f, 0)
			s := stream(t, c.p, tc.stream)
			first := runStream(t, c, s, nil)
			if first.err != nil {
				t.Fatal(first.err)
			}
			if first.pages != 3 || len(first.items) != 9 {
				t.Fatalf("first run: %d items in %d pages, want 9 in 3 (one per time range)", len(first.items), first.pages)
			}
			noDuplicates(t, first.items)
			ranges := map[string]int{}
			for _, it := range first.items {
				if it.DataType != tc.dataType {
					t.Errorf("data type %q", it.DataType)
				}
				tr, rest, _ := strings.Cut(it.ExternalID, ":")
				if !strings.HasPrefix(rest, "2026-03-14:") {
					t.Errorf("ExternalID %q lacks the snapshot date", it.ExternalID)
				}
				ranges[tr]++
			}
			if ranges["short_term"] != 3 || ranges["medium_term"] != 3 || ranges["long_term"] != 3 {
				t.Errorf("items per range %v", ranges)
			}
			for _, u := range api.RequestURIs() {
				if !strings.HasPrefix(u, tc.kindPath+"?") {
					t.Errorf("request %s", u)
				}
			}

			// Same day: the snapshot is already taken.
			again := runStream(t, c, s, first.cursor)
			if again.err != nil || len(again.items) != 0 || !again.last.NotModified {
				t.Errorf("same-day run: %d items, NotModified %v, err %v", len(again.items), again.last.NotModified, again.err)
			}

			// Next day: a new dated snapshot beside the old one.
			c.p = c.p.WithClock(clockwork.NewFakeClockAt(t0.Add(24 * time.Hour)))
			s = stream(t, c.p, tc.stream)
			api.SetTopArtists("short_term", "Nina Simone")
			next := runStream(t, c, s, first.cursor)
			if next.err != nil {
				t.Fatal(next.err)
			}
			if len(next.items) != 7 {
				t.Errorf("next-day run: %d items, want 7", len(next.items))
			}
			for _, it := range next.items {
				if !strings.Contains(it.ExternalID, ":2026-03-15:") {
					t.Errorf("ExternalID %q is not dated the next day", it.ExternalID)
				}
			}
		})
	}
}

func TestSpotifyTopUnfinishedSnapshotStartsOverNextDay(t *testing.T) {
	c := connect(t, platform.Spotify)
	platformtest.ServeSpotifyAPI(c.f, 0)
	s := stream(t, c.p, "top_tracks")
	page1, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	if err != nil || !page1.More {
		t.Fatalf("page 1: More %v, err %v", page1.More, err)
	}
	// The run breaks off; the next attempt comes the next day.
	c.p = c.p.WithClock(clockwork.NewFakeClockAt(t0.Add(24 * time.Hour)))
	res := runStream(t, c, stream(t, c.p, "top_tracks"), page1.Cursor)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.pages != 3 || len(res.items) != 9 {
		t.Fatalf("%d items in %d pages, want a whole new snapshot (9 in 3)", len(res.items), res.pages)
	}
	for _, it := range res.items {
		if !strings.Contains(it.ExternalID, ":2026-03-15:") {
			t.Errorf("ExternalID %q mixes in the earlier day", it.ExternalID)
		}
	}
}
