package analysis

import (
	"hash/fnv"
	"math"
	"slices"
)

// ranks returns the ranks of xs (1…n), ties sharing their average rank, as
// Spearman's ρ needs them.
func ranks(xs []float64) []float64 {
	idx := make([]int, len(xs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	out := make([]float64, len(xs))
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && xs[idx[j+1]] == xs[idx[i]] {
			j++
		}
		r := float64(i+j)/2 + 1
		for k := i; k <= j; k++ {
			out[idx[k]] = r
		}
		i = j + 1
	}
	return out
}

// centred returns xs minus its mean and the root of its sum of squares.
func centred(xs []float64) ([]float64, float64) {
	var mean float64
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	out := make([]float64, len(xs))
	var ss float64
	for i, x := range xs {
		out[i] = x - mean
		ss += out[i] * out[i]
	}
	return out, math.Sqrt(ss)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// spearman is Spearman's rank correlation of x and y (equal lengths): the
// Pearson correlation of their tie-averaged ranks. ok is false when either
// is constant (ρ is undefined) or shorter than 3.
func spearman(x, y []float64) (rho float64, ok bool) {
	if len(x) < 3 || len(x) != len(y) {
		return 0, false
	}
	rx, sx := centred(ranks(x))
	ry, sy := centred(ranks(y))
	if sx == 0 || sy == 0 {
		return 0, false
	}
	return dot(rx, ry) / (sx * sy), true
}

// Permutation test settings. A test stops early once permStopAfter
// permuted statistics have reached the observed one (Besag & Clifford 1991,
// "Sequential Monte Carlo p-values", Biometrika 78(2)): a clearly null pair
// costs a few dozen permutations, a strong one up to permMax, whose p-value
// floor 1/(permMax+1) still lets Benjamini–Hochberg pass a handful of
// discoveries among a hundred or more tests.
const (
	permMax       = 4999
	permStopAfter = 20
)

// seedFor derives a permutation seed from a test's name, so each test's
// p-value is the same whatever order the tests run in.
func seedFor(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64()
}

// permutationP is the two-sided permutation p-value of the rank
// correlation of x and y beyond their strata (the weekday). Each series'
// ranks are centred within each stratum, so ρ measures how the two move
// together day to day once each one's weekly rhythm is taken out, and
// values of y are shuffled only among days of the same stratum: two
// measures that merely share a weekday pattern (both busy on Mondays) are
// not reported as related. strata may be nil (one stratum).
func permutationP(x, y []float64, strata []int, seed uint64) (rho, p float64, ok bool) {
	if len(x) < 3 || len(x) != len(y) {
		return 0, 1, false
	}
	// Group positions by stratum.
	groups := map[int][]int{}
	var keys []int
	for i := range y {
		k := 0
		if strata != nil {
			k = strata[i]
		}
		if _, seen := groups[k]; !seen {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	slices.Sort(keys)
	rx, sx := withinCentred(ranks(x), groups, keys)
	ry, sy := withinCentred(ranks(y), groups, keys)
	if sx == 0 || sy == 0 {
		return 0, 1, false
	}
	rho = dot(rx, ry) / (sx * sy)
	obs := math.Abs(dot(rx, ry)) - 1e-9*sx*sy

	// Lay both series out stratum by stratum, so each stratum's shuffle
	// works on a contiguous run (the dot product does not care about the
	// order, only about which x meets which y).
	gx, gy := make([]float64, 0, len(rx)), make([]float64, 0, len(ry))
	bounds := make([]int, 0, len(keys)+1)
	for _, k := range keys {
		bounds = append(bounds, len(gx))
		for _, i := range groups[k] {
			gx = append(gx, rx[i])
			gy = append(gy, ry[i])
		}
	}
	bounds = append(bounds, len(gx))
	rng := splitmix(seed)
	hits, runs := 0, 0
	for runs < permMax {
		for b := 0; b+1 < len(bounds); b++ {
			g := gy[bounds[b]:bounds[b+1]]
			for i := len(g) - 1; i > 0; i-- {
				j := rng.below(i + 1)
				g[i], g[j] = g[j], g[i]
			}
		}
		runs++
		if math.Abs(dot(gx, gy)) >= obs {
			hits++
			if hits >= permStopAfter {
				return rho, float64(hits) / float64(runs), true
			}
		}
	}
	return rho, float64(hits+1) / float64(runs+1), true
}

// splitmix is SplitMix64 (Steele, Lea & Flood 2014), a small, fast, seeded
// generator: shuffling is most of a permutation test's work.
type splitmixState struct{ s uint64 }

func splitmix(seed uint64) *splitmixState { return &splitmixState{seed} }

func (r *splitmixState) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a number in [0, n) by Lemire's multiply-shift; without the
// rejection step its bias is below n/2^32, under 1e-7 for a year of days.
func (r *splitmixState) below(n int) int {
	return int((r.next() >> 32) * uint64(n) >> 32)
}

// withinCentred subtracts each stratum's mean from its values and returns
// them with the root of their sum of squares.
func withinCentred(xs []float64, groups map[int][]int, keys []int) ([]float64, float64) {
	out := make([]float64, len(xs))
	var ss float64
	for _, k := range keys {
		g := groups[k]
		var m float64
		for _, i := range g {
			m += xs[i]
		}
		m /= float64(len(g))
		for _, i := range g {
			out[i] = xs[i] - m
			ss += out[i] * out[i]
		}
	}
	return out, math.Sqrt(ss)
}

// benjaminiHochberg returns the BH-adjusted q-values of ps (same order):
// q_i = min over j with p_j ≥ p_i of p_j·m/rank_j, capped at 1. Rejecting
// q < α keeps the expected share of false discoveries among the reported
// ones at α (Benjamini & Hochberg 1995, JRSS B 57(1)).
func benjaminiHochberg(ps []float64) []float64 {
	m := len(ps)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case ps[a] < ps[b]:
			return -1
		case ps[a] > ps[b]:
			return 1
		}
		return 0
	})
	q := make([]float64, m)
	running := 1.0
	for k := m - 1; k >= 0; k-- {
		i := idx[k]
		running = math.Min(running, ps[i]*float64(m)/float64(k+1))
		q[i] = math.Min(running, 1)
	}
	return q
}

func meanOf(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
