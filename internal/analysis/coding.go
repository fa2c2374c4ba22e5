package analysis

import (
	"fmt"
	"slices"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Minimum samples for coding insights.
const (
	minCodeEvents     = 30 // rhythm and streaks
	minCollabEvents   = 20 // pushes + pull requests + reviews
	minLanguageRepos  = 3
	codingHalfSample  = 100
	maxLanguageDetail = 5
	// minLanguageShare is the share of code (or of repositories) a language
	// needs to count: a few scripts do not make a Shell programmer.
	minLanguageShare = 0.05
)

// buildLanguages are what GitHub's linguist reports for build and
// configuration files: they are not languages a person programs in.
var buildLanguages = map[string]bool{
	"Makefile": true, "Dockerfile": true, "CMake": true, "Batchfile": true, "M4": true, "M4Sugar": true,
	"Meson": true, "Starlark": true, "Nix": true, "Procfile": true, "Just": true, "Gradle": true,
	"Roff": true, "Text": true,
}

// Coding feature names.
const (
	FeatCodingEvents         = "coding.events"
	FeatCodingSample         = "coding.sample"
	FeatCodingWeekendShare   = "coding.weekend_share"
	FeatCodingNightShare     = "coding.night_share"
	FeatCodingActiveDayShare = "coding.active_day_share"
	FeatCodingLongestStreak  = "coding.longest_streak_days"
	FeatCodingCurrentStreak  = "coding.current_streak_days"
	FeatCodingStreak         = "coding.streak"
	FeatCodingCollaboration  = "coding.collaboration_share"
	FeatCodingCollabSample   = "coding.collaboration_sample"
	FeatCodingLanguageCount  = "coding.language_count"
	FeatCodingLanguageDivers = "coding.language_diversity"
)

// Coding detects active hours and weekday/weekend split, streaks of active
// days in the user's time zone, collaboration (pull requests and reviews
// against pushes) and languages weighted by bytes of code.
func Coding(events []CodeEvent, repos []Repo, loc *time.Location, now time.Time) Detection {
	loc = orUTC(loc)
	d := newDetection()
	r := newRhythm()
	var pushes, prs, reviews int
	for _, e := range events {
		if e.At.IsZero() || e.At.After(now) {
			continue
		}
		r.add(e.At.In(loc))
		switch e.Type {
		case "PushEvent":
			pushes++
		case "PullRequestEvent":
			prs++
		case "PullRequestReviewEvent", "PullRequestReviewCommentEvent":
			reviews++
		}
	}
	d.Features[FeatCodingEvents] = float64(r.n)
	if r.n >= minCodeEvents {
		sample := SampleConfidence(r.n, codingHalfSample)
		d.Features[FeatCodingSample] = sample
		d.Insights = append(d.Insights, codingRhythm(r, sample, d.Features), codingStreaks(r, dayOf(now.In(loc)), sample, d.Features))
	}
	if in, ok := codingCollaboration(pushes, prs, reviews, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	if in, ok := codingLanguages(repos, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	return d
}

func codingRhythm(r *rhythm, sample float64, f Features) Insight {
	weekend, night := r.weekendShare(), r.share(nightFrom, nightTo)
	f[FeatCodingWeekendShare] = weekend
	f[FeatCodingNightShare] = night
	in := Insight{Key: "coding.rhythm", Cluster: privacy.Professional, Subcluster: privacy.WorkProjects,
		Sensitivity: 30, Source: SourcePattern, Confidence: sample}
	peak := r.peakHour()
	hourEv := Evidence{Label: "Busiest hour", Value: hourRange(peak), Weight: r.hours[peak] / float64(r.n)}
	weekendEv := Evidence{Label: "Weekend share", Value: pct(weekend), Weight: weekend}
	nightEv := Evidence{Label: "Night share (22–05)", Value: pct(night), Weight: night}
	weekdayEv := Evidence{Label: "Busiest weekday", Value: r.peakWeekday().String(), Weight: r.weekdays[r.peakWeekday()] / float64(r.n)}
	// The evidence for the title's claim comes first.
	switch {
	case night >= 0.25:
		in.Title = "Codes late at night"
		in.Evidence = []Evidence{nightEv, hourEv, weekendEv, weekdayEv}
	case weekend >= 2.0/7:
		// Weekends are 2 of 7 days: more than that share means weekends are
		// at least as busy as weekdays.
		in.Title = "Weekend coder"
		in.Evidence = []Evidence{weekendEv, weekdayEv, hourEv, nightEv}
	default:
		in.Title = "Codes on weekdays"
		in.Evidence = []Evidence{weekendEv, weekdayEv, hourEv, nightEv}
	}
	in.Body = fmt.Sprintf("Your GitHub activity peaks around %s; %s of it falls on weekends and %s between 22:00 and 05:00.", hourRange(peak), pct(weekend), pct(night))
	return in
}

// streaks counts runs of consecutive days with activity. current is the run
// that ends today or yesterday (a streak is not broken before the day is
// over); 0 when the last active day is older.
func streaks(days map[civilDay]bool, today civilDay) (longest, current int) {
	sorted := make([]time.Time, 0, len(days))
	for d := range days {
		sorted = append(sorted, d.time())
	}
	slices.SortFunc(sorted, func(a, b time.Time) int { return a.Compare(b) })
	run := 0
	for i, t := range sorted {
		if i > 0 && sorted[i-1].AddDate(0, 0, 1).Equal(t) {
			run++
		} else {
			run = 1
		}
		longest = max(longest, run)
	}
	if len(sorted) > 0 {
		last := sorted[len(sorted)-1]
		if t := today.time(); last.Equal(t) || last.AddDate(0, 0, 1).Equal(t) {
			current = run
		}
	}
	return longest, current
}

func codingStreaks(r *rhythm, today civilDay, sample float64, f Features) Insight {
	longest, current := streaks(r.days, today)
	first := today.time()
	for d := range r.days {
		if t := d.time(); t.Before(first) {
			first = t
		}
	}
	span := int(today.time().Sub(first).Hours()/24) + 1
	activeShare := clamp01(float64(len(r.days)) / float64(span))
	f[FeatCodingLongestStreak] = float64(longest)
	f[FeatCodingCurrentStreak] = float64(current)
	f[FeatCodingStreak] = saturate(float64(longest), 7)
	f[FeatCodingActiveDayShare] = activeShare
	in := Insight{Key: "coding.streaks", Cluster: privacy.Professional, Subcluster: privacy.AchievementsRecognition,
		Sensitivity: 20, Source: SourcePattern, Confidence: sample}
	switch {
	case current >= 7:
		in.Title = fmt.Sprintf("On a %d-day coding streak", current)
	case longest >= 7:
		in.Title = fmt.Sprintf("Longest coding streak: %d days", longest)
	default:
		in.Title = "Codes in bursts"
	}
	in.Body = fmt.Sprintf("You were active on GitHub on %d of the last %d days; your longest run of consecutive days is %d, your current one %d.", len(r.days), span, longest, current)
	in.Evidence = []Evidence{
		{Label: "Longest streak", Value: fmt.Sprintf("%d days", longest), Weight: saturate(float64(longest), 7)},
		{Label: "Current streak", Value: fmt.Sprintf("%d days", current), Weight: saturate(float64(current), 7)},
		{Label: "Active days", Value: fmt.Sprintf("%d of %d (%s)", len(r.days), span, pct(activeShare)), Weight: activeShare},
	}
	sortEvidence(in.Evidence)
	return in
}

func codingCollaboration(pushes, prs, reviews int, f Features) (Insight, bool) {
	total := pushes + prs + reviews
	if total < minCollabEvents {
		return Insight{}, false
	}
	share := float64(prs+reviews) / float64(total)
	f[FeatCodingCollaboration] = share
	f[FeatCodingCollabSample] = SampleConfidence(total, codingHalfSample)
	in := Insight{Key: "coding.collaboration", Cluster: privacy.Professional, Subcluster: privacy.WorkProjects,
		Sensitivity: 20, Source: SourcePattern, Confidence: SampleConfidence(total, codingHalfSample)}
	switch {
	case share >= 0.4:
		in.Title = "Collaborative developer"
	case share >= 0.15:
		in.Title = "Works alone and with others"
	default:
		in.Title = "Mostly pushes directly"
	}
	in.Body = fmt.Sprintf("%s of your pushes, pull requests and reviews are pull requests (%d) or reviews (%d).", pct(share), prs, reviews)
	in.Evidence = []Evidence{
		{Label: "Pull requests and reviews", Value: pct(share), Weight: share},
		{Label: "Pushes", Value: fmt.Sprint(pushes), Weight: float64(pushes) / float64(total)},
		{Label: "Pull requests", Value: fmt.Sprint(prs), Weight: float64(prs) / float64(total)},
		{Label: "Reviews", Value: fmt.Sprint(reviews), Weight: float64(reviews) / float64(total)},
	}

	return in, true
}

// codingLanguages weights languages by bytes of code across repositories.
// When no repository has a byte breakdown, each repository's primary
// language counts once instead, and the insight says so.
func codingLanguages(repos []Repo, f Features) (Insight, bool) {
	bytes := map[string]float64{}
	primary := map[string]float64{}
	counted := 0
	for _, r := range repos {
		if len(r.Languages) == 0 && r.Language == "" {
			continue
		}
		counted++
		for lang, b := range r.Languages {
			if b > 0 && !buildLanguages[lang] {
				bytes[lang] += float64(b)
			}
		}
		if r.Language != "" && !buildLanguages[r.Language] {
			primary[r.Language]++
		}
	}
	if counted < minLanguageRepos {
		return Insight{}, false
	}
	weights, unit := bytes, "of your code by bytes"
	if len(bytes) == 0 {
		weights, unit = primary, "of your repositories (primary language)"
	}
	if all := sum(weights); all > 0 {
		for lang, w := range weights {
			if w/all < minLanguageShare {
				delete(weights, lang)
			}
		}
	}
	if len(weights) == 0 {
		return Insight{}, false
	}
	total := sum(weights)
	f[FeatCodingLanguageCount] = float64(len(weights))
	f[FeatCodingLanguageDivers] = normalizedEntropy(weights)
	best := top(weights, maxLanguageDetail)
	in := Insight{Key: "coding.languages", Cluster: privacy.Professional, Subcluster: privacy.SkillsExpertise,
		Sensitivity: 10, Source: SourcePattern, Confidence: SampleConfidence(counted, 10)}
	if len(weights) == 1 || best[0].Count/total >= 0.6 {
		in.Title = best[0].Name + " specialist"
	} else {
		in.Title = fmt.Sprintf("Polyglot: %d languages", len(weights))
	}
	in.Body = fmt.Sprintf("%s is %s %s, across %d repositories.", best[0].Name, pct(best[0].Count/total), unit, counted)
	for _, l := range best {
		in.Evidence = append(in.Evidence, Evidence{Label: l.Name, Value: pct(l.Count / total), Weight: l.Count / total})
	}
	return in, true
}
