package privacy

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// Property tests: random views and settings from a fixed seed, checked against
// the rules written out independently below (oracle*), so a change in Reveal
// that breaks a rule fails here even when no table case covers it.

const propertyIterations = 3000

var allClusters = []Cluster{Personal, Professional, Creative}

type gen struct {
	r   *rand.Rand
	seq int
}

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, 0x7717))} }

func (g *gen) pct(p int) bool { return g.r.IntN(100) < p }

func (g *gen) cluster() Cluster {
	if g.pct(88) {
		return allClusters[g.r.IntN(3)]
	}
	return []Cluster{"secret", "", "PERSONAL", "personal "}[g.r.IntN(4)]
}

func (g *gen) subcluster(c Cluster) Subcluster {
	switch n := g.r.IntN(100); {
	case n < 45:
		return ""
	case n < 85:
		for _, ci := range clusterTable {
			if ci.Cluster == c {
				return ci.Subclusters[g.r.IntN(len(ci.Subclusters))].Subcluster
			}
		}
		return HobbiesInterests
	case n < 95:
		other := clusterTable[g.r.IntN(3)]
		return other.Subclusters[g.r.IntN(len(other.Subclusters))].Subcluster
	default:
		return "cooking"
	}
}

func (g *gen) sensitivity() int {
	if g.pct(92) {
		if g.pct(15) {
			return []int{0, 100}[g.r.IntN(2)]
		}
		return g.r.IntN(101)
	}
	return []int{-1, 101, 500}[g.r.IntN(3)]
}

func (g *gen) level() int {
	if g.pct(20) {
		return []int{0, 1, 99, 100}[g.r.IntN(4)]
	}
	return g.r.IntN(101)
}

func (g *gen) evidence() []Evidence {
	out := make([]Evidence, g.r.IntN(9))
	for i := range out {
		g.seq++
		out[i] = Evidence{Label: fmt.Sprintf("ev%d", g.seq), Value: "v", Weight: float64(len(out) - i)}
	}
	return out
}

func (g *gen) view() View {
	var v View
	for range g.r.IntN(12) {
		g.seq++
		c := g.cluster()
		v.Insights = append(v.Insights, Insight{Key: fmt.Sprintf("ins%d", g.seq), Cluster: c, Subcluster: g.subcluster(c), Title: "t", Sensitivity: g.sensitivity(), Confidence: g.r.Float64(), Evidence: g.evidence()})
	}
	for range g.r.IntN(5) {
		g.seq++
		s := g.sensitivity()
		if g.pct(50) {
			s = 0
		}
		v.Summaries = append(v.Summaries, Summary{Cluster: g.cluster(), Text: fmt.Sprintf("sum%d", g.seq), Sensitivity: s, Evidence: g.evidence()})
	}
	for range g.r.IntN(5) {
		g.seq++
		t := Trait{Name: fmt.Sprintf("trait%d", g.seq), Score: g.r.Float64(), Sensitivity: g.sensitivity()}
		for range g.r.IntN(4) {
			t.Clusters = append(t.Clusters, g.cluster())
		}
		for range g.r.IntN(8) {
			g.seq++
			c := g.cluster()
			if len(t.Clusters) > 0 && g.pct(80) {
				c = t.Clusters[g.r.IntN(len(t.Clusters))]
			}
			t.Evidence = append(t.Evidence, TraitEvidence{Cluster: c, Label: fmt.Sprintf("tev%d", g.seq)})
		}
		v.Traits = append(v.Traits, t)
	}
	return v
}

func (g *gen) settings() Settings {
	s := Settings{Levels: map[Cluster]int{}, Overrides: map[Audience]map[Cluster]int{}, Follows: map[Audience]map[Cluster]bool{}}
	for _, c := range allClusters {
		switch n := g.r.IntN(100); {
		case n < 85:
			s.Levels[c] = g.level()
		case n < 93:
			// missing
		default:
			s.Levels[c] = []int{-1, 101, 1000}[g.r.IntN(3)]
		}
	}
	for _, a := range audienceList {
		s.Overrides[a] = map[Cluster]int{}
		s.Follows[a] = map[Cluster]bool{}
		for _, c := range allClusters {
			switch n := g.r.IntN(100); {
			case n < 30:
				l := g.level()
				if g.pct(5) {
					l = 101
				}
				s.Overrides[a][c] = l
			case n < 95:
				s.Follows[a][c] = true
			case n < 97:
				s.Overrides[a][c] = g.level()
				s.Follows[a][c] = true // both: damage
			default:
				// missing
			}
		}
	}
	if g.pct(10) {
		s.Damaged = map[Cluster]string{allClusters[g.r.IntN(3)]: "test"}
	}
	return s
}

func (g *gen) audience() Audience {
	if g.pct(93) {
		return audienceList[g.r.IntN(len(audienceList))]
	}
	return []Audience{"", "public", "FRIENDS"}[g.r.IntN(3)]
}

// oracleLevel is the slider rule written out without Settings.Level.
func oracleLevel(s Settings, c Cluster, a Audience) (int, bool) {
	if !slices.Contains(allClusters, c) || !slices.Contains(audienceList, a) {
		return 0, false
	}
	if _, bad := s.Damaged[c]; bad {
		return 0, false
	}
	l, set := s.Overrides[a][c]
	follows := s.Follows[a][c]
	switch {
	case set && follows, !set && !follows:
		return 0, false
	case follows && a == AudienceAssistant:
		return oracleLevel(s, c, AudienceEveryone)
	case follows:
		var ok bool
		if l, ok = s.Levels[c]; !ok {
			return 0, false
		}
	}
	if l < 0 || l > 100 {
		return 0, false
	}
	return l, true
}

func oracleKeep(n, level int) int {
	// ceil(n × level / 100) by repeated subtraction-free float-free reasoning:
	// the smallest k with 100·k ≥ n·level.
	k := 0
	for 100*k < n*level {
		k++
	}
	return k
}

func validSens(s int) bool { return s >= 0 && s <= 100 }

// oracleInsight returns how many evidence items the rules allow, or -1 if the
// insight must not show at all.
func oracleInsight(in Insight, s Settings, a Audience) int {
	if in.Subcluster != "" {
		owner, ok := in.Subcluster.Cluster()
		if !ok || owner != in.Cluster {
			return -1
		}
	}
	l, ok := oracleLevel(s, in.Cluster, a)
	if !ok || l == 0 || !validSens(in.Sensitivity) || l < in.Sensitivity {
		return -1
	}
	return oracleKeep(len(in.Evidence), l)
}

func oracleSummary(in Summary, s Settings, a Audience) int {
	l, ok := oracleLevel(s, in.Cluster, a)
	if !ok || l == 0 || !validSens(in.Sensitivity) || l < in.Sensitivity {
		return -1
	}
	return oracleKeep(len(in.Evidence), l)
}

func TestRevealPropertyFollowsTheRules(t *testing.T) {
	g := newGen(1)
	shownSomething := 0
	for i := range propertyIterations {
		v, s, a := g.view(), g.settings(), g.audience()
		out := Reveal(v, s, a)
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("iteration %d, audience %q, settings %+v: %s", i, a, s, fmt.Sprintf(format, args...))
		}

		// Nothing shown that the rules forbid, and nothing more of it.
		byKey := map[string]Insight{}
		for _, in := range v.Insights {
			byKey[in.Key] = in
		}
		for _, o := range out.Insights {
			in, ok := byKey[o.Key]
			if !ok {
				fail("revealed unknown insight %q", o.Key)
			}
			keep := oracleInsight(in, s, a)
			if keep < 0 {
				fail("revealed forbidden insight %+v", in)
			}
			if !reflect.DeepEqual(o.Evidence, nilIfEmpty(in.Evidence[:keep])) {
				fail("insight %q evidence %v, want the top %d of %v", in.Key, o.Evidence, keep, in.Evidence)
			}
			if o.Title != in.Title || o.Cluster != in.Cluster || o.Sensitivity != in.Sensitivity {
				fail("insight %q altered: %+v", in.Key, o)
			}
		}
		// Everything the rules allow is shown, in input order, so that an
		// empty result cannot pass this test.
		var wantKeys, gotKeys []string
		for _, in := range v.Insights {
			if oracleInsight(in, s, a) >= 0 {
				wantKeys = append(wantKeys, in.Key)
			}
		}
		for _, o := range out.Insights {
			gotKeys = append(gotKeys, o.Key)
		}
		if !slices.Equal(wantKeys, gotKeys) {
			fail("insights %v, want %v", gotKeys, wantKeys)
		}

		var wantSums []Summary
		for _, in := range v.Summaries {
			if keep := oracleSummary(in, s, a); keep >= 0 {
				in.Evidence = nilIfEmpty(in.Evidence[:keep])
				wantSums = append(wantSums, in)
			}
		}
		if !reflect.DeepEqual(out.Summaries, wantSums) {
			fail("summaries %+v, want %+v", out.Summaries, wantSums)
		}

		if len(out.Traits) != 0 {
			fail("revealed traits %+v: traits never pass the filter", out.Traits)
		}
		shownSomething += len(out.Insights) + len(out.Summaries) + len(out.Traits)
	}
	if shownSomething < propertyIterations {
		t.Fatalf("generator too strict: only %d items shown in %d iterations", shownSomething, propertyIterations)
	}
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// raise returns a copy of s with every valid level raised by a random amount
// (possibly zero); invalid and missing levels stay as they are.
func (g *gen) raise(s Settings) Settings {
	out := s.clone()
	up := func(l int) int {
		if l < 0 || l > 100 || g.pct(40) {
			return l
		}
		return l + g.r.IntN(101-l)
	}
	for c, l := range out.Levels {
		out.Levels[c] = up(l)
	}
	for _, m := range out.Overrides {
		for c, l := range m {
			m[c] = up(l)
		}
	}
	return out
}

func TestRevealPropertyMonotonic(t *testing.T) {
	g := newGen(2)
	for i := range propertyIterations {
		v, a := g.view(), g.audience()
		lo := g.settings()
		hi := g.raise(lo)
		if i%2 == 0 {
			// One slider, a ≤ b, as a user moves it.
			c := allClusters[g.r.IntN(3)]
			x, y := g.r.IntN(101), g.r.IntN(101)
			lo, hi = lo.clone(), lo.clone()
			lo.Levels[c], hi.Levels[c] = min(x, y), max(x, y)
			if m := lo.Overrides[a]; m != nil {
				if _, ok := m[c]; ok {
					lo.Overrides[a][c], hi.Overrides[a][c] = min(x, y), max(x, y)
				}
			}
		}
		if msg := subset(Reveal(v, lo, a), Reveal(v, hi, a)); msg != "" {
			t.Fatalf("iteration %d: raising levels %+v → %+v hid something: %s", i, lo, hi, msg)
		}
	}
}

// subset reports what of a is missing from b ("" if a ⊆ b).
func subset(a, b View) string {
	ins := map[string]Insight{}
	for _, x := range b.Insights {
		ins[x.Key] = x
	}
	for _, x := range a.Insights {
		y, ok := ins[x.Key]
		if !ok {
			return "insight " + x.Key
		}
		if len(x.Evidence) > len(y.Evidence) || !reflect.DeepEqual(nilIfEmpty(x.Evidence), nilIfEmpty(y.Evidence[:len(x.Evidence)])) {
			return "evidence of insight " + x.Key
		}
	}
	sums := map[string]Summary{}
	for _, x := range b.Summaries {
		sums[x.Text] = x
	}
	for _, x := range a.Summaries {
		y, ok := sums[x.Text]
		if !ok || len(x.Evidence) > len(y.Evidence) {
			return "summary " + x.Text
		}
	}
	traits := map[string]map[string]bool{}
	for _, x := range b.Traits {
		traits[x.Name] = map[string]bool{}
		for _, e := range x.Evidence {
			traits[x.Name][e.Label] = true
		}
	}
	for _, x := range a.Traits {
		y, ok := traits[x.Name]
		if !ok {
			return "trait " + x.Name
		}
		for _, e := range x.Evidence {
			if !y[e.Label] {
				return "evidence " + e.Label + " of trait " + x.Name
			}
		}
	}
	return ""
}

func TestRevealPropertyFailsClosed(t *testing.T) {
	g := newGen(3)
	for i := range propertyIterations {
		v, s, a := g.view(), g.settings(), g.audience()
		broken := allClusters[g.r.IntN(3)]
		s = s.clone()
		if g.pct(50) {
			delete(s.Levels, broken)
			delete(s.Overrides[a], broken)
			delete(s.Overrides[AudienceEveryone], broken) // the assistant's chain
		} else {
			s.Levels[broken] = []int{-1, 101, 1000}[g.r.IntN(3)]
			for _, x := range []Audience{a, AudienceEveryone} { // the assistant's chain
				if m := s.Overrides[x]; m != nil {
					if _, ok := m[broken]; ok {
						m[broken] = -5
					}
				}
			}
		}
		before := deepCopyView(v)
		out := Reveal(v, s, a)
		if !reflect.DeepEqual(v, before) {
			t.Fatalf("iteration %d: Reveal changed its input", i)
		}
		for _, x := range out.Insights {
			if x.Cluster == broken || !x.Cluster.Valid() {
				t.Fatalf("iteration %d: revealed insight %+v of a cluster without a valid level (audience %q, settings %+v)", i, x, a, s)
			}
		}
		for _, x := range out.Summaries {
			if x.Cluster == broken || !x.Cluster.Valid() {
				t.Fatalf("iteration %d: revealed summary %+v of a cluster without a valid level", i, x)
			}
		}
		for _, x := range out.Traits {
			for _, c := range x.Clusters {
				if c == broken || !c.Valid() {
					t.Fatalf("iteration %d: revealed trait %+v drawing on a cluster without a valid level", i, x)
				}
			}
		}
	}
}
