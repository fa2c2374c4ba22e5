package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"time"
)

// SampleConfidence is how sure a detector may be after n observations:
// n / (n + k). It is 0 with no data, 0.5 once n reaches k (the sample at which
// a detector's pattern is half-established) and approaches 1 only slowly, so
// more data always helps and no sample makes a pattern certain. Detectors
// multiply it by how clear the pattern itself is where that applies.
func SampleConfidence(n int, k float64) float64 {
	if n <= 0 || k <= 0 {
		return 0
	}
	return float64(n) / (float64(n) + k)
}

func clamp01(x float64) float64 {
	switch {
	case math.IsNaN(x) || x < 0:
		return 0
	case x > 1:
		return 1
	}
	return x
}

// saturate maps a non-negative quantity to 0–1: x/(x+half), 0.5 at half.
func saturate(x, half float64) float64 {
	if x <= 0 || half <= 0 {
		return 0
	}
	return x / (x + half)
}

// diversityReference is the number of equally played items at which diversity
// reaches 1: spreading plays evenly over 500 artists (or genres, channels…) is
// as diverse as this scale goes.
const diversityReference = 500

// normalizedEntropy is the Shannon entropy of counts (in nats) divided by
// ln(min(total, diversityReference)): 0 when one item takes everything, 1 when
// plays spread evenly over diversityReference items, or over as many items as
// there are plays when there are fewer. Capped at 1.
func normalizedEntropy(counts map[string]float64) float64 {
	values := inKeyOrder(counts)
	var total float64
	for _, c := range values {
		total += c
	}
	if total <= 1 {
		return 0
	}
	var h float64
	for _, c := range values {
		if c > 0 {
			p := c / total
			h -= p * math.Log(p)
		}
	}
	return clamp01(h / math.Log(math.Min(total, diversityReference)))
}

type ranked struct {
	Name  string
	Count float64
}

// top returns the n largest counts, ties broken by name so that results are
// deterministic.
func top(counts map[string]float64, n int) []ranked {
	out := make([]ranked, 0, len(counts))
	for k, v := range counts {
		out = append(out, ranked{k, v})
	}
	slices.SortFunc(out, func(a, b ranked) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}

func sum(counts map[string]float64) float64 {
	var t float64
	for _, v := range inKeyOrder(counts) {
		t += v
	}
	return t
}

// inKeyOrder returns m's values ordered by key. Floating-point sums depend on
// the order of their terms, and map order is random: summing in key order
// keeps every result identical from run to run.
func inKeyOrder(m map[string]float64) []float64 {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]float64, len(keys))
	for i, k := range keys {
		out[i] = m[k]
	}
	return out
}

func pct(x float64) string { return fmt.Sprintf("%.0f%%", 100*x) }

// rhythm is activity by local hour and weekday.
type rhythm struct {
	hours    [24]float64
	weekdays [7]float64 // time.Sunday = 0
	days     map[civilDay]bool
	n        int
}

type civilDay struct {
	y int
	m time.Month
	d int
}

func dayOf(t time.Time) civilDay {
	y, m, d := t.Date()
	return civilDay{y, m, d}
}

func (d civilDay) time() time.Time { return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC) }

func newRhythm() *rhythm { return &rhythm{days: map[civilDay]bool{}} }

// add records one event; local must already be in the user's time zone.
func (r *rhythm) add(local time.Time) {
	r.hours[local.Hour()]++
	r.weekdays[local.Weekday()]++
	r.days[dayOf(local)] = true
	r.n++
}

// share of events with from ≤ hour < to, wrapping past midnight when from > to.
func (r *rhythm) share(from, to int) float64 {
	if r.n == 0 {
		return 0
	}
	var c float64
	for h := from; h != to; h = (h + 1) % 24 {
		c += r.hours[h]
	}
	return c / float64(r.n)
}

func (r *rhythm) weekendShare() float64 {
	if r.n == 0 {
		return 0
	}
	return (r.weekdays[time.Saturday] + r.weekdays[time.Sunday]) / float64(r.n)
}

func (r *rhythm) peakHour() int {
	best := 0
	for h := 1; h < 24; h++ {
		if r.hours[h] > r.hours[best] {
			best = h
		}
	}
	return best
}

func (r *rhythm) peakWeekday() time.Weekday {
	best := time.Sunday
	for d := time.Monday; d <= time.Saturday; d++ {
		if r.weekdays[d] > r.weekdays[best] {
			best = d
		}
	}
	return best
}

func hourRange(h int) string { return fmt.Sprintf("%02d:00–%02d:00", h, (h+1)%24) }

// Day windows used for chronotype and rhythm features, local time.
const (
	morningFrom, morningTo = 5, 12  // 7 h
	eveningFrom, eveningTo = 17, 22 // 5 h
	nightFrom, nightTo     = 22, 5  // 7 h, across midnight
)
