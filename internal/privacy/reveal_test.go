package privacy

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
)

func ev(n int) []Evidence {
	out := make([]Evidence, n)
	for i := range out {
		out[i] = Evidence{Label: fmt.Sprintf("e%d", i), Value: "v", Weight: float64(n - i)}
	}
	return out
}

func levels(p, pro, c int) Settings {
	s := DefaultSettings()
	s.Levels = map[Cluster]int{Personal: p, Professional: pro, Creative: c}
	return s
}

func TestKeepCount(t *testing.T) {
	tests := []struct{ n, level, want int }{
		{0, 0, 0}, {0, 100, 0}, {5, 0, 0},
		{1, 1, 1},      // any level above zero shows the top item
		{10, 1, 1},     // ceil(0.1)
		{3, 50, 2},     // ceil(1.5)
		{4, 50, 2},     // exact
		{7, 99, 7},     // ceil(6.93)
		{200, 99, 198}, // exact
		{7, 100, 7},
		{5, 101, 0}, {5, -1, 0}, // invalid level keeps nothing
	}
	for _, tt := range tests {
		if got := KeepCount(tt.n, tt.level); got != tt.want {
			t.Errorf("KeepCount(%d, %d) = %d, want %d", tt.n, tt.level, got, tt.want)
		}
	}
}

func TestRevealInsightBoundaries(t *testing.T) {
	tests := []struct {
		name        string
		level       int
		sensitivity int
		evidence    int
		wantShown   bool
		wantKept    int
	}{
		{"level 0 hides even sensitivity 0", 0, 0, 3, false, 0},
		{"level 100 shows sensitivity 100 with all evidence", 100, 100, 5, true, 5},
		{"sensitivity equal to level shows", 60, 60, 5, true, 3},
		{"sensitivity one above level hides", 60, 61, 5, false, 0},
		{"no evidence", 80, 10, 0, true, 0},
		{"ceil rounding keeps top item at level 1", 1, 0, 10, true, 1},
		{"ceil rounding 3 items at 50", 50, 20, 3, true, 2},
		{"invalid sensitivity hides", 100, 101, 3, false, 0},
		{"negative sensitivity hides", 100, -1, 3, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := View{Insights: []Insight{{Key: "k", Cluster: Creative, Subcluster: MusicalIdentity, Title: "t", Sensitivity: tt.sensitivity, Evidence: ev(tt.evidence)}}}
			out := Reveal(in, levels(100, 100, tt.level), AudienceEveryone)
			if got := len(out.Insights) == 1; got != tt.wantShown {
				t.Fatalf("shown = %v, want %v", got, tt.wantShown)
			}
			if !tt.wantShown {
				return
			}
			got := out.Insights[0].Evidence
			if len(got) != tt.wantKept {
				t.Fatalf("kept %d evidence items, want %d", len(got), tt.wantKept)
			}
			for i := range got {
				if got[i] != in.Insights[0].Evidence[i] {
					t.Errorf("evidence[%d] = %v, want the top-ranked %v", i, got[i], in.Insights[0].Evidence[i])
				}
			}
		})
	}
}

func TestRevealFailsClosed(t *testing.T) {
	good := Insight{Key: "good", Cluster: Personal, Subcluster: HobbiesInterests, Sensitivity: 10, Evidence: ev(2)}
	tests := []struct {
		name string
		in   Insight
		s    Settings
		a    Audience
		// insightOnly: the doubt is about the insight itself; the cluster's
		// summary and traits are fine and still show.
		insightOnly bool
	}{
		{"unknown cluster", Insight{Key: "x", Cluster: "secret", Sensitivity: 0}, levels(100, 100, 100), AudienceEveryone, false},
		{"empty cluster", Insight{Key: "x", Sensitivity: 0}, levels(100, 100, 100), AudienceEveryone, false},
		{"unknown subcluster", Insight{Key: "x", Cluster: Personal, Subcluster: "cooking"}, levels(100, 100, 100), AudienceEveryone, true},
		{"subcluster of another cluster", Insight{Key: "x", Cluster: Personal, Subcluster: CareerJobs}, levels(100, 100, 100), AudienceEveryone, true},
		{"insight sensitivity above 100", Insight{Key: "x", Cluster: Personal, Sensitivity: 101}, levels(100, 100, 100), AudienceEveryone, true},
		{"missing setting", good, Settings{Levels: map[Cluster]int{Professional: 100}}, AudienceEveryone, false},
		{"no settings at all", good, Settings{}, AudienceEveryone, false},
		{"level above 100", good, levels(150, 100, 100), AudienceEveryone, false},
		{"negative level", good, levels(-1, 100, 100), AudienceEveryone, false},
		{"invalid override", good, Settings{Levels: map[Cluster]int{Personal: 100}, Overrides: map[Audience]map[Cluster]int{AudienceDating: {Personal: 300}}}, AudienceDating, false},
		{"unknown audience", good, levels(100, 100, 100), "public", false},
		{"empty audience", good, levels(100, 100, 100), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := View{
				Insights:  []Insight{tt.in},
				Summaries: []Summary{{Cluster: tt.in.Cluster, Text: "summary"}},
				Traits:    []Trait{{Name: "openness", Clusters: []Cluster{tt.in.Cluster}, Evidence: []TraitEvidence{{Cluster: tt.in.Cluster, Label: "l"}}}},
			}
			out := Reveal(v, tt.s, tt.a)
			if tt.insightOnly {
				if len(out.Insights) != 0 || len(out.Summaries) != 1 || len(out.Traits) != 0 {
					t.Fatalf("revealed %+v, want only the summary", out)
				}
				return
			}
			if len(out.Insights)+len(out.Summaries)+len(out.Traits) != 0 {
				t.Fatalf("revealed %+v", out)
			}
		})
	}
}

func TestRevealSummaries(t *testing.T) {
	v := View{Summaries: []Summary{
		{Cluster: Personal, Text: "p", Evidence: ev(4)},
		{Cluster: Professional, Text: "w", Sensitivity: 70},
		{Cluster: Creative, Text: "c"},
		{Cluster: "secret", Text: "s"},
	}}
	out := Reveal(v, levels(25, 60, 0), AudienceEveryone)
	if len(out.Summaries) != 1 || out.Summaries[0].Text != "p" {
		t.Fatalf("summaries = %+v, want only the personal one", out.Summaries)
	}
	if len(out.Summaries[0].Evidence) != 1 {
		t.Errorf("kept %d summary evidence items at level 25 of 4, want 1", len(out.Summaries[0].Evidence))
	}
}

// Traits mix clusters, so a trait filtered after the fact still carries
// what its hidden clusters put into it: Reveal lets none through, whatever
// the levels (issue 9, leak 1; analysis.RevealedTraits builds them).
func TestRevealNeverPassesTraits(t *testing.T) {
	mixed := Trait{Name: "openness", Score: 0.7, Sensitivity: 30, Clusters: []Cluster{Creative, Personal},
		Evidence: []TraitEvidence{{Cluster: Creative, Label: "c1"}, {Cluster: Personal, Label: "p1"}}}
	for _, s := range []Settings{levels(100, 100, 100), levels(0, 100, 100), DefaultSettings()} {
		if out := Reveal(View{Traits: []Trait{mixed}}, s, AudienceFriends); len(out.Traits) != 0 {
			t.Fatalf("traits %+v passed the filter", out.Traits)
		}
	}
}

func TestRevealAudienceOverride(t *testing.T) {
	s, _ := DefaultSettings().WithOverride(Personal, AudienceProfessional, 0)
	s, _ = s.WithOverride(Personal, AudienceIntimate, 100)
	v := View{Insights: []Insight{{Key: "sleep", Cluster: Personal, Subcluster: HealthWellness, Sensitivity: 80}, {Key: "hobby", Cluster: Personal, Sensitivity: 10}}}
	count := func(a Audience) int { return len(Reveal(v, s, a).Insights) }
	if got := count(AudienceProfessional); got != 0 {
		t.Errorf("professional sees %d personal insights, want 0", got)
	}
	if got := count(AudienceEveryone); got != 1 {
		t.Errorf("everyone sees %d, want 1 (the low-sensitivity one at the default 50)", got)
	}
	if got := count(AudienceIntimate); got != 2 {
		t.Errorf("intimate sees %d, want 2", got)
	}
}

func TestRevealDoesNotMutateOrAlias(t *testing.T) {
	v := View{
		Insights:  []Insight{{Key: "a", Cluster: Personal, Sensitivity: 0, Evidence: ev(4)}},
		Summaries: []Summary{{Cluster: Personal, Text: "s", Evidence: ev(2)}},
		Traits:    []Trait{{Name: "t", Clusters: []Cluster{Personal}, Evidence: []TraitEvidence{{Cluster: Personal, Label: "x"}}}},
	}
	before := deepCopyView(v)
	out := Reveal(v, levels(100, 100, 100), AudienceEveryone)
	if !reflect.DeepEqual(v, before) {
		t.Fatal("Reveal changed its input")
	}
	out.Insights[0].Evidence[0].Label = "changed"
	out.Summaries[0].Evidence[0].Label = "changed"
	if !reflect.DeepEqual(v, before) {
		t.Fatal("Reveal's output shares memory with its input")
	}
}

func deepCopyView(v View) View {
	var out View
	for _, in := range v.Insights {
		in.Evidence = slices.Clone(in.Evidence)
		out.Insights = append(out.Insights, in)
	}
	for _, s := range v.Summaries {
		s.Evidence = slices.Clone(s.Evidence)
		out.Summaries = append(out.Summaries, s)
	}
	for _, t := range v.Traits {
		t.Clusters = slices.Clone(t.Clusters)
		t.Evidence = slices.Clone(t.Evidence)
		out.Traits = append(out.Traits, t)
	}
	return out
}

// An insight drawing on a second cluster (a correlation across sources)
// shows only where both clusters show it, its evidence cut at the lower
// level.
func TestRevealAlsoClusters(t *testing.T) {
	in := Insight{Key: "correlation.coding.music", Cluster: Personal, Also: []Cluster{Professional}, Sensitivity: 40, Evidence: ev(4)}
	v := View{Insights: []Insight{in}}
	if out := Reveal(v, levels(100, 0, 100), AudienceEveryone); len(out.Insights) != 0 {
		t.Fatal("shown with the other cluster hidden")
	}
	if out := Reveal(v, levels(100, 30, 100), AudienceEveryone); len(out.Insights) != 0 {
		t.Fatal("shown with the other cluster below the sensitivity")
	}
	if out := Reveal(View{Insights: []Insight{{Key: "x", Cluster: Personal, Also: []Cluster{"secret"}}}}, levels(100, 100, 100), AudienceEveryone); len(out.Insights) != 0 {
		t.Fatal("shown drawing on an unknown cluster")
	}
	out := Reveal(v, levels(100, 50, 100), AudienceEveryone)
	if len(out.Insights) != 1 || len(out.Insights[0].Evidence) != 2 {
		t.Fatalf("revealed %+v, want the insight with the top 2 of 4 evidence items (level 50)", out.Insights)
	}
}
