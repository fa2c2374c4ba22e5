package analysis

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Minimum samples for browsing insights.
const (
	minTypingEvents = 20
	minTypingKeys   = 200
	minScrollEvents = 30
	minFocusEvents  = 20 // blur events carrying a focus-session length
	minActiveHours  = 5
	minDomainEvents = 20
	// attentionTau: a median focus session of this length scores 1 − 1/e ≈ 0.63.
	attentionTau = 4 * time.Minute
)

// Browsing feature names.
const (
	FeatBrowseTypingKPM      = "browse.typing_kpm"
	FeatBrowseTypingSpeed    = "browse.typing_speed"
	FeatBrowseCorrectionRate = "browse.correction_rate"
	FeatBrowseTypingSample   = "browse.typing_sample"
	FeatBrowseScrollDepth    = "browse.scroll_depth"
	FeatBrowseScrollSpeed    = "browse.scroll_speed"
	FeatBrowseScrollSpeedN   = "browse.scroll_speed_norm"
	FeatBrowseFocusMedianMin = "browse.focus_median_min"
	FeatBrowseAttention      = "browse.attention"
	FeatBrowseTabSwitchRate  = "browse.tab_switches_per_hour"
	FeatBrowseMultitasking   = "browse.multitasking"
	FeatBrowseAttentionSamp  = "browse.attention_sample"
	FeatBrowseTopDomainShare = "browse.top_domain_share"
	FeatBrowseDomainDiverse  = "browse.domain_diversity"
)

// Browsing detects typing speed and corrections, scrolling depth and speed,
// focus-session length and tab switching (attention and multitasking
// scores), and where browsing time goes by domain.
func Browsing(events []ObserverEvent, loc *time.Location) Detection {
	loc = orUTC(loc)
	d := newDetection()
	var (
		typingN, scrollN, tabSwitches int
		keys, corrections, typingMs   float64
		depthSum, speedSum            float64
		focus                         []float64 // focus-session lengths, ms
		domainMs, domainEvents        = map[string]float64{}, map[string]float64{}
		hours                         = map[int64]bool{}
	)
	for _, e := range events {
		if !e.At.IsZero() {
			local := e.At.In(loc)
			y, m, dd := local.Date()
			hours[int64(((y*12+int(m))*31+dd)*24+local.Hour())] = true
		}
		if e.Domain != "" {
			domainEvents[e.Domain]++
		}
		if !finiteData(e.Data) {
			continue // a broken client's NaN or Inf would poison every average
		}
		switch e.Type {
		case EventTyping:
			k, ms := e.Data["keys"], e.Data["duration_ms"]
			if k >= 0 && ms > 0 {
				typingN++
				keys += k
				corrections += max(e.Data["corrections"], 0)
				typingMs += ms
			}
		case EventScroll:
			if depth, ok := e.Data["depth_pct"]; ok {
				scrollN++
				depthSum += math.Min(math.Max(depth, 0), 100)
				speedSum += max(e.Data["speed"], 0)
			}
		case EventBlur:
			if ms := e.Data["duration_ms"]; ms > 0 {
				focus = append(focus, ms)
				if e.Domain != "" {
					domainMs[e.Domain] += ms
				}
			}
		case EventTabSwitch:
			tabSwitches++
		}
	}

	if typingN >= minTypingEvents && keys >= minTypingKeys {
		d.Insights = append(d.Insights, browseTyping(typingN, keys, corrections, typingMs, d.Features))
	}
	if scrollN >= minScrollEvents {
		d.Insights = append(d.Insights, browseReading(scrollN, depthSum/float64(scrollN)/100, speedSum/float64(scrollN), d.Features))
	}
	if len(focus) >= minFocusEvents && len(hours) >= minActiveHours {
		d.Insights = append(d.Insights, browseAttention(focus, tabSwitches, len(hours), d.Features))
	}
	if in, ok := browseDomains(domainMs, domainEvents, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	return d
}

func finiteData(data map[string]float64) bool {
	for _, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func browseTyping(n int, keys, corrections, ms float64, f Features) Insight {
	kpm := keys / (ms / 60000)
	rate := clamp01(corrections / keys)
	f[FeatBrowseTypingKPM] = kpm
	// 200 keys a minute (about 40 words) scores 0.5.
	f[FeatBrowseTypingSpeed] = saturate(kpm, 200)
	f[FeatBrowseCorrectionRate] = rate
	f[FeatBrowseTypingSample] = SampleConfidence(n, 100)
	in := Insight{Key: "browsing.typing", Cluster: privacy.Professional, Subcluster: privacy.SkillsExpertise,
		Sensitivity: 30, Source: SourcePattern, Confidence: SampleConfidence(n, 100)}
	switch {
	case kpm >= 300:
		in.Title = "Fast typist"
	case kpm >= 150:
		in.Title = "Steady typist"
	default:
		in.Title = "Deliberate typist"
	}
	in.Body = fmt.Sprintf("You type about %.0f keys a minute (≈%.0f words) and correct %s of keystrokes.", kpm, kpm/5, pct(rate))
	in.Evidence = []Evidence{
		{Label: "Keys per minute", Value: fmt.Sprintf("%.0f", kpm), Weight: saturate(kpm, 200)},
		{Label: "Corrections", Value: pct(rate), Weight: rate},
		{Label: "Typing sessions", Value: fmt.Sprint(n), Weight: 0},
	}
	return in
}

func browseReading(n int, depth, speed float64, f Features) Insight {
	f[FeatBrowseScrollDepth] = depth
	f[FeatBrowseScrollSpeed] = speed
	// 1,000 pixels a second scores 0.5.
	f[FeatBrowseScrollSpeedN] = saturate(speed, 1000)
	in := Insight{Key: "browsing.reading", Cluster: privacy.Personal, Subcluster: privacy.HobbiesInterests,
		Sensitivity: 30, Source: SourcePattern, Confidence: SampleConfidence(n, 100)}
	switch {
	case depth >= 0.7:
		in.Title = "Reads pages to the end"
	case depth < 0.4 && speed >= 1000:
		in.Title = "Skims quickly"
	default:
		in.Title = "Reads selectively"
	}
	in.Body = fmt.Sprintf("On average you scroll %s of the way down a page at about %.0f pixels a second.", pct(depth), speed)
	in.Evidence = []Evidence{
		{Label: "Average scroll depth", Value: pct(depth), Weight: depth},
		{Label: "Average scroll speed", Value: fmt.Sprintf("%.0f px/s", speed), Weight: saturate(speed, 1000)},
	}
	sortEvidence(in.Evidence)
	return in
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// browseAttention: attention = 1 − exp(−median focus session / 4 min);
// multitasking = switches per active hour / (switches per hour + 20), where an
// active hour is a clock hour with any event.
func browseAttention(focus []float64, switches, activeHours int, f Features) Insight {
	med := median(focus)
	attention := 1 - math.Exp(-med/float64(attentionTau.Milliseconds()))
	rate := float64(switches) / float64(activeHours)
	multi := saturate(rate, 20)
	f[FeatBrowseFocusMedianMin] = med / 60000
	f[FeatBrowseAttention] = attention
	f[FeatBrowseTabSwitchRate] = rate
	f[FeatBrowseMultitasking] = multi
	f[FeatBrowseAttentionSamp] = SampleConfidence(len(focus), 200)
	in := Insight{Key: "browsing.attention", Cluster: privacy.Personal, Subcluster: privacy.HealthWellness,
		Sensitivity: 70, Source: SourcePattern, Confidence: SampleConfidence(len(focus), 200)}
	switch {
	case attention >= 0.6 && multi < 0.5:
		in.Title = "Deep focus"
	case multi >= 0.5 && attention < 0.4:
		in.Title = "Juggles many tabs"
	default:
		in.Title = "Balances focus and switching"
	}
	in.Body = fmt.Sprintf("Your typical stretch on one page lasts %.1f minutes, and you switch tabs about %.0f times an active hour.", med/60000, rate)
	in.Evidence = []Evidence{
		{Label: "Attention score", Value: pct(attention), Weight: attention},
		{Label: "Multitasking score", Value: pct(multi), Weight: multi},
		{Label: "Median focus session", Value: fmt.Sprintf("%.1f min", med/60000), Weight: attention},
		{Label: "Tab switches per active hour", Value: fmt.Sprintf("%.1f", rate), Weight: multi},
	}
	sortEvidence(in.Evidence)
	return in
}

// browseDomains ranks domains by focused time (blur events' session lengths);
// without any, by number of events.
func browseDomains(ms, events map[string]float64, f Features) (Insight, bool) {
	if sum(events) < minDomainEvents {
		return Insight{}, false
	}
	weights, byTime := ms, true
	if len(ms) == 0 {
		weights, byTime = events, false
	}
	total := sum(weights)
	best := top(weights, 5)
	f[FeatBrowseTopDomainShare] = best[0].Count / total
	f[FeatBrowseDomainDiverse] = normalizedEntropy(weights)
	in := Insight{Key: "browsing.domains", Cluster: privacy.Personal, Subcluster: privacy.HobbiesInterests,
		Sensitivity: 75, Source: SourcePattern, Confidence: SampleConfidence(int(sum(events)), 500),
		Title: "Where your browsing time goes"}
	if byTime {
		in.Body = fmt.Sprintf("%s takes %s of your focused browsing time.", best[0].Name, pct(best[0].Count/total))
	} else {
		in.Body = fmt.Sprintf("%s accounts for %s of your browsing activity.", best[0].Name, pct(best[0].Count/total))
	}
	for _, dm := range best {
		v := pct(dm.Count / total)
		if byTime {
			v = fmt.Sprintf("%.0f min (%s)", dm.Count/60000, pct(dm.Count/total))
		}
		in.Evidence = append(in.Evidence, Evidence{Label: dm.Name, Value: v, Weight: dm.Count / total})
	}
	return in, true
}
