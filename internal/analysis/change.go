package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Change detection settings. A weekly series needs changeMinWeeks weeks,
// each side of a change at least changeMinSide of them; a change must pass
// false discovery control across the series tested (q < changeMaxQ) and be
// at least its series' minimum effect.
const (
	changeMinWeeks = 12
	changeMinSide  = 4
	changeMaxQ     = 0.05
	changePermMax  = 1999
)

// FeatChanges counts the changes found.
const FeatChanges = "change.count"

// weekly is one measure per week (weeks start on Monday, local time).
// Weeks without enough data are left out (present false).
type weekly struct {
	id      string
	values  []float64
	present []bool
	first   int // week number of values[0]
}

// weekNumber counts weeks from the Monday before 1970-01-01 (a Thursday).
func weekNumber(day int) int { return (day + 3) / 7 }

// weekMonday is the day number of a week's Monday.
func weekMonday(w int) int { return w*7 - 3 }

// changePoint is the most likely single shift in a series: the split that
// maximises Welch-free, pooled two-sample t, with a permutation p-value for
// that maximum (shuffling weeks; the maximum over every split is
// recomputed each time, so trying many splits is paid for).
type changePoint struct {
	split          int // index of the first week after the change
	before, after  float64
	nBefore, nLate int
	p              float64
	firstWeek      int // week number of the first week after the change
}

func maxSplitT(xs []float64) (best float64, split int) {
	n := len(xs)
	var total, totalSq float64
	for _, x := range xs {
		total += x
		totalSq += x * x
	}
	var sum, sq float64
	best, split = -1, -1
	for k := 1; k < n; k++ {
		sum += xs[k-1]
		sq += xs[k-1] * xs[k-1]
		if k < changeMinSide || n-k < changeMinSide {
			continue
		}
		l, r := float64(k), float64(n-k)
		ml, mr := sum/l, (total-sum)/r
		ss := (sq - l*ml*ml) + ((totalSq - sq) - r*mr*mr)
		s2 := ss / float64(n-2)
		if s2 <= 1e-12 {
			s2 = 1e-12
		}
		t := math.Abs(ml-mr) / math.Sqrt(s2*(1/l+1/r))
		if t > best {
			best, split = t, k
		}
	}
	return best, split
}

func detectChange(w weekly, seed uint64) (changePoint, bool) {
	var xs []float64
	var weeks []int
	for i, v := range w.values {
		if w.present[i] {
			xs = append(xs, v)
			weeks = append(weeks, w.first+i)
		}
	}
	if len(xs) < changeMinWeeks {
		return changePoint{}, false
	}
	obs, split := maxSplitT(xs)
	if split < 0 {
		return changePoint{}, false
	}
	r := rand.New(rand.NewPCG(seed, 0xc4a9_6e))
	perm := append([]float64(nil), xs...)
	hits, runs := 0, 0
	p := 0.0
	for runs < changePermMax {
		r.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		runs++
		if t, _ := maxSplitT(perm); t >= obs-1e-9 {
			hits++
			if hits >= permStopAfter {
				break
			}
		}
	}
	if hits >= permStopAfter {
		p = float64(hits) / float64(runs)
	} else {
		p = float64(hits+1) / float64(runs+1)
	}
	return changePoint{split: split, before: meanOf(xs[:split]), after: meanOf(xs[split:]),
		nBefore: split, nLate: len(xs) - split, p: p, firstWeek: weeks[split]}, true
}

// changeSeries is one measure watched for change, with how to say it.
type changeSeries struct {
	w weekly
	// minEffect is the smallest change worth saying; relative means as a
	// share of the earlier level.
	minEffect float64
	relative  bool
	say       func(cp changePoint, since string) (title, body string)
	cluster   privacy.Cluster
	sub       privacy.Subcluster
	sens      int
	unit      func(v float64) string
}

// Changes finds shifts in weekly series (when you listen, how much you
// listen, code, mail after hours and watch, and whether you code on
// weekends) and says each plainly with its test. Nothing is said when
// nothing changed. Pure and deterministic.
func Changes(in Input, loc *time.Location, now time.Time) Detection {
	loc = orUTC(loc)
	d := newDetection()
	var cands []changeSeries
	cands = append(cands, listeningTimeSeries(in.Plays, loc, now))
	daily := dailySeries(in, loc, now)
	for _, s := range daily {
		switch s.feat.ID {
		case "music.plays":
			cands = append(cands, volumeSeries(s, "change.music.volume", "music", "plays", privacy.Creative, privacy.MusicalIdentity, 15))
		case "coding.events":
			cands = append(cands, volumeSeries(s, "change.coding.volume", "GitHub activity", "events", privacy.Professional, privacy.WorkProjects, 30))
		case "video.watches":
			cands = append(cands, volumeSeries(s, "change.video.volume", "YouTube watching", "videos", privacy.Personal, privacy.EntertainmentChoices, 35))
		}
	}
	cands = append(cands, codingWeekendSeries(in.CodeEvents, loc, now), mailAfterHoursSeries(in.Mails, loc, now))

	type found struct {
		c  changeSeries
		cp changePoint
	}
	var tested []found
	var ps []float64
	for _, c := range cands {
		if len(c.w.values) == 0 {
			continue
		}
		cp, ok := detectChange(c.w, seedFor(c.w.id))
		if !ok {
			continue
		}
		tested = append(tested, found{c, cp})
		ps = append(ps, cp.p)
	}
	qs := benjaminiHochberg(ps)
	n := 0
	for i, f := range tested {
		effect := f.cp.after - f.cp.before
		if f.c.relative {
			if f.cp.before <= 0 {
				continue
			}
			effect /= f.cp.before
		}
		if qs[i] >= changeMaxQ || math.Abs(effect) < f.c.minEffect {
			continue
		}
		n++
		monday := dayDate(weekMonday(f.cp.firstWeek))
		since := monthPhrase(monday.AddDate(0, 0, 3), now.In(loc))
		title, body := f.c.say(f.cp, since)
		in := Insight{Key: f.c.w.id, Cluster: f.c.cluster, Subcluster: f.c.sub, Sensitivity: f.c.sens, Source: SourcePattern,
			Title: title}
		in.Body = fmt.Sprintf("%s (from the week of %s; %d weeks before, %d since; change-point test q %s).",
			body, monday.Format("2 January 2006"), f.cp.nBefore, f.cp.nLate, qText(qs[i]))
		in.Evidence = []Evidence{
			{Label: "Since " + monday.Format("2 Jan 2006"), Value: f.c.unit(f.cp.after), Weight: 1 - qs[i]},
			{Label: "Before", Value: f.c.unit(f.cp.before), Weight: 1 - qs[i]},
			{Label: "Weeks compared", Value: fmt.Sprintf("%d before, %d since", f.cp.nBefore, f.cp.nLate), Weight: SampleConfidence(f.cp.nBefore+f.cp.nLate, 26)},
			{Label: "q (false discovery rate)", Value: qText(qs[i]), Weight: 1 - qs[i]},
		}
		in.Confidence = clamp01((1 - qs[i]) * SampleConfidence(min(f.cp.nBefore, f.cp.nLate), 8))
		d.Insights = append(d.Insights, in)
	}
	d.Features[FeatChanges] = float64(n)
	return d
}

// monthPhrase names the month of t ("June", or "June 2025" when it is not
// the current year).
func monthPhrase(t, now time.Time) string {
	if t.Year() == now.Year() {
		return t.Month().String()
	}
	return t.Format("January 2006")
}

// hourOfDay is the local time of day in hours (21:30 is 21.5).
func hourOfDay(local time.Time) float64 {
	return float64(local.Hour()) + float64(local.Minute())/60 + float64(local.Second())/3600
}

// circularMeanHour is the mean time of day of hours on the 24-hour circle
// (the mean of 23:00 and 01:00 is 00:00, not 12:00).
func circularMeanHour(hours []float64) float64 {
	var c, s float64
	for _, h := range hours {
		a := h / 24 * 2 * math.Pi
		c += math.Cos(a)
		s += math.Sin(a)
	}
	return angleHour(c, s)
}

// angleHour is the time of day (0–24) of the mean direction of summed
// cosines and sines of times of day.
func angleHour(c, s float64) float64 {
	m := math.Atan2(s, c) / (2 * math.Pi) * 24
	if m < 0 {
		m += 24
	}
	return m
}

// unwrapAround places h within 12 hours of centre (so 01:00 is 25 when the
// person's listening centres on 22:00): time of day is circular, and a shift
// that crosses midnight is still "later".
func unwrapAround(h, centre float64) float64 {
	for h < centre-12 {
		h += 24
	}
	for h >= centre+12 {
		h -= 24
	}
	return h
}

func clockText(h float64) string {
	m := (int(math.Round(h*60))%(24*60) + 24*60) % (24 * 60)
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

func hoursText(h float64) string {
	h = math.Abs(h)
	switch {
	case h < 1.25:
		return fmt.Sprintf("%.0f minutes", h*60)
	case h < 1.75:
		return "an hour and a half"
	}
	words := []string{"", "", "two", "three", "four", "five", "six", "seven", "eight"}
	if r := int(math.Round(h)); r < len(words) {
		return "about " + words[r] + " hours"
	}
	return fmt.Sprintf("about %.0f hours", h)
}

func listeningTimeSeries(plays []Play, loc *time.Location, now time.Time) changeSeries {
	// Each week's listening time is the circular mean of its plays' times
	// of day, placed within 12 hours of the person's overall mean: a play
	// at 23:59 and one at 00:01 are two minutes apart, and a shift across
	// midnight is "later".
	cosSum, sinSum, counts := map[int]float64{}, map[int]float64{}, map[int]int{}
	lo, hi := math.MaxInt, math.MinInt
	var allCos, allSin float64
	for _, p := range plays {
		if p.At.IsZero() || p.At.After(now) || p.Artist == "" {
			continue
		}
		l := p.At.In(loc)
		a := hourOfDay(l) / 24 * 2 * math.Pi
		w := weekNumber(dayNumber(l))
		cosSum[w] += math.Cos(a)
		sinSum[w] += math.Sin(a)
		allCos += math.Cos(a)
		allSin += math.Sin(a)
		counts[w]++
		lo, hi = min(lo, w), max(hi, w)
	}
	centre := angleHour(allCos, allSin)
	c := changeSeries{minEffect: 0.75, cluster: privacy.Personal, sub: privacy.HealthWellness, sens: 35,
		unit: func(v float64) string { return "typical play at " + clockText(v) }}
	c.w.id = "change.music.time"
	if len(counts) > 0 {
		c.w.first = lo
		for w := lo; w <= hi; w++ {
			ok := counts[w] >= 7
			v := 0.0
			if ok {
				v = unwrapAround(angleHour(cosSum[w], sinSum[w]), centre)
			}
			c.w.values = append(c.w.values, v)
			c.w.present = append(c.w.present, ok)
		}
	}
	c.say = func(cp changePoint, since string) (string, string) {
		dir := "later"
		if cp.after < cp.before {
			dir = "earlier"
		}
		return fmt.Sprintf("Since %s you listen %s %s in the day", since, hoursText(cp.after-cp.before), dir),
			fmt.Sprintf("Your typical play is at %s now, %s %s than the %s before", clockText(cp.after), hoursText(cp.after-cp.before), dir, clockText(cp.before))
	}
	return c
}

// volumeSeries turns a daily count into weekly totals over the weeks the
// source covers in full.
func volumeSeries(s series, id, noun, unit string, cl privacy.Cluster, sub privacy.Subcluster, sens int) changeSeries {
	c := changeSeries{minEffect: 0.5, relative: true, cluster: cl, sub: sub, sens: sens,
		unit: func(v float64) string { return fmt.Sprintf("%.0f %s a week", v, unit) }}
	c.w.id = id
	last := s.first + len(s.values) - 1
	fw, lw := weekNumber(s.first), weekNumber(last)
	if weekMonday(fw) < s.first {
		fw++
	}
	if weekMonday(lw)+6 > last {
		lw--
	}
	c.w.first = fw
	for w := fw; w <= lw; w++ {
		var sum float64
		for d := weekMonday(w); d < weekMonday(w)+7; d++ {
			v, _ := s.at(d)
			sum += v
		}
		c.w.values = append(c.w.values, sum)
		c.w.present = append(c.w.present, true)
	}
	c.say = func(cp changePoint, since string) (string, string) {
		more := "more"
		if cp.after < cp.before {
			more = "less"
		}
		rel := math.Abs(cp.after/cp.before - 1)
		return fmt.Sprintf("Since %s: %s %s", since, more, noun),
			fmt.Sprintf("Since %s your %s is %s %s: %.0f %s a week, against %.0f before", since, noun, pct(rel),
				map[bool]string{true: "higher", false: "lower"}[more == "more"], cp.after, unit, cp.before)
	}
	return c
}

// shareSeries is a weekly share of events (weekend, after hours), for weeks
// with at least five events.
func shareSeries(id string, times []time.Time, hit func(time.Time) bool, loc *time.Location, now time.Time) weekly {
	all, hits := map[int]int{}, map[int]int{}
	lo, hi := math.MaxInt, math.MinInt
	for _, t := range times {
		if t.IsZero() || t.After(now) {
			continue
		}
		l := t.In(loc)
		w := weekNumber(dayNumber(l))
		all[w]++
		if hit(l) {
			hits[w]++
		}
		lo, hi = min(lo, w), max(hi, w)
	}
	out := weekly{id: id}
	if len(all) == 0 {
		return out
	}
	out.first = lo
	for w := lo; w <= hi; w++ {
		ok := all[w] >= 5
		v := 0.0
		if ok {
			v = float64(hits[w]) / float64(all[w])
		}
		out.values = append(out.values, v)
		out.present = append(out.present, ok)
	}
	return out
}

func isWeekend(l time.Time) bool { return l.Weekday() == time.Saturday || l.Weekday() == time.Sunday }

func codingWeekendSeries(evs []CodeEvent, loc *time.Location, now time.Time) changeSeries {
	times := make([]time.Time, len(evs))
	for i, e := range evs {
		times[i] = e.At
	}
	c := changeSeries{w: shareSeries("change.coding.weekend", times, isWeekend, loc, now), minEffect: 0.25,
		cluster: privacy.Professional, sub: privacy.WorkProjects, sens: 30,
		unit: func(v float64) string { return pct(v) + " on weekends" }}
	c.say = func(cp changePoint, since string) (string, string) {
		if cp.after < cp.before {
			return fmt.Sprintf("Your GitHub activity moved from weekends to weekdays in %s", since),
				fmt.Sprintf("Since %s %s of your GitHub activity falls on weekends, down from %s", since, pct(cp.after), pct(cp.before))
		}
		return fmt.Sprintf("Your GitHub activity moved from weekdays to weekends in %s", since),
			fmt.Sprintf("Since %s %s of your GitHub activity falls on weekends, up from %s", since, pct(cp.after), pct(cp.before))
	}
	return c
}

func mailAfterHoursSeries(mails []Mail, loc *time.Location, now time.Time) changeSeries {
	var times []time.Time
	for _, m := range mails {
		if isSent(m) {
			times = append(times, m.At)
		}
	}
	c := changeSeries{w: shareSeries("change.mail.after-hours", times, afterHours, loc, now), minEffect: 0.2,
		cluster: privacy.Professional, sub: privacy.WorkProjects, sens: 70,
		unit: func(v float64) string { return pct(v) + " after hours" }}
	c.say = func(cp changePoint, since string) (string, string) {
		more := "more"
		if cp.after < cp.before {
			more = "less"
		}
		return fmt.Sprintf("Since %s you email %s after hours", since, more),
			fmt.Sprintf("Since %s %s of the email you send goes out before 08:00, after 19:00 or on weekends, against %s before", since, pct(cp.after), pct(cp.before))
	}
	return c
}
