package analysis

import (
	"cmp"
	"math"
	"slices"

	"github.com/twinme/twinme/internal/privacy"
)

// embeddingDims lists, in order, what each dimension of the behavioural
// embedding measures and the life cluster whose data it is (as the
// detectors file the insights about it). A dimension is the feature's
// distance from a neutral centre, scaled to −1…1; a missing feature is 0
// (neutral), so users are compared only on what is known about them. The
// vector is then scaled to unit length.
var embeddingDims = []struct {
	feature string
	centre  float64
	cluster privacy.Cluster
}{
	{FeatMusicMorning, 1.0 / 3, privacy.Personal},           // 0 morning listening
	{FeatMusicEvening, 1.0 / 3, privacy.Personal},           // 1 evening listening
	{FeatMusicNight, 1.0 / 3, privacy.Personal},             // 2 night listening
	{FeatMusicArtistDiversity, 0.5, privacy.Creative},       // 3 artist diversity
	{FeatMusicGenreDiversity, 0.5, privacy.Creative},        // 4 genre diversity
	{FeatMusicDiscovery, 0.2, privacy.Creative},             // 5 discovery rate
	{FeatMusicSkipRate, 0.25, privacy.Creative},             // 6 skip rate
	{FeatMusicRepeatRatio, 0.5, privacy.Creative},           // 7 repeat ratio
	{FeatVideoNightShare, 0.2, privacy.Personal},            // 8 late-night video watching
	{FeatVideoCategoryDiversity, 0.5, privacy.Personal},     // 9 video interest diversity
	{FeatCodingWeekendShare, 2.0 / 7, privacy.Professional}, // 10 weekend coding
	{FeatCodingCollaboration, 0.3, privacy.Professional},    // 11 collaboration share
	{FeatCodingActiveDayShare, 0.5, privacy.Professional},   // 12 share of days with GitHub activity
	{FeatMailAfterHours, 0.25, privacy.Professional},        // 13 after-hours email
	{FeatDiscordCommunity, 0.3, privacy.Personal},           // 14 community membership
	{FeatBrowseAttention, 0.5, privacy.Personal},            // 15 attention
	{FeatBrowseMultitasking, 0.5, privacy.Personal},         // 16 multitasking
	{FeatBrowseTypingSpeed, 0.5, privacy.Professional},      // 17 typing speed
}

// EmbeddingSize is the length of every vector Embed returns.
const EmbeddingSize = 18

// Embed returns the user's behavioural embedding from every feature (the
// owner's own, for similar periods): EmbeddingSize dimensions (see
// embeddingDims), unit length, or all zeros when no feature is known.
func Embed(f Features) []float32 { return RevealedEmbedding(f, ownerLens()) }

// RevealedEmbedding is the embedding of what lens l lets its audience see:
// a dimension counts only when its cluster's level reaches
// DerivedSensitivity; every other dimension is 0, as if unknown. A user
// hidden in every cluster gets the zero vector, which matches nothing.
func RevealedEmbedding(f Features, l privacy.Lens) []float32 {
	v := make([]float64, len(embeddingDims))
	var norm float64
	for i, d := range embeddingDims {
		if _, ok := l.Visible(d.cluster, DerivedSensitivity); !ok {
			continue
		}
		x, ok := f[d.feature]
		if !ok || math.IsNaN(x) {
			continue
		}
		v[i] = (clamp01(x) - d.centre) / math.Max(d.centre, 1-d.centre)
		norm += v[i] * v[i]
	}
	out := make([]float32, len(v))
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i := range v {
		out[i] = float32(v[i] / norm)
	}
	return out
}

// Cosine is the cosine similarity of a and b, −1…1. Vectors of different
// lengths, and zero vectors (nothing known), have similarity 0.
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// Match is one candidate and its similarity to the target.
type Match struct {
	ID    string
	Score float64
}

// MostSimilar returns the k candidates most similar to target, best first,
// ties broken by id. Candidates of another length or with a zero vector are
// skipped, and a zero target matches nothing: nothing known is not similar to
// anything.
func MostSimilar(target []float32, candidates map[string][]float32, k int) []Match {
	if k <= 0 || IsZero(target) {
		return nil
	}
	out := make([]Match, 0, len(candidates))
	for id, c := range candidates {
		if len(c) != len(target) || IsZero(c) {
			continue
		}
		out = append(out, Match{ID: id, Score: Cosine(target, c)})
	}
	slices.SortFunc(out, func(a, b Match) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}

// IsZero reports whether v carries no signal (all components zero): such a
// vector has no direction to compare.
func IsZero(v []float32) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}
