package privacy

// Evidence is one ranked item supporting an insight or summary.
type Evidence struct {
	Label  string  `json:"label"`
	Value  string  `json:"value"`
	Weight float64 `json:"weight"`
}

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

// Reveal returns the part of v that audience a may see under settings s. Every
// view of a signature by anyone but its owner — share links, twin chat with
// others, anything sent to an LLM — must go through it.
//
// Rules, per cluster level L (Settings.Level for the item's cluster and a):
//   - L = 0 hides the cluster: its insights and summaries, and every trait
//     whose clusters are all hidden.
//   - An insight or summary shows only when L ≥ its sensitivity; a trait shows
//     when at least one of its clusters has L ≥ its sensitivity.
//   - A ranked evidence list of n items keeps its first ⌈n·L/100⌉ items. Trait
//     evidence is counted and cut per cluster, each at its own level.
//
// Reveal fails closed: an item with an unknown cluster or subcluster, a
// subcluster of another cluster, a sensitivity outside 0–100, or a cluster
// whose level cannot be resolved (missing, out of range, unknown audience) is
// left out, and so is a trait with no clusters. The result is built item by
// item from what passed, so no input slice or value is ever returned as is,
// and raising any level never hides something that was shown.
func Reveal(v View, s Settings, a Audience) View {
	var out View
	levels := newLevelCache(s, a)
	for _, in := range v.Insights {
		if ins, ok := revealInsight(in, levels); ok {
			out.Insights = append(out.Insights, ins)
		}
	}
	for _, in := range v.Summaries {
		if sum, ok := revealSummary(in, levels); ok {
			out.Summaries = append(out.Summaries, sum)
		}
	}
	for _, in := range v.Traits {
		if t, ok := revealTrait(in, levels); ok {
			out.Traits = append(out.Traits, t)
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

// levelCache resolves each cluster's level once per Reveal call. ok is false
// when the level cannot be resolved; callers must then reveal nothing.
type levelCache struct {
	s   Settings
	a   Audience
	got map[Cluster]cachedLevel
}

type cachedLevel struct {
	level int
	ok    bool
}

func newLevelCache(s Settings, a Audience) *levelCache {
	return &levelCache{s: s, a: a, got: make(map[Cluster]cachedLevel, len(clusterTable))}
}

func (lc *levelCache) level(c Cluster) (int, bool) {
	if got, seen := lc.got[c]; seen {
		return got.level, got.ok
	}
	level, err := lc.s.Level(c, lc.a)
	got := cachedLevel{level: level, ok: err == nil}
	if !got.ok {
		got.level = 0
	}
	lc.got[c] = got
	return got.level, got.ok
}

// visible decides whether an item of cluster c with the given sensitivity
// shows, and at which level.
func (lc *levelCache) visible(c Cluster, sensitivity int) (int, bool) {
	if ValidateLevel(sensitivity) != nil {
		return 0, false
	}
	level, ok := lc.level(c)
	if !ok || level == 0 || level < sensitivity {
		return 0, false
	}
	return level, true
}

func revealInsight(in Insight, lc *levelCache) (Insight, bool) {
	if in.Subcluster != "" {
		owner, known := in.Subcluster.Cluster()
		if !known || owner != in.Cluster {
			return Insight{}, false
		}
	}
	level, ok := lc.visible(in.Cluster, in.Sensitivity)
	if !ok {
		return Insight{}, false
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
	}, true
}

func revealSummary(in Summary, lc *levelCache) (Summary, bool) {
	level, ok := lc.visible(in.Cluster, in.Sensitivity)
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

func revealTrait(in Trait, lc *levelCache) (Trait, bool) {
	if len(in.Clusters) == 0 || ValidateLevel(in.Sensitivity) != nil {
		return Trait{}, false
	}
	listed := make(map[Cluster]bool, len(in.Clusters))
	shown := false
	for _, c := range in.Clusters {
		// One cluster that cannot be resolved puts the whole trait in doubt.
		if _, ok := lc.level(c); !ok {
			return Trait{}, false
		}
		listed[c] = true
		if _, ok := lc.visible(c, in.Sensitivity); ok {
			shown = true
		}
	}
	if !shown {
		return Trait{}, false
	}
	// Count each cluster's items first: the cut is per cluster, so that a
	// slider only ever governs its own cluster's evidence.
	total := make(map[Cluster]int, len(listed))
	for _, e := range in.Evidence {
		total[e.Cluster]++
	}
	kept := make(map[Cluster]int, len(listed))
	var ev []TraitEvidence
	for _, e := range in.Evidence {
		if !listed[e.Cluster] {
			continue
		}
		level, ok := lc.visible(e.Cluster, in.Sensitivity)
		if !ok || kept[e.Cluster] >= KeepCount(total[e.Cluster], level) {
			continue
		}
		kept[e.Cluster]++
		ev = append(ev, TraitEvidence{Cluster: e.Cluster, Label: e.Label, Value: e.Value, Weight: e.Weight})
	}
	return Trait{
		Name:        in.Name,
		Score:       in.Score,
		Confidence:  in.Confidence,
		Sensitivity: in.Sensitivity,
		Clusters:    append([]Cluster(nil), in.Clusters...),
		Evidence:    ev,
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
