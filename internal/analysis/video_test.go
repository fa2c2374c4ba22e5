package analysis

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

func TestYouTubeCategories(t *testing.T) {
	tests := map[string]string{"1": "Film & Animation", "10": "Music", "20": "Gaming", "25": "News & Politics", "28": "Science & Technology", "44": "Trailers", "3": "", "": "", "99": ""}
	for id, want := range tests {
		if got := YouTubeCategoryName(id); got != want {
			t.Errorf("category %q = %q, want %q", id, got, want)
		}
	}
	for id, c := range youtubeCategories {
		owner, ok := c.Subcluster.Cluster()
		if !ok || owner == "" {
			t.Errorf("category %s maps to unknown subcluster %q", id, c.Subcluster)
		}
	}
}

func likes(counts map[string]int) []Video {
	var out []Video
	i := 0
	for id, n := range counts {
		for range n {
			out = append(out, Video{At: at(i%10, 12), CategoryID: id, Source: VideoLike, Channel: fmt.Sprint("ch", i%4)})
			i++
		}
	}
	return out
}

func TestVideoInterests(t *testing.T) {
	tests := []struct {
		name     string
		counts   map[string]int
		wantKeys []string
	}{
		{"below minimum", map[string]int{"20": 19}, nil},
		{"gaming and news", map[string]int{"20": 20, "25": 10}, []string{"video.interest.gaming", "video.interest.news-politics"}},
		{"small share left out", map[string]int{"20": 60, "10": 6}, []string{"video.interest.gaming"}},
		{"unknown category ignored", map[string]int{"20": 10, "999": 40}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Videos(likes(tt.counts), time.UTC)
			var got []string
			for _, in := range d.Insights {
				if strings.HasPrefix(in.Key, "video.interest.") {
					got = append(got, in.Key)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.wantKeys) {
				t.Fatalf("interests %v, want %v", got, tt.wantKeys)
			}
		})
	}
	d := Videos(likes(map[string]int{"20": 20, "25": 10}), time.UTC)
	news := mustInsight(t, d.Insights, "video.interest.news-politics")
	game := mustInsight(t, d.Insights, "video.interest.gaming")
	if news.Sensitivity <= game.Sensitivity {
		t.Errorf("news sensitivity %d not above gaming %d", news.Sensitivity, game.Sensitivity)
	}
	if game.Cluster != privacy.Personal || game.Subcluster != privacy.HobbiesInterests {
		t.Errorf("gaming lands in %s/%s", game.Cluster, game.Subcluster)
	}
	if music := Videos(likes(map[string]int{"10": 25}), time.UTC); mustInsight(t, music.Insights, "video.interest.music").Cluster != privacy.Creative {
		t.Error("music videos not in the creative cluster")
	}
}

func TestVideoRhythmAndChannels(t *testing.T) {
	watches := func(n, days int, hour int) []Video {
		out := make([]Video, n)
		for i := range out {
			out[i] = Video{At: at(i%days, hour), Source: VideoWatch, Channel: []string{"Big", "Big", "Small"}[i%3]}
		}
		return out
	}
	tests := []struct {
		name      string
		videos    []Video
		wantTitle string
	}{
		{"late night", watches(60, 10, 23), "Late-night watcher"},
		{"evening", watches(60, 10, 19), "Evening watcher"},
		{"daytime", watches(60, 10, 13), "Watches through the day"},
		{"too few", watches(49, 10, 23), ""},
		{"too few days", watches(60, 6, 23), ""},
		{"likes are not watches", func() []Video {
			v := watches(60, 10, 23)
			for i := range v {
				v[i].Source = VideoLike
			}
			return v
		}(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Videos(tt.videos, time.UTC)
			in, ok := findInsight(t, d.Insights, "video.rhythm")
			if tt.wantTitle == "" {
				if ok {
					t.Fatalf("rhythm %q from too little data", in.Title)
				}
				return
			}
			if in.Title != tt.wantTitle {
				t.Fatalf("title %q, want %q", in.Title, tt.wantTitle)
			}
			ch := mustInsight(t, d.Insights, "video.channels")
			if ch.Evidence[0].Label != "Big" || ch.Evidence[0].Value != "40 videos" {
				t.Errorf("top channel %+v", ch.Evidence[0])
			}
		})
	}
}
