package analysis

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestMaxSplitT(t *testing.T) {
	xs := []float64{1, 1.1, 0.9, 1, 1, 1.1, 3, 3.1, 2.9, 3, 3, 3.1}
	_, split := maxSplitT(xs)
	if split != 6 {
		t.Errorf("split %d, want 6", split)
	}
	if _, split := maxSplitT([]float64{1, 2, 3, 4, 5, 6, 7}); split != -1 {
		t.Errorf("split %d in a series too short for two sides of %d", split, changeMinSide)
	}
}

// evening plays every day of a year in loc; from moveDay on, two hours
// later.
func movingListener(loc *time.Location, start time.Time, days, moveDay int, seed uint64) []Play {
	r := rand.New(rand.NewPCG(seed, 5))
	var out []Play
	y, m, d := start.In(loc).Date()
	for day := range days {
		h0 := 18
		if moveDay >= 0 && day >= moveDay {
			h0 = 20
		}
		for range 3 + r.IntN(5) {
			at := time.Date(y, m, d+day, h0, 0, 0, 0, loc).Add(time.Duration(r.IntN(3*3600)) * time.Second)
			out = append(out, Play{At: at, Artist: "A", Track: "t"})
		}
	}
	return out
}

func TestChangesListeningMovedLater(t *testing.T) {
	la, _ := time.LoadLocation("America/Los_Angeles")
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, la)
	// June 2 2025 is day 152.
	plays := movingListener(la, start, 365, 152, 1)
	d := Changes(Input{Plays: plays}, la, start.AddDate(1, 0, 0))
	in := mustInsight(t, d.Insights, "change.music.time")
	if !strings.HasPrefix(in.Title, "Since June 2025 you listen about two hours later") {
		t.Errorf("title %q", in.Title)
	}
	if !strings.Contains(in.Body, "week of 2 June 2025") || !strings.Contains(in.Body, "q < 0.0") {
		t.Errorf("body %q", in.Body)
	}
	if len(d.Insights) != 1 {
		t.Errorf("other changes: %v", keysOf(d.Insights))
	}
}

func TestChangesNothingChanged(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3, 4, 5} {
		start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
		in := personDays(time.UTC, start, 365, func(day int, r *rand.Rand) (int, int, int, int) {
			return poisson(r, 1), poisson(r, 3), poisson(r, 5), poisson(r, 4)
		}, seed)
		in.Plays = append(in.Plays, movingListener(time.UTC, start, 365, -1, seed)...)
		if d := Changes(in, time.UTC, start.AddDate(1, 0, 0)); len(d.Insights) != 0 {
			for _, x := range d.Insights {
				t.Errorf("seed %d: change found in steady data: %s: %s", seed, x.Title, x.Body)
			}
		}
	}
}

func TestChangesCodingMovedToWeekdays(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, berlin)
	r := rand.New(rand.NewPCG(9, 9))
	var evs []CodeEvent
	for day := range 300 {
		at := start.AddDate(0, 0, day)
		weekend := at.Weekday() == time.Saturday || at.Weekday() == time.Sunday
		n := 0
		switch {
		case day < 150 && weekend, day >= 150 && !weekend:
			n = 4 + r.IntN(4)
		case r.Float64() < 0.2:
			n = 1
		}
		for range n {
			evs = append(evs, CodeEvent{At: at.Add(time.Duration(10*3600+r.IntN(8*3600)) * time.Second), Type: "PushEvent"})
		}
	}
	d := Changes(Input{CodeEvents: evs}, berlin, start.AddDate(0, 0, 300))
	in := mustInsight(t, d.Insights, "change.coding.weekend")
	if !strings.Contains(in.Title, "moved from weekends to weekdays in June") {
		t.Errorf("title %q", in.Title)
	}
}

// A shift across midnight is "later" in any zone: the same plays read in
// Kolkata (UTC+05:30) move from 23:30–02:30 to 01:30–04:30.
func TestChangesListeningLaterAcrossMidnight(t *testing.T) {
	kolkata := mustZone(t, "Asia/Kolkata")
	start := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	plays := movingListener(time.UTC, start, 365, 152, 2) // 18:00–21:00 UTC, then 20:00–23:00
	d := Changes(Input{Plays: plays}, kolkata, start.AddDate(1, 0, 0))
	in := mustInsight(t, d.Insights, "change.music.time")
	if !strings.Contains(in.Title, "about two hours later") || !strings.Contains(in.Body, "Your typical play is at 03:") || !strings.Contains(in.Body, "later than the 00:") {
		t.Errorf("%s — %s", in.Title, in.Body)
	}
	if got := circularMeanHour([]float64{23, 1}); math.Abs(got) > 1e-9 && math.Abs(got-24) > 1e-9 {
		t.Errorf("circular mean of 23:00 and 01:00 = %v", got)
	}
	if got := unwrapAround(1, 22); got != 25 {
		t.Errorf("01:00 around 22:00 = %v", got)
	}
}
