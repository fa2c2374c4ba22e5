package analysis

import (
	"slices"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
)

func traitByName(ts []Trait, name string) (Trait, bool) {
	for _, t := range ts {
		if t.Name == name {
			return t, true
		}
	}
	return Trait{}, false
}

func TestPersonalityNoDataNoTrait(t *testing.T) {
	tests := []struct {
		name string
		f    Features
	}{
		{"nil", nil},
		{"empty", Features{}},
		{"counts only", Features{FeatMusicPlays: 10, FeatCodingEvents: 3}},
		// A feature without its sample confidence came from no real sample.
		{"feature without sample", Features{FeatMusicArtistDiversity: 0.9}},
	}
	for _, tt := range tests {
		if got := Personality(tt.f); len(got) != 0 {
			t.Errorf("%s: traits %+v", tt.name, got)
		}
	}
}

func TestPersonalityDirections(t *testing.T) {
	tests := []struct {
		name   string
		f      Features
		trait  string
		higher bool
	}{
		{"diverse listening raises openness", Features{FeatMusicSample: 0.9, FeatMusicArtistDiversity: 0.95}, Openness, true},
		{"narrow listening lowers openness", Features{FeatMusicSample: 0.9, FeatMusicArtistDiversity: 0.05}, Openness, false},
		{"morning listening raises conscientiousness", Features{FeatMusicSample: 0.9, FeatMusicMorning: 0.8, FeatMusicNight: 0.05}, Conscientiousness, true},
		{"night listening lowers conscientiousness", Features{FeatMusicSample: 0.9, FeatMusicMorning: 0.05, FeatMusicNight: 0.8}, Conscientiousness, false},
		{"energetic & rhythmic raises extraversion", Features{FeatMusicSample: 0.9, FeatMusicEnergeticRhythmic: 0.9}, Extraversion, true},
		{"upbeat & conventional raises agreeableness", Features{FeatMusicSample: 0.9, FeatMusicUpbeatConvention: 0.9}, Agreeableness, true},
		{"upbeat & conventional lowers openness", Features{FeatMusicSample: 0.9, FeatMusicUpbeatConvention: 0.9}, Openness, false},
		{"heavy tab switching raises neuroticism", Features{FeatBrowseAttentionSamp: 0.9, FeatBrowseMultitasking: 0.95}, Neuroticism, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, ok := traitByName(Personality(tt.f), tt.trait)
			if !ok {
				t.Fatalf("no %s trait", tt.trait)
			}
			if (tr.Score > 0.5) != tt.higher || tr.Score == 0.5 {
				t.Errorf("%s score %v, want %s 0.5", tt.trait, tr.Score, map[bool]string{true: "above", false: "below"}[tt.higher])
			}
			if tr.Score < 0.25 || tr.Score > 0.75 {
				t.Errorf("score %v from one source: weights are meant to stay modest", tr.Score)
			}
		})
	}
}

func TestPersonalityConfidence(t *testing.T) {
	// Every music feature at its extreme, from a big sample: one source.
	music := Features{FeatMusicSample: 0.99, FeatMusicArtistDiversity: 1, FeatMusicGenreDiversity: 1, FeatMusicDiscovery: 1,
		FeatMusicReflectiveComplex: 1, FeatMusicIntenseRebellious: 1, FeatMusicUpbeatConvention: 0}
	open, _ := traitByName(Personality(music), Openness)
	if open.Confidence > maxSourceWeight+1e-9 {
		t.Errorf("openness confidence %v from music alone exceeds %v", open.Confidence, maxSourceWeight)
	}
	if open.Score > 1 || open.Score < 0.5 {
		t.Errorf("openness score %v", open.Score)
	}
	if !slices.Equal(open.Clusters, []privacy.Cluster{privacy.Creative}) {
		t.Errorf("clusters %v, want creative only", open.Clusters)
	}
	for _, e := range open.Evidence {
		if e.Cluster != privacy.Creative {
			t.Errorf("evidence %+v without its cluster", e)
		}
	}

	thin := Features{FeatMusicSample: 0.2, FeatMusicEnergeticRhythmic: 0.9}
	thick := Features{FeatMusicSample: 0.95, FeatMusicEnergeticRhythmic: 0.9}
	more := Features{FeatMusicSample: 0.95, FeatMusicEnergeticRhythmic: 0.9, FeatDiscordSample: 0.8, FeatDiscordCommunity: 0.9, FeatMailSample: 0.9, FeatMailVolume: 0.9}
	c := func(f Features) float64 { tr, _ := traitByName(Personality(f), Extraversion); return tr.Confidence }
	if !(c(thin) < c(thick) && c(thick) < c(more)) {
		t.Errorf("confidence thin %v, thick %v, three sources %v: want increasing", c(thin), c(thick), c(more))
	}
	tr, _ := traitByName(Personality(more), Extraversion)
	if len(tr.Clusters) != 3 {
		t.Errorf("extraversion from music, Discord and mail lists clusters %v", tr.Clusters)
	}
	for i := 1; i < len(tr.Evidence); i++ {
		if tr.Evidence[i].Weight > tr.Evidence[i-1].Weight {
			t.Errorf("evidence not ranked: %+v", tr.Evidence)
		}
	}
}

func TestTraitLinksUseKnownFeatures(t *testing.T) {
	res := Analyze(SyntheticYear(7, monday), nil, monday.AddDate(1, 0, 0))
	for _, l := range traitLinks {
		if _, ok := res.Features[l.feature]; !ok {
			t.Errorf("trait link uses feature %q that no detector produced", l.feature)
		}
		if _, ok := res.Features[l.sample]; !ok {
			t.Errorf("trait link uses sample %q that no detector produced", l.sample)
		}
		if !l.cluster.Valid() {
			t.Errorf("trait link %q has cluster %q", l.feature, l.cluster)
		}
	}
}
