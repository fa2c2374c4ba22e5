package analysis

import (
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
)

func TestTraitStatement(t *testing.T) {
	ev := []privacy.TraitEvidence{
		{Cluster: privacy.Creative, Label: "Genre diversity", Value: "80% (raises openness)", Weight: 0.06},
		{Cluster: privacy.Creative, Label: "Pop, country, soundtracks", Value: "10% (raises openness)", Weight: 0.03},
		{Cluster: privacy.Creative, Label: "Artist diversity", Value: "50% (raises openness)", Weight: 0},
	}
	tests := []struct {
		tr   privacy.Trait
		want string
	}{
		{privacy.Trait{Name: "openness", Score: 0.51, Confidence: 0.12, Evidence: ev},
			"Openness: not enough evidence yet (confidence 12%; a score is reported from 30%)."},
		{privacy.Trait{Name: "openness", Score: 0.64, Confidence: 0.45, Evidence: ev},
			"Openness leans high (64/100, confidence 45%), moved most by genre diversity 80% (raises openness) and pop, country, soundtracks 10% (raises openness)."},
		{privacy.Trait{Name: "neuroticism", Score: 0.5, Confidence: 0.3},
			"Neuroticism sits near the middle (50/100, confidence 30%)."},
	}
	for _, tt := range tests {
		if got := TraitStatement(tt.tr); got != tt.want {
			t.Errorf("got  %q\nwant %q", got, tt.want)
		}
	}
	// No year of data makes every trait reportable from one weak source.
	for _, tr := range Analyze(SyntheticYear(7, monday), nil, monday.AddDate(1, 0, 0)).View().Traits {
		if !TraitReported(tr) && !strings.Contains(TraitStatement(tr), "not enough evidence yet") {
			t.Errorf("%s below the threshold reads %q", tr.Name, TraitStatement(tr))
		}
	}
}
