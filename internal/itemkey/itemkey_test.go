package itemkey

import (
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

func TestNormalizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Daft Punk", "daft punk"},
		{"  DAFT \t  PUNK\n", "daft punk"},
		{"\uff24\uff41\uff46\uff54", "daft"},
		{"Bjo\u0308rk", "bj\u00f6rk"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeName(tt.in); got != tt.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzNormalizeASCII checks the in-place ASCII normalisation the key
// hashes use against NormalizeName.
func FuzzNormalizeASCII(f *testing.F) {
	for _, s := range []string{"", " ", "Daft Punk", "  DAFT \t\n PUNK  ", "a\vb\fc\rd", "AC/DC", "x\x00y", "\x85"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !isPlainASCII(s) {
			return
		}
		if got, want := string(appendNormalizedASCII(nil, s)), NormalizeName(s); got != want {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	})
}
