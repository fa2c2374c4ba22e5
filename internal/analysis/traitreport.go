package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/twinme/twinme/internal/privacy"
)

// ReportConfidence is the confidence a trait estimate needs before its score
// is reported as a result. Below it, the estimate is shown as "not enough
// evidence yet": a score near 0.5 from one weak source says nothing, and
// presenting it as a personality would.
const ReportConfidence = 0.3

// TraitReported reports whether t's evidence is strong enough to state its
// score.
func TraitReported(t privacy.Trait) bool { return t.Confidence >= ReportConfidence }

// TraitStatement says a trait estimate in words, in the second person: where
// it leans and the evidence that moved it away from the middle, or that
// there is not enough evidence yet. It reads only t, so for anyone but the
// owner it says no more than the revealed trait and its revealed evidence.
func TraitStatement(t privacy.Trait) string {
	name := strings.ToUpper(t.Name[:1]) + t.Name[1:]
	if !TraitReported(t) {
		// Rounded down: a confidence of 29.5 % must not read "30 %" beside
		// "a score is reported from 30 %".
		return fmt.Sprintf("%s: not enough evidence yet (confidence %d%%; a score is reported from %s).",
			name, int(math.Floor(100*t.Confidence+1e-9)), pct(ReportConfidence))
	}
	lean := "sits near the middle"
	switch {
	case t.Score >= 0.6:
		lean = "leans high"
	case t.Score >= 0.53:
		lean = "leans slightly high"
	case t.Score <= 0.4:
		lean = "leans low"
	case t.Score <= 0.47:
		lean = "leans slightly low"
	}
	s := fmt.Sprintf("%s %s (%.0f/100, confidence %s)", name, lean, t.Score*100, pct(t.Confidence))
	var moved []string
	for _, e := range t.Evidence {
		if len(moved) == 2 {
			break
		}
		if e.Weight > 0 {
			moved = append(moved, fmt.Sprintf("%s %s", strings.ToLower(e.Label[:1])+e.Label[1:], e.Value))
		}
	}
	if len(moved) > 0 {
		s += ", moved most by " + strings.Join(moved, " and ")
	}
	return s + "."
}
