package analysis

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Correlation settings: a relation becomes an insight only with at least
// corrMinDays days where both measures exist, |ρ| of at least corrMinRho
// (a weak but noticeable relation; smaller ones are true of nobody in
// particular), and a Benjamini–Hochberg q-value below corrMaxQ across every
// pair and lag tested for the user.
const (
	corrMinDays   = 28
	corrMinRho    = 0.2
	corrMaxQ      = 0.05
	corrMaxReport = 5
)

// FeatCorrelations counts the relations that survived.
const FeatCorrelations = "correlation.count"

// dailyFeature is one measure per local day, in words the person
// recognises.
type dailyFeature struct {
	ID     string // "coding.late"
	Source string // pairs of one source are not tested: they share their data
	// Noun names the measure ("late-night coding"); When describes a day on
	// which it was high ("you code past 22:00").
	Noun, When string
	Unit       string // "plays", "events", "min"
	Cluster    privacy.Cluster
	Sub        privacy.Subcluster
}

// dailyFeatures are the measures correlated, in test order.
var dailyFeatures = []dailyFeature{
	{"music.plays", SourceSpotify, "listening", "you listen to more music than usual", "plays", privacy.Creative, privacy.MusicalIdentity},
	{"music.morning", SourceSpotify, "morning listening", "you listen to music in the morning", "plays", privacy.Personal, privacy.HealthWellness},
	{"music.late", SourceSpotify, "late-night listening", "you listen to music after 22:00", "plays", privacy.Personal, privacy.HealthWellness},
	{"coding.events", SourceGitHub, "GitHub activity", "you are busier on GitHub", "events", privacy.Professional, privacy.WorkProjects},
	{"coding.late", SourceGitHub, "late-night coding", "you code past 22:00", "events", privacy.Professional, privacy.WorkProjects},
	{"mail.sent", SourceGmail, "email sent", "you send more email", "emails", privacy.Professional, privacy.WorkProjects},
	{"mail.after", SourceGmail, "after-hours email", "you send email after hours", "emails", privacy.Professional, privacy.WorkProjects},
	{"video.watches", SourceYouTube, "YouTube watching", "you watch more YouTube", "videos", privacy.Personal, privacy.EntertainmentChoices},
	{"browse.focus", SourceExtension, "focused browsing", "you stay longer on one page", "min", privacy.Personal, privacy.HealthWellness},
	{"browse.switches", SourceExtension, "tab switching", "you switch tabs more", "switches", privacy.Personal, privacy.HealthWellness},
}

// series is one feature's values per local day over the days its source
// covers: from the source's first to its last item, a day without items is
// a zero (the source was there and saw nothing); outside, days are absent.
type series struct {
	feat   dailyFeature
	first  int // day number of values[0]
	values []float64
}

func (s series) at(day int) (float64, bool) {
	i := day - s.first
	if i < 0 || i >= len(s.values) {
		return 0, false
	}
	return s.values[i], true
}

// dayNumber is a local calendar day counted from 1970-01-01: consecutive
// days differ by one whatever the clocks did that night (a 23- or 25-hour
// day across a DST change is still one day).
func dayNumber(local time.Time) int {
	y, m, d := local.Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dayDate is the calendar date of a day number (at 00:00 UTC, for
// formatting and weekdays only).
func dayDate(n int) time.Time { return time.Unix(int64(n)*86400, 0).UTC() }

// DailySeries builds every daily feature of in, in the user's time zone.
// Items after now are ignored. A feature is missing when its source has no
// items.
func dailySeries(in Input, loc *time.Location, now time.Time) []series {
	type span struct{ lo, hi int }
	spans := map[string]*span{}
	vals := map[string]map[int]float64{}
	for _, f := range dailyFeatures {
		vals[f.ID] = map[int]float64{}
	}
	cover := func(src string, day int) {
		s := spans[src]
		if s == nil {
			spans[src] = &span{day, day}
			return
		}
		s.lo, s.hi = min(s.lo, day), max(s.hi, day)
	}
	late := func(h int) bool { return h >= nightFrom || h < nightTo }
	for _, p := range in.Plays {
		if p.At.IsZero() || p.At.After(now) || p.Artist == "" {
			continue
		}
		l := p.At.In(loc)
		d := dayNumber(l)
		cover(SourceSpotify, d)
		vals["music.plays"][d]++
		if h := l.Hour(); h >= morningFrom && h < morningTo {
			vals["music.morning"][d]++
		} else if late(h) {
			vals["music.late"][d]++
		}
	}
	for _, e := range in.CodeEvents {
		if e.At.IsZero() || e.At.After(now) {
			continue
		}
		l := e.At.In(loc)
		d := dayNumber(l)
		cover(SourceGitHub, d)
		vals["coding.events"][d]++
		if late(l.Hour()) {
			vals["coding.late"][d]++
		}
	}
	for _, m := range in.Mails {
		if m.At.IsZero() || m.At.After(now) {
			continue
		}
		l := m.At.In(loc)
		d := dayNumber(l)
		cover(SourceGmail, d)
		if isSent(m) {
			vals["mail.sent"][d]++
			if afterHours(l) {
				vals["mail.after"][d]++
			}
		}
	}
	for _, v := range in.Videos {
		if v.Source != VideoWatch || v.At.IsZero() || v.At.After(now) {
			continue
		}
		d := dayNumber(v.At.In(loc))
		cover(SourceYouTube, d)
		vals["video.watches"][d]++
	}
	for _, e := range in.Observer {
		if e.At.IsZero() || e.At.After(now) {
			continue
		}
		d := dayNumber(e.At.In(loc))
		cover(SourceExtension, d)
		switch e.Type {
		case EventBlur:
			if ms := e.Data["duration_ms"]; ms > 0 && !math.IsInf(ms, 0) {
				vals["browse.focus"][d] += ms / 60000
			}
		case EventTabSwitch:
			vals["browse.switches"][d]++
		}
	}
	var out []series
	for _, f := range dailyFeatures {
		sp := spans[f.Source]
		if sp == nil {
			continue
		}
		s := series{feat: f, first: sp.lo, values: make([]float64, sp.hi-sp.lo+1)}
		for d, v := range vals[f.ID] {
			s.values[d-sp.lo] = v
		}
		out = append(out, s)
	}
	return out
}

// Correlation is one tested relation: A on a day against B on the same day
// (Lag 0) or on the next day (Lag 1).
type Correlation struct {
	A, B dailyFeature
	Lag  int
	Rho  float64
	N    int // days with both values
	P, Q float64
	// Rel is B's mean on days A was high over its mean on the other days,
	// minus one ("40 % more"); NaN when B was zero on the other days.
	Rel float64
	// Examples are a few of A's highest days with B's value (the next day's
	// for Lag 1), most extreme first.
	Examples []CorrelationDay
}

// CorrelationDay is one example day of a correlation.
type CorrelationDay struct {
	Day  time.Time // A's day
	A, B float64
}

// correlationTest is one pair and lag to test.
type correlationTest struct {
	a, b   series
	lag    int
	x, y   []float64
	days   []int
	strata []int
}

// Correlate tests every pair of daily features from different sources, at
// lag 0 and at lag 1 in both directions, over the days both exist: Spearman
// ρ, a two-sided permutation p-value (shuffling within weekdays, seeded by
// the test's name, so the result is deterministic), and Benjamini–Hochberg
// q-values across all tests. It returns every test, strongest evidence
// first; see Correlations for the ones worth saying.
func Correlate(in Input, loc *time.Location, now time.Time) []Correlation {
	return correlateSeries(dailySeries(in, orUTC(loc), now))
}

func correlateSeries(ss []series) []Correlation {
	var tests []correlationTest
	for i := range ss {
		for j := range ss {
			if i == j || ss[i].feat.Source == ss[j].feat.Source {
				continue
			}
			if i < j {
				if t, ok := pairTest(ss[i], ss[j], 0); ok {
					tests = append(tests, t)
				}
			}
			if t, ok := pairTest(ss[i], ss[j], 1); ok {
				tests = append(tests, t)
			}
		}
	}
	out := make([]Correlation, 0, len(tests))
	var ps []float64
	for _, t := range tests {
		name := fmt.Sprintf("%s|%s|%d", t.a.feat.ID, t.b.feat.ID, t.lag)
		rho, p, ok := permutationP(t.x, t.y, t.strata, seedFor(name))
		if !ok {
			continue
		}
		out = append(out, Correlation{A: t.a.feat, B: t.b.feat, Lag: t.lag, Rho: rho, N: len(t.x), P: p,
			Rel: relativeEffect(t.x, t.y), Examples: examples(t)})
		ps = append(ps, p)
	}
	for i, q := range benjaminiHochberg(ps) {
		out[i].Q = q
	}
	slices.SortStableFunc(out, func(a, b Correlation) int {
		if c := cmp.Compare(a.Q, b.Q); c != 0 {
			return c
		}
		return cmp.Compare(math.Abs(b.Rho), math.Abs(a.Rho))
	})
	return out
}

// pairTest lines a's days up with b's days (shifted by lag) where both
// exist.
func pairTest(a, b series, lag int) (correlationTest, bool) {
	t := correlationTest{a: a, b: b, lag: lag}
	lo := max(a.first, b.first-lag)
	hi := min(a.first+len(a.values)-1, b.first+len(b.values)-1-lag)
	if hi-lo+1 < corrMinDays {
		return t, false
	}
	for d := lo; d <= hi; d++ {
		x, _ := a.at(d)
		y, _ := b.at(d + lag)
		t.x = append(t.x, x)
		t.y = append(t.y, y)
		t.days = append(t.days, d)
		t.strata = append(t.strata, int(dayDate(d).Weekday()))
	}
	return t, true
}

// relativeEffect compares y's mean on days x was above its median with the
// other days (on days x was positive, when the median is 0 and some are).
func relativeEffect(x, y []float64) float64 {
	med := median(x)
	var hi, lo []float64
	for i := range x {
		if x[i] > med {
			hi = append(hi, y[i])
		} else {
			lo = append(lo, y[i])
		}
	}
	ml := meanOf(lo)
	if len(hi) == 0 || ml == 0 {
		return math.NaN()
	}
	return meanOf(hi)/ml - 1
}

func examples(t correlationTest) []CorrelationDay {
	idx := make([]int, len(t.x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if c := cmp.Compare(t.x[b], t.x[a]); c != 0 {
			return c
		}
		return cmp.Compare(t.days[b], t.days[a]) // recent first among equals
	})
	var out []CorrelationDay
	for _, i := range idx[:min(3, len(idx))] {
		out = append(out, CorrelationDay{Day: dayDate(t.days[i]), A: t.x[i], B: t.y[i]})
	}
	return out
}

// Correlations returns the insights for the relations that survive false
// discovery control (q < 0.05) with an effect worth saying (|ρ| ≥ 0.2 over
// at least 28 days), at most five, strongest first. Pure and deterministic.
func Correlations(in Input, loc *time.Location, now time.Time) Detection {
	d := newDetection()
	all := Correlate(in, loc, now)
	var kept []Correlation
	seen := map[string]bool{}
	for _, c := range all {
		if c.Q >= corrMaxQ || math.Abs(c.Rho) < corrMinRho || c.N < corrMinDays {
			continue
		}
		// One insight per pair of sources: the same sources at another lag
		// or through a related measure (all GitHub events and the late
		// ones) say the same thing less well.
		pair := c.A.Source + "|" + c.B.Source
		if c.A.Source > c.B.Source {
			pair = c.B.Source + "|" + c.A.Source
		}
		if seen[pair] {
			continue
		}
		seen[pair] = true
		kept = append(kept, c)
	}
	d.Features[FeatCorrelations] = float64(len(kept))
	for _, c := range kept[:min(len(kept), corrMaxReport)] {
		d.Insights = append(d.Insights, correlationInsight(c))
	}
	return d
}

func correlationInsight(c Correlation) Insight {
	// Both sides in one cluster: it lives there. Otherwise it links two
	// parts of a life, and sits in personal health & wellness (daily
	// rhythm) at a sensitivity above either side's measures.
	cl, sub, sens := privacy.Personal, privacy.HealthWellness, 60
	if c.A.Cluster == c.B.Cluster {
		cl, sub, sens = c.A.Cluster, c.A.Sub, 45
		if c.A.Sub != c.B.Sub {
			sub = c.B.Sub
		}
	}
	if c.A.ID == "mail.after" || c.B.ID == "mail.after" {
		sens = max(sens, 70) // after-hours mail is already sensitive alone
	}
	key := fmt.Sprintf("correlation.%s.%s", c.A.ID, c.B.ID)
	when := "the same day"
	if c.Lag == 1 {
		key += ".next-day"
		when = "the next day"
	}
	more := "more"
	if c.Rho < 0 {
		more = "less"
	}
	in := Insight{Key: key, Cluster: cl, Subcluster: sub, Sensitivity: sens, Source: SourcePattern}
	for _, other := range []privacy.Cluster{c.A.Cluster, c.B.Cluster} {
		if other != cl && !slices.Contains(in.Also, other) {
			in.Also = append(in.Also, other) // shown only where both sides are (issue 9)
		}
	}
	in.Title = capitalize(fmt.Sprintf("%s goes with %s %s %s", c.A.Noun, more, c.B.Noun, when))
	var effect string
	switch {
	case math.IsNaN(c.Rel) || math.IsInf(c.Rel, 0):
		effect = fmt.Sprintf("your %s %s tends to be %s", c.B.Noun, when, map[bool]string{true: "higher", false: "lower"}[c.Rho > 0])
	case c.Rel >= 0:
		effect = fmt.Sprintf("your %s %s is %s higher", c.B.Noun, when, pct(c.Rel))
	default:
		effect = fmt.Sprintf("your %s %s is %s lower", c.B.Noun, when, pct(-c.Rel))
	}
	in.Body = fmt.Sprintf("On days %s, %s (ρ = %.2f over %d days, q %s).", c.A.When, effect, c.Rho, c.N, qText(c.Q))
	in.Evidence = []Evidence{
		{Label: "Pair", Value: fmt.Sprintf("%s → %s (%s)", c.A.Noun, c.B.Noun, when), Weight: math.Abs(c.Rho)},
		{Label: "Spearman ρ", Value: fmt.Sprintf("%.2f", c.Rho), Weight: math.Abs(c.Rho)},
		{Label: "Days compared", Value: fmt.Sprint(c.N), Weight: SampleConfidence(c.N, 60)},
		{Label: "q (false discovery rate)", Value: qText(c.Q), Weight: 1 - c.Q},
	}
	for _, ex := range c.Examples {
		bday := ex.Day.AddDate(0, 0, c.Lag)
		in.Evidence = append(in.Evidence, Evidence{
			Label:  "Example " + ex.Day.Format("Mon 2 Jan 2006"),
			Value:  fmt.Sprintf("%s %s; %s %s %s", fmtAmount(ex.A), c.A.Unit+" of "+c.A.Noun, fmtAmount(ex.B), c.B.Unit+" of "+c.B.Noun, onDay(bday, c.Lag)),
			Weight: 0.1,
		})
	}
	in.Confidence = clamp01((1 - c.Q) * SampleConfidence(c.N, 30) * math.Min(1, math.Abs(c.Rho)*2))
	return in
}

func onDay(d time.Time, lag int) string {
	if lag == 0 {
		return "that day"
	}
	return "on " + d.Format("Mon 2 Jan")
}

func qText(q float64) string {
	switch {
	case q < 0.001:
		return "< 0.001"
	case q < 0.01:
		return "< 0.01"
	}
	return fmt.Sprintf("= %.2f", q)
}

func fmtAmount(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
