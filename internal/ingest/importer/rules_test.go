package importer

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/itemkey"
	"github.com/twinme/twinme/internal/platform"
)

// The ID functions live in itemkey and the data types in platform (the API
// poller uses them too); the importer's names must stay the same, or
// exported and API items stop meeting in the upsert.
func TestIDsAreItemkeys(t *testing.T) {
	end := time.Date(2021, 3, 4, 12, 34, 56, 0, time.UTC)
	pairs := []struct{ name, got, want string }{
		{"play", SpotifyPlayID("Daft Punk", "Get Lucky", end), itemkey.SpotifyPlayID("Daft Punk", "Get Lucky", end)},
		{"episode", SpotifyEpisodePlayID("Show", "Ep 1", end), itemkey.SpotifyEpisodePlayID("Show", "Ep 1", end)},
		{"audiobook", SpotifyAudiobookPlayID("Book", "Ch 1", end), itemkey.SpotifyAudiobookPlayID("Book", "Ch 1", end)},
		{"watch", YouTubeWatchID("cNN_tTXABUA", end), itemkey.YouTubeWatchID("cNN_tTXABUA", end)},
		{"search", YouTubeSearchID("sault solar", end), itemkey.YouTubeSearchID("sault solar", end)},
		{"normalize", NormalizeName(" DAFT  Punk"), itemkey.NormalizeName(" DAFT  Punk")},
		{"data type play", string(DataPlay), string(platform.DataSpotifyPlay)},
		{"data type episode", string(DataEpisodePlay), string(platform.DataSpotifyEpisodePlay)},
		{"data type audiobook", string(DataAudiobookPlay), string(platform.DataSpotifyAudiobookPlay)},
		{"data type watch", string(DataWatch), string(platform.DataYouTubeWatch)},
		{"data type search", string(DataSearch), string(platform.DataYouTubeSearch)},
	}
	for _, p := range pairs {
		if p.got != p.want {
			t.Errorf("%s: importer %q, itemkey %q", p.name, p.got, p.want)
		}
	}
}

func TestContentHash(t *testing.T) {
	h := func(p string) string { return Record{Payload: json.RawMessage(p)}.ContentHash() }
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"key order", `{"a":1,"b":"x"}`, `{"b":"x","a":1}`, true},
		{"whitespace", `{"a":1,"b":[1,2]}`, "{ \"a\" : 1,\n \"b\" : [1, 2] }", true},
		{"nested key order", `{"o":{"x":1,"y":2}}`, `{"o":{"y":2,"x":1}}`, true},
		{"changed value", `{"a":1}`, `{"a":2}`, false},
		{"big numbers stay exact", `{"a":12345678901234567890}`, `{"a":12345678901234567891}`, false},
		{"added field", `{"a":1}`, `{"a":1,"b":null}`, false},
		{"invalid JSON hashes raw", `{"a":`, `{"a": `, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := h(tt.a) == h(tt.b); got != tt.same {
				t.Errorf("hash(%s) == hash(%s) is %v, want %v", tt.a, tt.b, got, tt.same)
			}
		})
	}
	if len(h(`{}`)) != 64 {
		t.Errorf("hash %q is not hex SHA-256", h(`{}`))
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name     string
		format   Format
		platform string
	}{
		{"Spotify Account Data/StreamingHistory_music_0.json", FormatSpotifyAccountMusic, PlatformSpotify},
		{"MyData/StreamingHistory0.json", FormatSpotifyAccountMusic, PlatformSpotify},
		{"StreamingHistory12.json", FormatSpotifyAccountMusic, PlatformSpotify},
		{"StreamingHistory_music_0 (1).json", FormatSpotifyAccountMusic, PlatformSpotify},
		{"StreamingHistory_podcast_0.json", FormatSpotifyAccountPodcast, PlatformSpotify},
		{"Spotify Extended Streaming History/Streaming_History_Audio_2019-2021_0.json", FormatSpotifyExtended, PlatformSpotify},
		{"Streaming_History_Audio_2024_7.json", FormatSpotifyExtended, PlatformSpotify},
		{`MyData\endsong_3.json`, FormatSpotifyExtended, PlatformSpotify},
		{"Streaming_History_Video_2019-2024.json", FormatSpotifyExtendedVideo, PlatformSpotify},
		{"Takeout/YouTube and YouTube Music/history/watch-history.json", FormatYouTubeWatch, PlatformYouTube},
		{"search-history.json", FormatYouTubeSearch, PlatformYouTube},
		{"watch-history.html", "", ""},
		{"ReadMeFirst_ExtendedStreamingHistory.pdf", "", ""},
		{"Userdata.json", "", ""},
		{"__MACOSX/Spotify Account Data/._StreamingHistory0.json", "", ""},
		{"StreamingHistory_music_0.json.bak", "", ""},
		{"Playlist1.json", "", ""},
	}
	for _, tt := range tests {
		f, p, ok := DetectFormat(tt.name)
		if f != tt.format || p != tt.platform || ok != (tt.format != "") {
			t.Errorf("DetectFormat(%q) = %q, %q, %v; want %q, %q", tt.name, f, p, ok, tt.format, tt.platform)
		}
	}
}

func TestDeviceClass(t *testing.T) {
	tests := map[string]string{
		"Android OS 9 API 28 (samsung, SM-G960F)": "android",
		"android":                      "android",
		"iOS 14.4 (iPhone12,1)":        "ios",
		"ios":                          "ios",
		"Windows 10 (10.0.19041; x64)": "windows",
		"OS X 10.15.7 [x86 8]":         "macos",
		"osx":                          "macos",
		"Linux [x86-64 0]":             "linux",
		"web_player windows 10;chrome 87.0.4280.88;desktop": "web",
		"Partner sonos_one Sonos One":                       "other",
		"":                                                  "",
	}
	for in, want := range tests {
		if got := deviceClass(in); got != want {
			t.Errorf("deviceClass(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestVideoID(t *testing.T) {
	tests := []struct {
		url     string
		id      string
		isVideo bool
	}{
		{"https://www.youtube.com/watch?v=cNN_tTXABUA", "cNN_tTXABUA", true},
		{"https://music.youtube.com/watch?v=-e8Nfjl_AKk&list=RD", "-e8Nfjl_AKk", true},
		{"https://m.youtube.com/watch?v=cNN_tTXABUA", "cNN_tTXABUA", true},
		{"https://youtu.be/cNN_tTXABUA", "cNN_tTXABUA", true},
		{"https://www.youtube.com/shorts/cNN_tTXABUA", "cNN_tTXABUA", true},
		{"https://www.youtube.com/watch?v=short", "", true},
		{"https://www.youtube.com/post/Ugkx", "", false},
		{"https://www.youtube.com/channel/UC123", "", false},
		{"https://notyoutube.com/watch?v=cNN_tTXABUA", "", false},
		{"::", "", false},
	}
	for _, tt := range tests {
		id, isVideo := videoID(tt.url)
		if id != tt.id || isVideo != tt.isVideo {
			t.Errorf("videoID(%q) = %q, %v; want %q, %v", tt.url, id, isVideo, tt.id, tt.isVideo)
		}
	}
}
