package analysis

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// monday is 2025-03-03, a Monday, 00:00 UTC.
var monday = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

func at(day, hour int) time.Time {
	return monday.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func findInsight(t *testing.T, d []Insight, key string) (Insight, bool) {
	t.Helper()
	for _, in := range d {
		if in.Key == key {
			return in, true
		}
	}
	return Insight{}, false
}

func mustInsight(t *testing.T, d []Insight, key string) Insight {
	t.Helper()
	in, ok := findInsight(t, d, key)
	if !ok {
		var keys []string
		for _, x := range d {
			keys = append(keys, x.Key)
		}
		t.Fatalf("no insight %q; have %v", key, keys)
	}
	return in
}

func keysOf(d []Insight) []string {
	var keys []string
	for _, x := range d {
		keys = append(keys, x.Key)
	}
	return keys
}

func bptr(b bool) *bool { return &b }

// spread returns n plays, one per (day, hour) cycling through days and hours.
func spread(n, days int, hours []int, artist func(i int) string) []Play {
	out := make([]Play, n)
	for i := range out {
		out[i] = Play{At: at(i%days, hours[i%len(hours)]), Artist: artist(i), Track: fmt.Sprintf("t%d", i%7)}
	}
	return out
}

func constArtist(string) func(int) string { return func(int) string { return "A" } }

func TestSampleConfidence(t *testing.T) {
	tests := []struct {
		n    int
		k    float64
		want float64
	}{
		{0, 100, 0}, {-3, 100, 0}, {100, 100, 0.5}, {300, 100, 0.75}, {10, 0, 0},
	}
	for _, tt := range tests {
		if got := SampleConfidence(tt.n, tt.k); !near(got, tt.want) {
			t.Errorf("SampleConfidence(%d, %v) = %v, want %v", tt.n, tt.k, got, tt.want)
		}
	}
	if SampleConfidence(1_000_000, 100) >= 1 {
		t.Error("confidence reached certainty")
	}
}

func TestNormalizedEntropy(t *testing.T) {
	tests := []struct {
		name   string
		counts map[string]float64
		want   float64
	}{
		{"empty", map[string]float64{}, 0},
		{"one item", map[string]float64{"a": 40}, 0},
		{"every play different", map[string]float64{"a": 1, "b": 1, "c": 1, "d": 1}, 1},
		{"two equal items of many plays", map[string]float64{"a": 50, "b": 50}, math.Log(2) / math.Log(100)},
		{"500 equal items is the top of the scale", equal(500, 2), 1},
		{"1000 equal items is capped", equal(1000, 1), 1},
	}
	for _, tt := range tests {
		if got := normalizedEntropy(tt.counts); !near(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func equal(n int, each float64) map[string]float64 {
	m := map[string]float64{}
	for i := range n {
		m[fmt.Sprint(i)] = each
	}
	return m
}
