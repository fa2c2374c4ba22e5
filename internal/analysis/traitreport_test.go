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
		{privacy.Trait{Name: "openness", Score: 0.51, Confidence: 0.2995, Evidence: ev},
			"Openness: not enough evidence yet (confidence 29%; a score is reported from 30%)."},
		{privacy.Trait{Name: "openness", Score: 0.51, Confidence: 0.29, Evidence: ev},
			"Openness: not enough evidence yet (confidence 29%; a score is reported from 30%)."},
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
	// The threshold is the boundary: just below it, no score is stated.
	below := privacy.Trait{Name: "agreeableness", Score: 0.9, Confidence: ReportConfidence - 0.001, Evidence: ev}
	if TraitReported(below) || strings.Contains(TraitStatement(below), "90") {
		t.Errorf("below the threshold: %q", TraitStatement(below))
	}
}
