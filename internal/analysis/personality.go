package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/twinme/twinme/internal/privacy"
)

// Trait is a Big Five estimate.
type Trait struct {
	Name string
	// Score is 0–1, 0.5 = no lean either way. Weights are small, so scores
	// stay near the middle unless several signals agree.
	Score float64
	// Confidence is 1 − Π over data sources of (1 − sample·min(Σ|weight|, 0.3)):
	// signals from one source (all music features, say) are correlated, so
	// together they count for at most 0.3; only independent sources that
	// agree push confidence higher. One source alone never exceeds 0.3.
	Confidence float64
	Evidence   []Evidence // each with the cluster its data comes from
	Clusters   []privacy.Cluster
	// Sensitivity for the privacy filter: personality estimates are personal.
	Sensitivity int
}

// traitSensitivity applies to every trait.
const traitSensitivity = 50

// maxSourceWeight caps how much one data source adds to a trait's confidence.
const maxSourceWeight = 0.3

// Big Five trait names.
const (
	Openness          = "openness"
	Conscientiousness = "conscientiousness"
	Extraversion      = "extraversion"
	Agreeableness     = "agreeableness"
	Neuroticism       = "neuroticism"
)

// traitLink is one published association between a feature and a trait.
// The feature's deviation from centre, scaled to −1…1, times weight is added
// to 0.5. Weights are of the size of the correlations reported (|r| ≈ .1–.3),
// not larger: these are population tendencies, weak for any one person.
type traitLink struct {
	trait   string
	feature string
	sample  string // feature holding the source's SampleConfidence
	centre  float64
	weight  float64
	cluster privacy.Cluster
	label   string
}

// traitLinks is the whole feature → trait mapping. Sources:
//
//   - Rentfrow & Gosling (2003), "The do re mi's of everyday life", JPSP
//     84(6): Reflective & Complex (blues, jazz, classical, folk) and Intense &
//     Rebellious (rock, alternative, metal) preferences go with Openness;
//     Upbeat & Conventional (pop, country, religious, soundtracks) with
//     Extraversion, Agreeableness and Conscientiousness and against Openness;
//     Energetic & Rhythmic (rap/hip-hop, soul/funk, electronica/dance) with
//     Extraversion and Agreeableness.
//   - Greenberg et al. (2016), "The song is you", Social Psychological and
//     Personality Science 7(6): Openness goes with a preference for
//     sophisticated, complex music; Anderson et al. (2021), "Just the way you
//     are": linking music listening on Spotify and personality, SPPS 12(4):
//     in real Spotify streams, Openness goes with more varied listening. Both
//     support using artist/genre diversity and discovery for Openness.
//   - Randler (2008), "Morningness–eveningness, sleep–wake variables and big
//     five personality factors", Personality
//     and Individual Differences, and the meta-analysis of Tsaousis (2010),
//     European Journal of Personality 24(4): morningness goes with
//     Conscientiousness (r ≈ .2–.3) and, weakly, with lower Neuroticism.
//     Listening hours stand in for chronotype here, which weakens the link
//     further, hence the smallest weights.
//   - Stachl et al. (2020), "Predicting personality from patterns of
//     behavior collected with smartphones", PNAS 117(30): communication and
//     social behaviour carry most of the signal for Extraversion; Discord
//     community membership and mail sent per day stand in for it.
//   - Becker, Alzahabi & Hopwood (2013), Cyberpsychology, Behavior, and
//     Social Networking 16(2): heavy media multitasking goes with symptoms of
//     depression and social anxiety, a weak pointer towards Neuroticism.
var traitLinks = []traitLink{
	{Openness, FeatMusicArtistDiversity, FeatMusicSample, 0.5, 0.15, privacy.Creative, "Artist diversity"},
	{Openness, FeatMusicGenreDiversity, FeatMusicSample, 0.45, 0.15, privacy.Creative, "Genre diversity"},
	{Openness, FeatMusicDiscovery, FeatMusicSample, 0.15, 0.10, privacy.Creative, "Share of plays of new artists"},
	{Openness, FeatMusicReflectiveComplex, FeatMusicSample, 0.15, 0.15, privacy.Creative, "Blues, jazz, classical, folk"},
	{Openness, FeatMusicIntenseRebellious, FeatMusicSample, 0.2, 0.10, privacy.Creative, "Rock, alternative, metal"},
	{Openness, FeatMusicUpbeatConvention, FeatMusicSample, 0.3, -0.10, privacy.Creative, "Pop, country, soundtracks"},

	{Conscientiousness, FeatMusicMorning, FeatMusicSample, 1.0 / 3, 0.15, privacy.Personal, "Morning listening"},
	{Conscientiousness, FeatMusicNight, FeatMusicSample, 1.0 / 3, -0.10, privacy.Personal, "Night listening"},
	{Conscientiousness, FeatMusicUpbeatConvention, FeatMusicSample, 0.3, 0.05, privacy.Creative, "Pop, country, soundtracks"},

	{Extraversion, FeatMusicUpbeatConvention, FeatMusicSample, 0.3, 0.10, privacy.Creative, "Pop, country, soundtracks"},
	{Extraversion, FeatMusicEnergeticRhythmic, FeatMusicSample, 0.25, 0.15, privacy.Creative, "Hip-hop, soul, electronic, dance"},
	{Extraversion, FeatDiscordCommunity, FeatDiscordSample, 0.3, 0.10, privacy.Personal, "Discord communities"},
	{Extraversion, FeatMailVolume, FeatMailSample, 0.3, 0.10, privacy.Professional, "Email volume"},

	{Agreeableness, FeatMusicUpbeatConvention, FeatMusicSample, 0.3, 0.10, privacy.Creative, "Pop, country, soundtracks"},
	{Agreeableness, FeatMusicEnergeticRhythmic, FeatMusicSample, 0.25, 0.05, privacy.Creative, "Hip-hop, soul, electronic, dance"},

	{Neuroticism, FeatMusicMorning, FeatMusicSample, 1.0 / 3, -0.05, privacy.Personal, "Morning listening"},
	{Neuroticism, FeatBrowseMultitasking, FeatBrowseAttentionSamp, 0.5, 0.05, privacy.Personal, "Tab switching"},
}

var traitOrder = []string{Openness, Conscientiousness, Extraversion, Agreeableness, Neuroticism}

// Personality estimates the Big Five from every feature: the owner's own
// view. A trait with no feature behind it is left out: no data gives no
// trait, never a 0.5 with made-up confidence.
func Personality(f Features) []Trait { return RevealedTraits(f, ownerLens()) }

// DerivedSensitivity is the level a cluster must reach for an audience's
// derived values — personality estimates and the embedding similar twins
// compare — to draw on its features: personality estimates are personal.
const DerivedSensitivity = traitSensitivity

// RevealedTraits estimates the Big Five for the audience behind lens l from
// the features l lets it see, and from nothing else: a feature→trait link
// counts only when its cluster's level reaches DerivedSensitivity, and of a
// cluster's links at level L only the ⌈n·L/100⌉ strongest count (the
// filter's evidence rule). Every link that counts is in the trait's
// evidence and nothing else moves its score: 0.5 plus the signed
// contributions of the evidence shown is the score (before clamping to
// 0–1). Confidence comes from the same links, so it drops with what is
// hidden. A trait none of whose links count is left out.
func RevealedTraits(f Features, l privacy.Lens) []Trait {
	var out []Trait
	for _, name := range traitOrder {
		links := visibleLinks(f, l, name)
		if len(links) == 0 {
			continue
		}
		t := Trait{Name: name, Score: 0.5, Sensitivity: traitSensitivity}
		weightBySource := map[string]float64{}
		var sources []string // in first-use order, for a deterministic product
		for _, vl := range links {
			t.Score += vl.contribution
			if _, seen := weightBySource[vl.sample]; !seen {
				sources = append(sources, vl.sample)
			}
			weightBySource[vl.sample] += math.Abs(vl.weight)
			t.Evidence = append(t.Evidence, Evidence{
				Label: vl.label, Value: fmt.Sprintf("%s (%s %s)", pct(vl.value), direction(vl.contribution), name),
				Weight: math.Abs(vl.contribution), Cluster: vl.cluster,
			})
			if !slices.Contains(t.Clusters, vl.cluster) {
				t.Clusters = append(t.Clusters, vl.cluster)
			}
		}
		t.Score = clamp01(t.Score)
		doubt := 1.0
		for _, src := range sources {
			doubt *= 1 - clamp01(f[src])*math.Min(weightBySource[src], maxSourceWeight)
		}
		t.Confidence = 1 - doubt
		sortEvidence(t.Evidence)
		out = append(out, t)
	}
	return out
}

// visibleLink is a traitLink with its feature's value, as it counts.
type visibleLink struct {
	traitLink
	value        float64
	contribution float64
}

// visibleLinks returns the links of trait that count for lens l, in
// traitLinks order.
func visibleLinks(f Features, l privacy.Lens, trait string) []visibleLink {
	var cand []visibleLink
	perCluster := map[privacy.Cluster][]int{}
	for _, tl := range traitLinks {
		if tl.trait != trait {
			continue
		}
		if _, ok := l.Visible(tl.cluster, DerivedSensitivity); !ok {
			continue
		}
		v, ok := f[tl.feature]
		q := f[tl.sample]
		if !ok || q <= 0 || math.IsNaN(v) || math.IsNaN(q) {
			continue
		}
		v = clamp01(v)
		perCluster[tl.cluster] = append(perCluster[tl.cluster], len(cand))
		cand = append(cand, visibleLink{traitLink: tl, value: v,
			contribution: tl.weight * (v - tl.centre) / math.Max(tl.centre, 1-tl.centre)})
	}
	keep := make([]bool, len(cand))
	for c, idx := range perCluster {
		level, _ := l.Visible(c, DerivedSensitivity)
		ranked := slices.Clone(idx)
		slices.SortStableFunc(ranked, func(a, b int) int {
			return cmp.Compare(math.Abs(cand[b].contribution), math.Abs(cand[a].contribution))
		})
		for _, i := range ranked[:privacy.KeepCount(len(ranked), level)] {
			keep[i] = true
		}
	}
	var out []visibleLink
	for i, c := range cand { // traitLinks order, for a deterministic sum
		if keep[i] {
			out = append(out, c)
		}
	}
	return out
}

// ownerLens lets everything through: the owner's own view.
func ownerLens() privacy.Lens {
	l := privacy.Lens{}
	for _, ci := range privacy.Clusters() {
		l[ci.Cluster] = privacy.MaxLevel
	}
	return l
}

func direction(c float64) string {
	if c < 0 {
		return "lowers"
	}
	return "raises"
}
