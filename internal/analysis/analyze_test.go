package analysis

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

func TestAnalyzeEmptyUser(t *testing.T) {
	res := Analyze(Input{}, nil, monday)
	if len(res.Insights) != 0 || len(res.Traits) != 0 {
		t.Fatalf("empty user got insights %v traits %v", keysOf(res.Insights), res.Traits)
	}
	if len(res.Embedding) != EmbeddingSize || !IsZero(res.Embedding) {
		t.Errorf("embedding %v", res.Embedding)
	}
	if len(res.Completeness) != 3 {
		t.Fatalf("completeness for %d clusters, want 3", len(res.Completeness))
	}
	for _, cc := range res.Completeness {
		if cc.Score != 0 || len(cc.Missing) == 0 || len(cc.Missing) != len(cc.Sources) {
			t.Errorf("%s: score %v missing %v of %d sources", cc.Cluster, cc.Score, cc.Missing, len(cc.Sources))
		}
		for _, s := range cc.Sources {
			if s.Ready || s.Hint == "" {
				t.Errorf("%s/%s: ready %v hint %q", cc.Cluster, s.Source, s.Ready, s.Hint)
			}
		}
	}
	byCluster := map[privacy.Cluster][]string{}
	for _, cc := range res.Completeness {
		byCluster[cc.Cluster] = cc.Missing
	}
	if !slices.Contains(byCluster[privacy.Creative], SourceSpotify) || !slices.Contains(byCluster[privacy.Professional], SourceGitHub) {
		t.Errorf("missing lists %v", byCluster)
	}
}

func TestAnalyzePartialUser(t *testing.T) {
	plays := spread(60, 10, []int{20}, constArtist("A"))
	res := Analyze(Input{Plays: plays}, time.UTC, at(30, 0))
	for _, cc := range res.Completeness {
		switch cc.Cluster {
		case privacy.Creative:
			if !near(cc.Score, 0.5) || !slices.Equal(cc.Missing, []string{SourceYouTube}) {
				t.Errorf("creative: score %v missing %v; want 0.5 and youtube", cc.Score, cc.Missing)
			}
		case privacy.Professional:
			if cc.Score != 0 {
				t.Errorf("professional score %v with music only", cc.Score)
			}
		}
	}
	for _, in := range res.Insights {
		if !strings.HasPrefix(in.Key, "music.") {
			t.Errorf("insight %q from music alone", in.Key)
		}
	}
}

func TestAnalyzeSyntheticYear(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	in := SyntheticYear(42, start)
	if len(in.Plays) != 20000 || len(in.CodeEvents) != 5000 || len(in.Observer) != 50000 {
		t.Fatalf("synthetic year has %d plays, %d events, %d observer events", len(in.Plays), len(in.CodeEvents), len(in.Observer))
	}
	now := start.AddDate(1, 0, 0)
	loc := time.FixedZone("UTC+2", 2*3600)
	res := Analyze(in, loc, now)

	seen := map[string]bool{}
	for _, ins := range res.Insights {
		if seen[ins.Key] {
			t.Errorf("duplicate insight key %q", ins.Key)
		}
		seen[ins.Key] = true
		owner, ok := ins.Subcluster.Cluster()
		if !ok || owner != ins.Cluster {
			t.Errorf("%s: subcluster %q does not belong to %q", ins.Key, ins.Subcluster, ins.Cluster)
		}
		if ins.Sensitivity < 0 || ins.Sensitivity > 100 || ins.Confidence <= 0 || ins.Confidence > 1 {
			t.Errorf("%s: sensitivity %d confidence %v", ins.Key, ins.Sensitivity, ins.Confidence)
		}
		if ins.Source != SourcePattern || ins.Title == "" || ins.Body == "" || len(ins.Evidence) == 0 {
			t.Errorf("%s: incomplete %+v", ins.Key, ins)
		}
	}
	for _, want := range []string{"music.chronotype", "video.rhythm", "coding.streaks", "mail.after-hours", "discord.communities", "browsing.attention",
		"correlation.coding.events.mail.sent", "change.music.time"} {
		if !seen[want] {
			t.Errorf("no %s insight from a full year", want)
		}
	}
	if len(res.Traits) != 5 {
		t.Errorf("%d traits from a full year, want 5", len(res.Traits))
	}
	for _, tr := range res.Traits {
		if tr.Confidence <= 0 || tr.Confidence >= 0.7 || tr.Score < 0 || tr.Score > 1 {
			t.Errorf("trait %s score %v confidence %v", tr.Name, tr.Score, tr.Confidence)
		}
	}
	for _, cc := range res.Completeness {
		if cc.Score != 1 {
			t.Errorf("%s completeness %v, missing %v", cc.Cluster, cc.Score, cc.Missing)
		}
	}

	// Same input, same result: analysis is deterministic.
	if again := Analyze(SyntheticYear(42, start), loc, now); !reflect.DeepEqual(res, again) {
		t.Error("two analyses of the same year differ")
	}
	if other := SyntheticYear(43, start); reflect.DeepEqual(other.Plays[:100], in.Plays[:100]) {
		t.Error("different seeds gave the same plays")
	}

	// Re-analysing with less data (the first half-year) yields a subset of the
	// same keys: updates, not new duplicates under new names.
	half := Input{Plays: in.Plays[:10000], CodeEvents: in.CodeEvents[:2500], Observer: in.Observer[:25000], Guilds: in.Guilds}
	for _, ins := range Analyze(half, loc, start.AddDate(0, 6, 0)).Insights {
		if !seen[ins.Key] {
			t.Errorf("half-year key %q not in the full-year keys", ins.Key)
		}
	}
}

// The result goes through privacy.Reveal before anyone else sees it.
func TestResultViewThroughReveal(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	res := Analyze(SyntheticYear(5, start), time.UTC, start.AddDate(1, 0, 0))
	v := res.View()
	if len(v.Insights) != len(res.Insights) || len(v.Traits) != len(res.Traits) {
		t.Fatalf("view has %d insights %d traits, result %d %d", len(v.Insights), len(v.Traits), len(res.Insights), len(res.Traits))
	}

	shown := func(r privacy.View) map[string]bool {
		m := map[string]bool{}
		for _, in := range r.Insights {
			m[in.Key] = true
		}
		return m
	}
	def := shown(privacy.Reveal(v, privacy.DefaultSettings(), privacy.AudienceEveryone))
	if !def["music.top-artists"] {
		t.Error("music taste (sensitivity 10) hidden at the default 50")
	}
	if def["mail.after-hours"] || def["browsing.attention"] || def["browsing.domains"] {
		t.Errorf("sensitive insights shown at the default level: %v", def)
	}

	s, _ := privacy.DefaultSettings().WithLevel(privacy.Personal, 0)
	for _, tr := range privacy.Reveal(v, s, privacy.AudienceFriends).Traits {
		for _, e := range tr.Evidence {
			if e.Cluster == privacy.Personal {
				t.Errorf("trait %s shows personal evidence %q with personal at 0", tr.Name, e.Label)
			}
		}
	}
	for _, in := range privacy.Reveal(v, s, privacy.AudienceFriends).Insights {
		if in.Cluster == privacy.Personal {
			t.Errorf("personal insight %q shown with personal at 0", in.Key)
		}
	}
}

func BenchmarkAnalyzeUserYear(b *testing.B) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	in := SyntheticYear(1, start)
	loc := time.FixedZone("UTC-5", -5*3600)
	now := start.AddDate(1, 0, 0)
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		Analyze(in, loc, now)
	}
	// CPU time per user-year next to the wall time: the budget is one
	// second of CPU per user-year, whatever else the machine is doing.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N)/1e6, "cpu-ms/op")
}
