package privacy

import "github.com/twinme/twinme/internal/domain"

// Evidence is one ranked item supporting an insight or summary.
type Evidence = domain.Evidence

// Insight is one statement about the user, as the reveal filter sees it.
// Evidence is ranked, strongest first: the filter keeps a prefix of it.
type Insight struct {
	Key         string     `json:"key"`
	Cluster     Cluster    `json:"cluster"`
	Subcluster  Subcluster `json:"subcluster,omitempty"`
	Title       string     `json:"title"`
	Body        string     `json:"body"`
	Source      string     `json:"source,omitempty"`
	Sensitivity int        `json:"sensitivity"`
	Confidence  float64    `json:"confidence"`
	Evidence    []Evidence `json:"evidence,omitempty"`
	// Also names the other clusters whose data the insight draws on (a
	// correlation of coding with listening, filed under one of them): it
	// shows only when every one of them shows it too.
	Also []Cluster `json:"also,omitempty"`
}

// Domain is the insight as the API shows it inside a revealed view (no id,
// no time); evidence is copied.
func (in Insight) Domain() domain.Insight {
	out := domain.Insight{
		Key: in.Key, Cluster: in.Cluster, Title: in.Title, Body: in.Body, Evidence: append([]Evidence{}, in.Evidence...),
		Confidence: in.Confidence, Sensitivity: in.Sensitivity, Source: domain.ParseInsightSource(in.Source),
	}
	if in.Subcluster != "" {
		sc := string(in.Subcluster)
		out.Subcluster = &sc
	}
	return out
}

// Summary is the text describing one cluster. Its Sensitivity is that of the
// most sensitive fact it draws on (0 if it draws on none), because a summary
// written from a hidden insight would otherwise leak it.
type Summary struct {
	Cluster     Cluster    `json:"cluster"`
	Text        string     `json:"text"`
	Sensitivity int        `json:"sensitivity"`
	Evidence    []Evidence `json:"evidence,omitempty"`
}

// TraitEvidence is one ranked item supporting a trait, with the cluster whose
// data it comes from.
type TraitEvidence struct {
	Cluster Cluster `json:"cluster"`
	Label   string  `json:"label"`
	Value   string  `json:"value"`
	Weight  float64 `json:"weight"`
}

// Trait is a personality estimate. Clusters names every cluster whose data
// went into it.
type Trait struct {
	Name        string          `json:"name"`
	Score       float64         `json:"score"`
	Confidence  float64         `json:"confidence"`
	Sensitivity int             `json:"sensitivity"`
	Clusters    []Cluster       `json:"clusters"`
	Evidence    []TraitEvidence `json:"evidence,omitempty"`
}

// View is a soul signature as it may be shown to someone.
type View struct {
	Insights  []Insight `json:"insights"`
	Summaries []Summary `json:"summaries"`
	Traits    []Trait   `json:"traits"`
}

// Reveal returns the part of v that audience a may see under settings s:
// RevealLens of s.Lens(a). Every view of a signature by anyone but its owner
// — share links, twin chat with others, anything sent to an LLM — is built
// from it.
func Reveal(v View, s Settings, a Audience) View {
	return RevealLens(v, s.Lens(a))
}

// RevealLens returns the part of v that lens l lets through.
//
// Rules, per cluster level L (l.Level of the item's cluster):
//   - L = 0 hides the cluster: its insights and summaries.
//   - An insight or summary shows only when L ≥ its sensitivity; an insight
//     drawing on other clusters too (Also) only when each of their levels
//     does as well.
//   - A ranked evidence list of n items keeps its first ⌈n·L/100⌉ items.
//   - Traits never pass. A trait mixes several clusters' data, so a trait
//     filtered after the fact still carries what its hidden clusters put
//     into it; an audience's traits are estimated from the features that
//     audience may see (analysis.RevealedTraits) and added by the caller.
//
// RevealLens fails closed: an item with an unknown cluster or subcluster, a
// subcluster of another cluster, a sensitivity outside 0–100, or a cluster
// the lens holds no level for is left out. The result is built item by item
// from what passed, so no input slice or value is ever returned as is, and
// raising any level never hides something that was shown.
func RevealLens(v View, l Lens) View {
	var out View
	for _, in := range v.Insights {
		if ins, ok := revealInsight(in, l); ok {
			out.Insights = append(out.Insights, ins)
		}
	}
	for _, in := range v.Summaries {
		if sum, ok := revealSummary(in, l); ok {
			out.Summaries = append(out.Summaries, sum)
		}
	}
	return out
}

// KeepCount is how many items of a ranked list of n survive level:
// ⌈n·level/100⌉, 0 for a level outside 0–100.
func KeepCount(n, level int) int {
	if n <= 0 || ValidateLevel(level) != nil {
		return 0
	}
	return (n*level + MaxLevel - 1) / MaxLevel
}

// Visible decides whether an item of cluster c with the given sensitivity
// shows through l, and at which level.
func (l Lens) Visible(c Cluster, sensitivity int) (int, bool) {
	if ValidateLevel(sensitivity) != nil || !c.Valid() {
		return 0, false
	}
	level := l.Level(c)
	if level == 0 || level < sensitivity {
		return 0, false
	}
	return level, true
}

func revealInsight(in Insight, l Lens) (Insight, bool) {
	if in.Subcluster != "" {
		owner, known := in.Subcluster.Cluster()
		if !known || owner != in.Cluster {
			return Insight{}, false
		}
	}
	level, ok := l.Visible(in.Cluster, in.Sensitivity)
	if !ok {
		return Insight{}, false
	}
	for _, c := range in.Also {
		other, ok := l.Visible(c, in.Sensitivity)
		if !ok {
			return Insight{}, false
		}
		level = min(level, other) // its evidence is cut at the lowest
	}
	return Insight{
		Key:         in.Key,
		Cluster:     in.Cluster,
		Subcluster:  in.Subcluster,
		Title:       in.Title,
		Body:        in.Body,
		Source:      in.Source,
		Sensitivity: in.Sensitivity,
		Confidence:  in.Confidence,
		Evidence:    keepEvidence(in.Evidence, level),
		Also:        append([]Cluster(nil), in.Also...),
	}, true
}

func revealSummary(in Summary, l Lens) (Summary, bool) {
	level, ok := l.Visible(in.Cluster, in.Sensitivity)
	if !ok {
		return Summary{}, false
	}
	return Summary{
		Cluster:     in.Cluster,
		Text:        in.Text,
		Sensitivity: in.Sensitivity,
		Evidence:    keepEvidence(in.Evidence, level),
	}, true
}

func keepEvidence(ev []Evidence, level int) []Evidence {
	n := KeepCount(len(ev), level)
	if n == 0 {
		return nil
	}
	out := make([]Evidence, n)
	copy(out, ev[:n])
	return out
}
