package analysis

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMusicMinimumSample(t *testing.T) {
	now := at(30, 0)
	tests := []struct {
		name         string
		plays        []Play
		wantInsights bool
	}{
		{"no plays", nil, false},
		{"49 plays", spread(49, 10, []int{20}, constArtist("A")), false},
		{"50 plays", spread(50, 10, []int{20}, constArtist("A")), true},
		{"50 plays but 2 without artist (podcasts)", append(spread(48, 10, []int{20}, constArtist("A")), Play{At: at(1, 1)}, Play{At: at(1, 2)}), false},
		{"50 plays but one in the future", append(spread(49, 10, []int{20}, constArtist("A")), Play{At: at(40, 1), Artist: "A"}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Music(tt.plays, time.UTC, now)
			if got := len(d.Insights) > 0; got != tt.wantInsights {
				t.Fatalf("insights %v, want some: %v", keysOf(d.Insights), tt.wantInsights)
			}
			if !tt.wantInsights {
				if _, ok := d.Features[FeatMusicArtistDiversity]; ok {
					t.Error("a feature computed from too few plays")
				}
			}
		})
	}
}

func TestMusicChronotype(t *testing.T) {
	now := at(30, 0)
	plus10 := time.FixedZone("UTC+10", 10*3600)
	tests := []struct {
		name      string
		hours     []int
		days      int
		loc       *time.Location
		wantTitle string // "" = no chronotype insight
		wantFeat  string // feature that must be the largest of the three
	}{
		{"morning", []int{6, 7, 8, 9}, 10, time.UTC, "Morning listener", FeatMusicMorning},
		{"evening", []int{18, 19, 20, 21}, 10, time.UTC, "Evening listener", FeatMusicEvening},
		{"night", []int{23, 0, 1, 2}, 10, time.UTC, "Night owl", FeatMusicNight},
		{"whole day", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}, 10, time.UTC, "Listens around the clock", ""},
		{"UTC evening is a morning in UTC+10", []int{20, 21, 22}, 10, plus10, "Morning listener", FeatMusicMorning},
		{"all in 3 days is not a rhythm", []int{6, 7, 8}, 3, time.UTC, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := 24 * 5 // divisible by every hour list above
			d := Music(spread(n, tt.days, tt.hours, constArtist("A")), tt.loc, now)
			in, ok := findInsight(t, d.Insights, "music.chronotype")
			if tt.wantTitle == "" {
				if ok {
					t.Fatalf("chronotype insight %q from %d days", in.Title, tt.days)
				}
				return
			}
			if !ok || in.Title != tt.wantTitle {
				t.Fatalf("title %q, want %q", in.Title, tt.wantTitle)
			}
			m, e, nt := d.Features[FeatMusicMorning], d.Features[FeatMusicEvening], d.Features[FeatMusicNight]
			if !near(m+e+nt, 1) {
				t.Errorf("chronotype scores sum to %v", m+e+nt)
			}
			if tt.wantFeat != "" && d.Features[tt.wantFeat] < max(m, e, nt) {
				t.Errorf("%s = %v is not the largest of %v %v %v", tt.wantFeat, d.Features[tt.wantFeat], m, e, nt)
			}
			if in.Cluster != "personal" || in.Subcluster != "health-wellness" {
				t.Errorf("cluster %s/%s", in.Cluster, in.Subcluster)
			}
		})
	}
}

func TestMusicChronotypeConfidenceGrowsWithSampleAndClarity(t *testing.T) {
	now := at(60, 0)
	conf := func(n int, hours []int) float64 {
		d := Music(spread(n, 30, hours, constArtist("A")), time.UTC, now)
		return mustInsight(t, d.Insights, "music.chronotype").Confidence
	}
	small, large := conf(60, []int{20}), conf(3000, []int{20})
	if !(small < large && large < 1) {
		t.Errorf("confidence 60 plays %v, 3000 plays %v: want growing, below 1", small, large)
	}
	clear, mixed := conf(600, []int{20}), conf(600, []int{20, 20, 8})
	if !(mixed < clear) {
		t.Errorf("mixed morning/evening confidence %v not below clear evening %v", mixed, clear)
	}
}

func TestMusicDiversity(t *testing.T) {
	now := at(30, 0)
	tests := []struct {
		name      string
		artist    func(i int) string
		want      float64
		wantTitle string
	}{
		{"one artist", constArtist("A"), 0, "Focused listener"},
		{"every play a new artist", func(i int) string { return fmt.Sprint("A", i) }, 1, "Eclectic listener"},
		{"two artists evenly", func(i int) string { return fmt.Sprint("A", i%2) }, 0.1773, "Focused listener"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Music(spread(50, 10, []int{20}, tt.artist), time.UTC, now)
			got := d.Features[FeatMusicArtistDiversity]
			if got < tt.want-0.001 || got > tt.want+0.001 {
				t.Errorf("artist diversity %v, want %v", got, tt.want)
			}
			if in := mustInsight(t, d.Insights, "music.diversity"); in.Title != tt.wantTitle {
				t.Errorf("title %q, want %q", in.Title, tt.wantTitle)
			}
		})
	}
}

func TestMusicGenres(t *testing.T) {
	now := at(30, 0)
	withGenres := func(n int, genres ...[]string) []Play {
		ps := spread(n, 10, []int{20}, constArtist("A"))
		for i := range ps {
			ps[i].Genres = genres[i%len(genres)]
		}
		return ps
	}
	t.Run("too few plays with genres", func(t *testing.T) {
		ps := withGenres(60, []string{"jazz"}, nil, nil)
		d := Music(ps, time.UTC, now)
		if _, ok := d.Features[FeatMusicGenreDiversity]; ok {
			t.Error("genre diversity from 20 plays with genres")
		}
		if _, ok := findInsight(t, d.Insights, "music.top-genres"); ok {
			t.Error("top genres from 20 plays with genres")
		}
	})
	t.Run("Rentfrow-Gosling shares", func(t *testing.T) {
		d := Music(withGenres(100, []string{"Jazz"}, []string{"indie pop", "hard rock"}), time.UTC, now)
		want := map[string]float64{
			FeatMusicReflectiveComplex: 0.5, FeatMusicUpbeatConvention: 0.25,
			FeatMusicIntenseRebellious: 0.25, FeatMusicEnergeticRhythmic: 0,
		}
		for f, w := range want {
			if !near(d.Features[f], w) {
				t.Errorf("%s = %v, want %v", f, d.Features[f], w)
			}
		}
		in := mustInsight(t, d.Insights, "music.top-genres")
		if in.Evidence[0].Label != "jazz" || in.Evidence[0].Value != "50%" {
			t.Errorf("top genre evidence %+v", in.Evidence[0])
		}
	})
}

func TestMusicDiscovery(t *testing.T) {
	now := at(100, 0)
	old := func(n int) []Play { // before the 30-day window
		ps := make([]Play, n)
		for i := range ps {
			ps[i] = Play{At: at(i%50, 20), Artist: "Old"}
		}
		return ps
	}
	recent := func(n, fresh int) []Play {
		ps := make([]Play, n)
		for i := range ps {
			ps[i] = Play{At: at(75+i%20, 20), Artist: "Old"}
			if i < fresh {
				ps[i].Artist = fmt.Sprint("New", i%3)
			}
		}
		return ps
	}
	tests := []struct {
		name string
		in   []Play
		want float64 // −1: no discovery feature
	}{
		{"quarter new", append(old(60), recent(40, 10)...), 0.25},
		{"nothing new", append(old(60), recent(40, 0)...), 0},
		{"too little history", append(old(49), recent(40, 10)...), -1},
		{"too little recent listening", append(old(60), recent(19, 5)...), -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Music(tt.in, time.UTC, now)
			got, ok := d.Features[FeatMusicDiscovery]
			if tt.want < 0 {
				if ok {
					t.Fatalf("discovery %v from too little data", got)
				}
				return
			}
			if !ok || !near(got, tt.want) {
				t.Fatalf("discovery %v (present %v), want %v", got, ok, tt.want)
			}
			if tt.want == 0 {
				// "0 new artists" is not a finding: the feature feeds the
				// estimates, no insight is stored.
				if _, ok := findInsight(t, d.Insights, "music.discovery"); ok {
					t.Fatal("an insight about no new artists")
				}
				return
			}
			in := mustInsight(t, d.Insights, "music.discovery")
			if !strings.Contains(in.Body, "3 new artists") {
				t.Errorf("body %q does not count 3 new artists", in.Body)
			}
		})
	}
}

func TestIsSkip(t *testing.T) {
	tests := []struct {
		name        string
		p           Play
		skip, known bool
	}{
		{"no data (Web API)", Play{}, false, false},
		{"skipped flag", Play{Skipped: bptr(true)}, true, true},
		{"not skipped, track done", Play{Skipped: bptr(false), ReasonEnd: "trackdone"}, false, true},
		{"flag false but next pressed", Play{Skipped: bptr(false), ReasonEnd: "fwdbtn"}, true, true},
		{"flag null, next pressed", Play{ReasonEnd: "fwdbtn"}, true, true},
		{"flag null, ended by logout", Play{ReasonEnd: "logout"}, false, true},
	}
	for _, tt := range tests {
		skip, known := isSkip(tt.p)
		if skip != tt.skip || known != tt.known {
			t.Errorf("%s: got %v, %v; want %v, %v", tt.name, skip, known, tt.skip, tt.known)
		}
	}
}

func TestMusicSkipsAndRepeats(t *testing.T) {
	now := at(30, 0)
	ps := spread(100, 10, []int{20}, constArtist("A")) // tracks t0…t6
	for i := range ps {
		if i < 60 { // 60 plays with skip data, 15 of them skipped
			ps[i].Skipped = bptr(i < 15)
			ps[i].ReasonEnd = "trackdone"
		}
	}
	d := Music(ps, time.UTC, now)
	if got := d.Features[FeatMusicSkipRate]; !near(got, 0.25) {
		t.Errorf("skip rate %v, want 0.25 (15 of 60 known)", got)
	}
	if in := mustInsight(t, d.Insights, "music.skips"); in.Title != "Skips now and then" {
		t.Errorf("skip title %q", in.Title)
	}
	if got := d.Features[FeatMusicRepeatRatio]; !near(got, 1-7.0/100) {
		t.Errorf("repeat ratio %v, want 0.93", got)
	}
	rep := mustInsight(t, d.Insights, "music.repeats")
	if rep.Evidence[1].Label != "t0 — A" {
		t.Errorf("most repeated track evidence %+v", rep.Evidence[1])
	}

	// Without skip data (recently-played API) there is no skip insight.
	d = Music(spread(100, 10, []int{20}, constArtist("A")), time.UTC, now)
	if _, ok := d.Features[FeatMusicSkipRate]; ok {
		t.Error("skip rate without skip data")
	}
}

func TestTopByMonth(t *testing.T) {
	plus1 := time.FixedZone("UTC+1", 3600)
	ps := []Play{
		{At: time.Date(2025, 1, 5, 12, 0, 0, 0, time.UTC), Artist: "A", Genres: []string{"jazz"}},
		{At: time.Date(2025, 1, 6, 12, 0, 0, 0, time.UTC), Artist: "A", Genres: []string{"jazz"}},
		{At: time.Date(2025, 1, 7, 12, 0, 0, 0, time.UTC), Artist: "B", Genres: []string{"rock"}},
		// 23:30 UTC on 31 January is already February in UTC+1.
		{At: time.Date(2025, 1, 31, 23, 30, 0, 0, time.UTC), Artist: "C"},
		{At: time.Date(2025, 2, 10, 12, 0, 0, 0, time.UTC), Artist: "C"},
		{At: time.Date(2025, 2, 11, 12, 0, 0, 0, time.UTC), Artist: "B"},
		{At: time.Date(2025, 2, 12, 12, 0, 0, 0, time.UTC)}, // podcast: no artist
	}
	got := TopByMonth(ps, plus1)
	want := []MonthTop{
		{Month: "2025-01", Plays: 3, Artist: "A", ArtistPlays: 2, Genre: "jazz"},
		{Month: "2025-02", Plays: 3, Artist: "C", ArtistPlays: 2},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if got := TopByMonth(ps, time.UTC); got[1].Plays != 2 {
		t.Errorf("in UTC February has %d plays, want 2", got[1].Plays)
	}
}

func TestMusicEvolution(t *testing.T) {
	month := func(m time.Month, artist string, n int) []Play {
		ps := make([]Play, n)
		for i := range ps {
			ps[i] = Play{At: time.Date(2025, m, 1+i%25, 20, 0, 0, 0, time.UTC), Artist: artist}
		}
		return ps
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	var ps []Play
	ps = append(ps, month(1, "A", 20)...)
	ps = append(ps, month(2, "B", 20)...)
	ps = append(ps, month(3, "B", 19)...) // too thin a month to count
	ps = append(ps, month(4, "C", 20)...)
	d := Music(ps, time.UTC, now)
	in := mustInsight(t, d.Insights, "music.evolution")
	if got := d.Features[FeatMusicArtistTurnover]; !near(got, 1) {
		t.Errorf("turnover %v, want 1 (A → B → C over the three full months)", got)
	}
	if in.Evidence[0].Label != "2025-04" || len(in.Evidence) != 3 {
		t.Errorf("evidence %+v, want three months, latest first", in.Evidence)
	}
	// The same top artist every month is no change: nothing to say.
	d = Music(append(append(month(1, "A", 30), month(2, "A", 30)...), month(3, "A", 30)...), time.UTC, now)
	if in, ok := findInsight(t, d.Insights, "music.evolution"); ok {
		t.Errorf("evolution without a change: %s", in.Body)
	}
	// Months with the same top artist are one evidence row.
	d = Music(append(append(append(month(1, "A", 30), month(2, "B", 30)...), month(3, "B", 30)...), month(4, "B", 30)...), time.UTC, now)
	in = mustInsight(t, d.Insights, "music.evolution")
	if len(in.Evidence) != 2 || in.Evidence[0].Label != "2025-02 – 2025-04" || in.Evidence[0].Value != "B (90 of 90 plays)" {
		t.Errorf("evidence %+v", in.Evidence)
	}
	// Two full months are not a trend.
	d = Music(append(month(1, "A", 30), month(2, "B", 30)...), time.UTC, now)
	if _, ok := findInsight(t, d.Insights, "music.evolution"); ok {
		t.Error("evolution from two months")
	}
}
