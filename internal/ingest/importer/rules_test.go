package importer

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSpotifyPlayID(t *testing.T) {
	end := time.Date(2021, 3, 4, 12, 34, 56, 0, time.UTC)
	base := SpotifyPlayID("Daft Punk", "Get Lucky", end)
	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{"API played_at with milliseconds", base, SpotifyPlayID("Daft Punk", "Get Lucky", time.Date(2021, 3, 4, 12, 34, 56, 789e6, time.UTC)), true},
		{"account data minute precision", base, SpotifyPlayID("Daft Punk", "Get Lucky", time.Date(2021, 3, 4, 12, 34, 0, 0, time.UTC)), true},
		{"same instant in another zone", base, SpotifyPlayID("Daft Punk", "Get Lucky", end.In(time.FixedZone("CET", 3600))), true},
		{"case and spacing", base, SpotifyPlayID("  DAFT   punk ", "get lucky", end), true},
		{"NFKC: full-width letters", base, SpotifyPlayID("Ｄａｆｔ Ｐｕｎｋ", "Get Lucky", end), true},
		{"NFC vs NFD accents", SpotifyPlayID("Bj\u00f6rk", "J\u00f3ga", end), SpotifyPlayID("Bjo\u0308rk", "Jo\u0301ga", end), true},
		{"next minute", base, SpotifyPlayID("Daft Punk", "Get Lucky", end.Add(time.Minute)), false},
		// The documented trade-off: sources a second apart across a minute
		// boundary do not meet.
		{"across a minute boundary", SpotifyPlayID("Daft Punk", "Get Lucky", time.Date(2021, 3, 4, 12, 34, 59, 0, time.UTC)),
			SpotifyPlayID("Daft Punk", "Get Lucky", time.Date(2021, 3, 4, 12, 35, 0, 0, time.UTC)), false},
		{"another track", base, SpotifyPlayID("Daft Punk", "Lose Yourself to Dance", end), false},
		{"another artist", base, SpotifyPlayID("Daft Punk Tribute Band", "Get Lucky", end), false},
		{"names do not run together", SpotifyPlayID("ab", "c", end), SpotifyPlayID("a", "bc", end), false},
		{"an episode with the same names", base, SpotifyEpisodePlayID("Daft Punk", "Get Lucky", end), false},
		{"an audiobook with the same names", base, SpotifyAudiobookPlayID("Daft Punk", "Get Lucky", end), false},
	}
	for _, tt := range tests {
		if got := tt.a == tt.b; got != tt.same {
			t.Errorf("%s: %s vs %s: same = %v, want %v", tt.name, tt.a, tt.b, got, tt.same)
		}
	}
	if want := "play:202103041234:"; base[:len(want)] != want || len(base) != len(want)+24 {
		t.Errorf("id %q: want prefix %q and a 24-hex-digit hash", base, want)
	}
}

func TestYouTubeIDs(t *testing.T) {
	at := time.Date(2023, 2, 11, 21, 4, 5, 123e6, time.UTC)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"watch", YouTubeWatchID("cNN_tTXABUA", at), "watch:cNN_tTXABUA:20230211T210405.123Z"},
		{"watch in another zone", YouTubeWatchID("cNN_tTXABUA", at.In(time.FixedZone("X", -7200))), "watch:cNN_tTXABUA:20230211T210405.123Z"},
		{"removed video", YouTubeWatchID("", at), "watch:removed:20230211T210405.123Z"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	if YouTubeSearchID("Sault Solar", at) != YouTubeSearchID("sault  solar", at) {
		t.Error("search IDs must compare normalised queries")
	}
	if YouTubeSearchID("sault solar", at) == YouTubeSearchID("sault", at) {
		t.Error("different queries at the same time must differ")
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
