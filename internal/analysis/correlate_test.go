package analysis

import (
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRanksAndSpearman(t *testing.T) {
	if got := ranks([]float64{10, 20, 20, 5}); !equalFloats(got, []float64{2, 3.5, 3.5, 1}) {
		t.Errorf("ranks with a tie = %v", got)
	}
	tests := []struct {
		name string
		x, y []float64
		want float64
		ok   bool
	}{
		{"monotone, not linear", []float64{1, 2, 3, 4, 5}, []float64{1, 4, 9, 16, 100}, 1, true},
		{"reversed", []float64{1, 2, 3, 4}, []float64{9, 7, 3, 1}, -1, true},
		// x ranks 1,2,3,4; y ranks 1.5,1.5,3,4: Pearson of the ranks.
		{"ties", []float64{1, 2, 3, 4}, []float64{0, 0, 5, 6}, 0.9486832980505138, true},
		{"constant", []float64{1, 2, 3}, []float64{2, 2, 2}, 0, false},
		{"too short", []float64{1, 2}, []float64{1, 2}, 0, false},
	}
	for _, tt := range tests {
		got, ok := spearman(tt.x, tt.y)
		if ok != tt.ok || math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: ρ = %v (%v), want %v (%v)", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9 {
			return false
		}
	}
	return true
}

func TestBenjaminiHochberg(t *testing.T) {
	tests := []struct {
		ps, want []float64
	}{
		// Sorted 0.01, 0.02, 0.03, 0.5 with m = 4: 0.04, 0.04, 0.04, 0.5.
		{[]float64{0.03, 0.01, 0.5, 0.02}, []float64{0.04, 0.04, 0.5, 0.04}},
		// Monotone: a larger p never gets a smaller q.
		{[]float64{0.001, 0.04, 0.041}, []float64{0.003, 0.041, 0.041}},
		{[]float64{0.9}, []float64{0.9}},
		{[]float64{0.6, 0.8}, []float64{0.8, 0.8}},
	}
	for _, tt := range tests {
		if got := benjaminiHochberg(tt.ps); !equalFloats(got, tt.want) {
			t.Errorf("BH(%v) = %v, want %v", tt.ps, got, tt.want)
		}
	}
}

func TestPermutationPIsSeededAndCalibrated(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	x, y := make([]float64, 100), make([]float64, 100)
	for i := range x {
		x[i] = r.NormFloat64()
		y[i] = 0.6*x[i] + r.NormFloat64()
	}
	rho, p, ok := permutationP(x, y, nil, 7)
	if !ok || rho < 0.3 || p > 0.001 {
		t.Errorf("related series: ρ %v p %v ok %v", rho, p, ok)
	}
	if _, p2, _ := permutationP(x, y, nil, 7); p2 != p {
		t.Errorf("same seed, p %v then %v", p, p2)
	}
	// Under the null, p-values are roughly uniform: about 5 % fall below
	// 0.05 (binomial(200, 0.05) lies in 2–20 with probability > 0.999).
	low := 0
	for k := range 200 {
		for i := range y {
			y[i] = r.NormFloat64()
		}
		if _, p, _ := permutationP(x, y, nil, uint64(k)); p < 0.05 {
			low++
		}
	}
	if low < 2 || low > 20 {
		t.Errorf("%d of 200 null tests had p < 0.05", low)
	}
}

func poisson(r *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// personDays generates days of plays, GitHub events, sent mail and watches
// in loc, each at a random hour within its window; counts come from fn.
func personDays(loc *time.Location, start time.Time, days int, fn func(day int, r *rand.Rand) (late, morning, evening, mails int), seed uint64) Input {
	r := rand.New(rand.NewPCG(seed, 99))
	var in Input
	y, m, d := start.In(loc).Date()
	for day := range days {
		late, morning, evening, mails := fn(day, r)
		at := func(h0, span int) time.Time {
			return time.Date(y, m, d+day, h0, 0, 0, 0, loc).Add(time.Duration(r.IntN(span*3600)) * time.Second)
		}
		for range late {
			in.CodeEvents = append(in.CodeEvents, CodeEvent{At: at(22, 2), Type: "PushEvent", Repo: "me/r"})
		}
		for range 2 { // daytime coding every day keeps the source present
			in.CodeEvents = append(in.CodeEvents, CodeEvent{At: at(10, 6), Type: "PushEvent", Repo: "me/r"})
		}
		for range morning {
			in.Plays = append(in.Plays, Play{At: at(7, 4), Artist: "Morning Artist", Track: "m"})
		}
		for range evening {
			in.Plays = append(in.Plays, Play{At: at(18, 3), Artist: "Evening Artist", Track: "e"})
		}
		for range mails {
			in.Mails = append(in.Mails, Mail{At: at(9, 8), Labels: []string{"SENT"}})
		}
		for range r.IntN(4) {
			in.Videos = append(in.Videos, Video{At: at(19, 3), Source: VideoWatch, Channel: "c"})
		}
	}
	return in
}

func TestCorrelationsPlanted(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	const days = 200
	lateByDay := map[int]int{}
	in := personDays(time.UTC, start, days, func(day int, r *rand.Rand) (int, int, int, int) {
		late := 0
		if r.Float64() < 0.3 {
			late = 1 + r.IntN(4)
		}
		lateByDay[day] = late
		// The morning after late coding, more music: 3 plays plus 2 per
		// late event of the night before.
		morning := poisson(r, 3+2*float64(lateByDay[day-1]))
		return late, morning, poisson(r, 5), poisson(r, 4)
	}, 1)
	now := start.AddDate(0, 0, days)
	var planted *Correlation
	for _, c := range Correlate(in, time.UTC, now) {
		if c.A.ID == "coding.late" && c.B.ID == "music.morning" && c.Lag == 1 {
			planted = &c
			break
		}
	}
	if planted == nil || planted.Q >= 0.01 || planted.Rho < 0.3 || planted.N != days-1 {
		t.Fatalf("planted relation: %+v", planted)
	}
	// The insight names the strongest measure of the pair of sources
	// (late coding, or all GitHub activity, which contains it).
	d := Correlations(in, time.UTC, now)
	if len(d.Insights) != 1 {
		t.Fatalf("insights %v", keysOf(d.Insights))
	}
	in1 := d.Insights[0]
	if !strings.HasPrefix(in1.Key, "correlation.coding.") || !strings.HasSuffix(in1.Key, ".next-day") || !strings.Contains(in1.Key, ".music.") {
		t.Fatalf("reported %s", in1.Key)
	}
	if in1.Cluster != "personal" || in1.Sensitivity < 60 {
		t.Errorf("cross-cluster relation in %s at sensitivity %d", in1.Cluster, in1.Sensitivity)
	}
	if !strings.Contains(in1.Body, "the next day is") ||
		!strings.Contains(in1.Body, "q < 0.0") {
		t.Errorf("body %q", in1.Body)
	}
	var labels []string
	for _, e := range in1.Evidence {
		labels = append(labels, e.Label)
	}
	if len(in1.Evidence) != 7 || in1.Evidence[1].Label != "Spearman ρ" || !strings.HasPrefix(in1.Evidence[4].Label, "Example ") {
		t.Errorf("evidence %v", labels)
	}
	if d.Features[FeatCorrelations] != 1 {
		t.Errorf("correlation count %v", d.Features[FeatCorrelations])
	}
	// Deterministic.
	if again := Correlations(in, time.UTC, now); !reflect.DeepEqual(again, d) {
		t.Error("two runs differ")
	}
}

// Pure noise: every measure independent of every other. Across all pairs
// and lags, nothing reaches q < 0.05.
func TestCorrelationsNoise(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	for _, seed := range []uint64{11, 12, 13, 14, 15} {
		in := personDays(time.UTC, start, 365, func(day int, r *rand.Rand) (int, int, int, int) {
			return poisson(r, 1), poisson(r, 3), poisson(r, 5), poisson(r, 4)
		}, seed)
		all := Correlate(in, time.UTC, start.AddDate(1, 0, 0))
		if len(all) < 20 {
			t.Fatalf("seed %d: only %d tests", seed, len(all))
		}
		for _, c := range all {
			if c.Q < corrMaxQ {
				t.Errorf("seed %d: noise %s → %s lag %d: ρ %.3f p %.4f q %.3f", seed, c.A.ID, c.B.ID, c.Lag, c.Rho, c.P, c.Q)
			}
		}
		if d := Correlations(in, time.UTC, start.AddDate(1, 0, 0)); len(d.Insights) != 0 {
			t.Errorf("seed %d: %d insights from noise", seed, len(d.Insights))
		}
	}
}

// Two measures that only share a weekly rhythm (both busy on weekdays) are
// not reported: the permutation keeps each weekday's days together.
func TestCorrelationsWeekdayRhythmAlone(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	in := personDays(time.UTC, start, 365, func(day int, r *rand.Rand) (int, int, int, int) {
		weekday := start.AddDate(0, 0, day).Weekday()
		work := 1.0
		if weekday == time.Saturday || weekday == time.Sunday {
			work = 0.1
		}
		return poisson(r, 2*work), poisson(r, 3), poisson(r, 5), poisson(r, 8*work)
	}, 3)
	for _, c := range Correlate(in, time.UTC, start.AddDate(1, 0, 0)) {
		if c.Q < corrMaxQ {
			t.Errorf("weekday rhythm reported as a relation: %s → %s lag %d ρ %.2f q %.3f", c.A.ID, c.B.ID, c.Lag, c.Rho, c.Q)
		}
	}
}

func TestCorrelationsNeedDaysTogether(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	in := personDays(time.UTC, start, 20, func(day int, r *rand.Rand) (int, int, int, int) {
		return day % 3, day % 3 * 2, 1, day % 3
	}, 4)
	if got := Correlate(in, time.UTC, start.AddDate(0, 0, 20)); len(got) != 0 {
		t.Errorf("%d tests over 20 days", len(got))
	}
}
