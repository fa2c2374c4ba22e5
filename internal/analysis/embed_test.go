package analysis

import (
	"math"
	"slices"
	"testing"
)

func TestEmbed(t *testing.T) {
	if EmbeddingSize != len(embeddingDims) {
		t.Fatalf("EmbeddingSize %d, dims %d", EmbeddingSize, len(embeddingDims))
	}
	zero := Embed(nil)
	if len(zero) != EmbeddingSize || !IsZero(zero) {
		t.Fatalf("no features gave %v, want %d zeros", zero, EmbeddingSize)
	}
	if v := Embed(Features{FeatMusicPlays: 20}); !IsZero(v) {
		t.Errorf("a feature outside the embedding moved it: %v", v)
	}
	// A feature at its neutral centre says nothing either.
	if v := Embed(Features{FeatMusicArtistDiversity: 0.5}); !IsZero(v) {
		t.Errorf("neutral feature gave %v", v)
	}

	v := Embed(Features{FeatMusicArtistDiversity: 1, FeatBrowseAttention: 0})
	var norm float64
	for _, x := range v {
		norm += float64(x) * float64(x)
	}
	if math.Abs(norm-1) > 1e-6 {
		t.Errorf("norm² %v, want 1", norm)
	}
	if v[3] <= 0 || v[15] >= 0 || math.Abs(float64(v[3]+v[15])) > 1e-6 {
		t.Errorf("dims 3 and 15 = %v, %v; want equal and opposite", v[3], v[15])
	}
}

func TestEmbeddingDimsAreProduced(t *testing.T) {
	res := Analyze(SyntheticYear(3, monday), nil, monday.AddDate(1, 0, 0))
	for i, d := range embeddingDims {
		if _, ok := res.Features[d.feature]; !ok {
			t.Errorf("dimension %d uses feature %q that no detector produced", i, d.feature)
		}
	}
	if IsZero(res.Embedding) {
		t.Error("a full user-year embedded to zero")
	}
}

func TestCosine(t *testing.T) {
	tests := []struct {
		name string
		a, b []float32
		want float64
	}{
		{"identical", []float32{1, 2, 3}, []float32{1, 2, 3}, 1},
		{"scaled", []float32{1, 2, 3}, []float32{2, 4, 6}, 1},
		{"opposite", []float32{1, -1}, []float32{-1, 1}, -1},
		{"orthogonal", []float32{1, 0}, []float32{0, 1}, 0},
		{"different lengths", []float32{1, 0}, []float32{1, 0, 0}, 0},
		{"zero vector", []float32{0, 0}, []float32{1, 0}, 0},
		{"empty", nil, nil, 0},
	}
	for _, tt := range tests {
		if got := Cosine(tt.a, tt.b); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMostSimilar(t *testing.T) {
	target := []float32{1, 0}
	cands := map[string][]float32{
		"same":       {2, 0},
		"close":      {1, 0.2},
		"also-close": {1, 0.2}, // tie with "close": id decides
		"opposite":   {-1, 0},
		"short":      {1},
		"empty":      {0, 0},
	}
	ids := func(ms []Match) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}
	tests := []struct {
		name string
		k    int
		want []string
	}{
		{"top 3", 3, []string{"same", "also-close", "close"}},
		{"k larger than candidates", 10, []string{"same", "also-close", "close", "opposite"}},
		{"k zero", 0, nil},
		{"k negative", -1, nil},
	}
	for _, tt := range tests {
		if got := ids(MostSimilar(target, cands, tt.k)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
	if got := MostSimilar([]float32{0, 0}, cands, 3); got != nil {
		t.Errorf("zero target matched %v", got)
	}
}
