package analysis

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Minimum samples for music insights: below them the detector says nothing.
const (
	MinPlays            = 50 // any music insight
	minChronotypeDays   = 7  // plays spread over at least a week, not one binge
	minGenrePlays       = 50 // plays whose artist has genres
	minSkipKnown        = 50 // plays whose skip outcome is known
	minDiscoveryHistory = 50 // plays before the discovery window
	minDiscoveryWindow  = 20 // plays inside it
	minMonthPlays       = 20 // a month counts towards "over time"
	minMonths           = 3
	discoveryWindow     = 30 * 24 * time.Hour
	musicHalfSample     = 200 // SampleConfidence k for music
)

// Music feature names.
const (
	FeatMusicPlays             = "music.plays"
	FeatMusicSample            = "music.sample"
	FeatMusicMorning           = "music.chronotype.morning"
	FeatMusicEvening           = "music.chronotype.evening"
	FeatMusicNight             = "music.chronotype.night"
	FeatMusicNightShare        = "music.night_share"
	FeatMusicWeekendShare      = "music.weekend_share"
	FeatMusicArtistDiversity   = "music.artist_diversity"
	FeatMusicGenreDiversity    = "music.genre_diversity"
	FeatMusicDiscovery         = "music.discovery_rate"
	FeatMusicSkipRate          = "music.skip_rate"
	FeatMusicRepeatRatio       = "music.repeat_ratio"
	FeatMusicArtistTurnover    = "music.artist_turnover"
	FeatMusicReflectiveComplex = "music.rg.reflective_complex"
	FeatMusicIntenseRebellious = "music.rg.intense_rebellious"
	FeatMusicUpbeatConvention  = "music.rg.upbeat_conventional"
	FeatMusicEnergeticRhythmic = "music.rg.energetic_rhythmic"
)

// rgDimensions are the four music-preference dimensions of Rentfrow & Gosling
// (2003, "The do re mi's of everyday life", JPSP 84(6)), each with the genres
// that paper assigns to it. A Spotify genre counts towards a dimension when it
// contains one of the words (so "indie pop" counts as pop, "hard rock" as
// rock); house and techno are listed as the electronica/dance they belong to.
var rgDimensions = []struct {
	feature string
	words   []string
}{
	{FeatMusicReflectiveComplex, []string{"blues", "jazz", "classical", "folk"}},
	{FeatMusicIntenseRebellious, []string{"rock", "alternative", "metal"}},
	{FeatMusicUpbeatConvention, []string{"country", "pop", "religious", "christian", "gospel", "soundtrack"}},
	{FeatMusicEnergeticRhythmic, []string{"rap", "hip hop", "soul", "funk", "electronic", "dance", "edm", "house", "techno"}},
}

// Music detects listening rhythm (chronotype), taste diversity, discovery,
// skip and repeat behaviour and top artists and genres over time.
func Music(plays []Play, loc *time.Location, now time.Time) Detection {
	loc = orUTC(loc)
	d := newDetection()
	valid := make([]Play, 0, len(plays))
	for _, p := range plays {
		if p.Artist != "" && !p.At.IsZero() && !p.At.After(now) {
			valid = append(valid, p)
		}
	}
	n := len(valid)
	d.Features[FeatMusicPlays] = float64(n)
	if n < MinPlays {
		return d
	}
	sample := SampleConfidence(n, musicHalfSample)
	d.Features[FeatMusicSample] = sample

	r := newRhythm()
	artists := map[string]float64{}
	genres := map[string]float64{}
	tracks := map[string]float64{}
	genrePlays := 0
	for _, p := range valid {
		r.add(p.At.In(loc))
		artists[p.Artist]++
		tracks[trackKey(p)]++
		if len(p.Genres) > 0 {
			genrePlays++
			w := 1 / float64(len(p.Genres))
			for _, g := range p.Genres {
				genres[strings.ToLower(g)] += w
			}
		}
	}

	d.Insights = append(d.Insights, musicTopArtists(artists, n, sample))
	if in, ok := musicChronotype(r, d.Features, sample); ok {
		d.Insights = append(d.Insights, in)
	}
	d.Insights = append(d.Insights, musicDiversity(artists, genres, genrePlays, n, d.Features))
	if genrePlays >= minGenrePlays {
		d.Insights = append(d.Insights, musicTopGenres(genres, genrePlays))
		musicRGShares(genres, d.Features)
	}
	if in, ok := musicDiscovery(valid, now, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	if in, ok := musicSkips(valid, d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	d.Insights = append(d.Insights, musicRepeats(valid, tracks, n, sample, d.Features))
	if in, ok := musicEvolution(TopByMonth(valid, loc), d.Features); ok {
		d.Insights = append(d.Insights, in)
	}
	return d
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func trackKey(p Play) string {
	if p.TrackID != "" {
		return p.TrackID
	}
	return p.Artist + "\x00" + p.Track
}

func musicInsight(key string, sub privacy.Subcluster, sensitivity int) Insight {
	c, _ := sub.Cluster()
	return Insight{Key: key, Cluster: c, Subcluster: sub, Sensitivity: sensitivity, Source: SourcePattern}
}

func musicTopArtists(artists map[string]float64, n int, sample float64) Insight {
	in := musicInsight("music.top-artists", privacy.MusicalIdentity, 10)
	best := top(artists, 5)
	in.Title = "Your most played artists"
	in.Body = fmt.Sprintf("%s leads with %.0f of your %d plays (%s); you played %d artists in all.",
		best[0].Name, best[0].Count, n, pct(best[0].Count/float64(n)), len(artists))
	for _, a := range best {
		in.Evidence = append(in.Evidence, Evidence{Label: a.Name, Value: fmt.Sprintf("%.0f plays (%s)", a.Count, pct(a.Count/float64(n))), Weight: a.Count / float64(n)})
	}
	in.Confidence = sample
	return in
}

// chronotypeScores compares activity per hour in the morning (05–12), evening
// (17–22) and night (22–05) windows, each relative to its length, and
// normalises the three rates to sum to 1. margin is (best − second) / best:
// 0 when two windows tie, 1 when only one has any activity.
func chronotypeScores(r *rhythm) (morning, evening, night float64, label string, margin float64) {
	rm := r.share(morningFrom, morningTo) / 7
	re := r.share(eveningFrom, eveningTo) / 5
	rn := r.share(nightFrom, nightTo) / 7
	total := rm + re + rn
	if total == 0 {
		return 0, 0, 0, "", 0
	}
	morning, evening, night = rm/total, re/total, rn/total
	type cand struct {
		label string
		v     float64
	}
	cs := []cand{{"morning", morning}, {"evening", evening}, {"night", night}}
	slices.SortStableFunc(cs, func(a, b cand) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return 0
	})
	return morning, evening, night, cs[0].label, (cs[0].v - cs[1].v) / cs[0].v
}

// clearMargin is the chronotype margin below which no single time of day is
// called dominant.
const clearMargin = 0.15

func musicChronotype(r *rhythm, f Features, sample float64) (Insight, bool) {
	f[FeatMusicNightShare] = r.share(nightFrom, nightTo)
	f[FeatMusicWeekendShare] = r.weekendShare()
	if len(r.days) < minChronotypeDays {
		return Insight{}, false
	}
	m, e, nt, label, margin := chronotypeScores(r)
	f[FeatMusicMorning], f[FeatMusicEvening], f[FeatMusicNight] = m, e, nt

	in := musicInsight("music.chronotype", privacy.HealthWellness, 35)
	windows := map[string]struct {
		title string
		share float64
		span  string
	}{
		"morning": {"Morning listener", r.share(morningFrom, morningTo), "05:00–12:00"},
		"evening": {"Evening listener", r.share(eveningFrom, eveningTo), "17:00–22:00"},
		"night":   {"Night owl", r.share(nightFrom, nightTo), "22:00–05:00"},
	}
	w := windows[label]
	if margin < clearMargin {
		in.Title = "Listens around the clock"
		in.Body = fmt.Sprintf("No time of day dominates your listening; the busiest hour is %s.", hourRange(r.peakHour()))
	} else {
		in.Title = w.title
		in.Body = fmt.Sprintf("%s of your listening happens %s, more per hour than at any other time of day; the busiest hour is %s.", pct(w.share), w.span, hourRange(r.peakHour()))
	}
	in.Evidence = []Evidence{
		{Label: "Plays " + w.span, Value: pct(w.share), Weight: w.share},
		{Label: "Busiest hour", Value: hourRange(r.peakHour()), Weight: r.hours[r.peakHour()] / float64(r.n)},
		{Label: "Busiest weekday", Value: r.peakWeekday().String(), Weight: r.weekdays[r.peakWeekday()] / float64(r.n)},
		{Label: "Weekend share", Value: pct(r.weekendShare()), Weight: r.weekendShare()},
	}
	// How clearly one window wins, scaled by how much data there is.
	in.Confidence = sample * max(margin, 0.1)
	return in, true
}

func sortEvidence(ev []Evidence) {
	slices.SortStableFunc(ev, func(a, b Evidence) int {
		switch {
		case a.Weight > b.Weight:
			return -1
		case a.Weight < b.Weight:
			return 1
		}
		return 0
	})
}

func musicDiversity(artists, genres map[string]float64, genrePlays, n int, f Features) Insight {
	ad := normalizedEntropy(artists)
	f[FeatMusicArtistDiversity] = ad
	in := musicInsight("music.diversity", privacy.MusicalIdentity, 15)
	switch {
	case ad >= 0.7:
		in.Title = "Eclectic listener"
	case ad >= 0.45:
		in.Title = "Broad taste with favourites"
	default:
		in.Title = "Focused listener"
	}
	var top10 float64
	for _, a := range top(artists, 10) {
		top10 += a.Count
	}
	in.Body = fmt.Sprintf("Your plays spread over %d artists; the top ten take %s of them.", len(artists), pct(top10/float64(n)))
	in.Evidence = []Evidence{
		{Label: "Artist diversity", Value: pct(ad), Weight: ad},
		{Label: "Distinct artists", Value: fmt.Sprint(len(artists)), Weight: saturate(float64(len(artists)), 100)},
		{Label: "Top ten artists' share", Value: pct(top10 / float64(n)), Weight: top10 / float64(n)},
	}
	if genrePlays >= minGenrePlays {
		gd := normalizedEntropy(genres)
		f[FeatMusicGenreDiversity] = gd
		in.Evidence = slices.Insert(in.Evidence, 1, Evidence{Label: "Genre diversity", Value: pct(gd), Weight: gd})
	}
	in.Confidence = SampleConfidence(n, 300)
	return in
}

func musicTopGenres(genres map[string]float64, genrePlays int) Insight {
	in := musicInsight("music.top-genres", privacy.MusicalIdentity, 10)
	total := sum(genres)
	best := top(genres, 5)
	in.Title = "Your genres"
	in.Body = fmt.Sprintf("%s is your most played genre (%s of plays with a known genre), among %d genres.", best[0].Name, pct(best[0].Count/total), len(genres))
	for _, g := range best {
		in.Evidence = append(in.Evidence, Evidence{Label: g.Name, Value: pct(g.Count / total), Weight: g.Count / total})
	}
	in.Confidence = SampleConfidence(genrePlays, musicHalfSample)
	return in
}

func musicRGShares(genres map[string]float64, f Features) {
	total := sum(genres)
	names := make([]string, 0, len(genres))
	for g := range genres {
		names = append(names, g)
	}
	slices.Sort(names) // sum in a fixed order, see inKeyOrder
	for _, dim := range rgDimensions {
		var w float64
		for _, g := range names {
			c := genres[g]
			for _, word := range dim.words {
				if strings.Contains(g, word) {
					w += c
					break
				}
			}
		}
		f[dim.feature] = w / total
	}
}

// musicDiscovery: of the plays in the last 30 days before now, the share that
// went to artists never played before that window.
func musicDiscovery(plays []Play, now time.Time, f Features) (Insight, bool) {
	start := now.Add(-discoveryWindow)
	known := map[string]bool{}
	history := 0
	for _, p := range plays {
		if p.At.Before(start) {
			known[p.Artist] = true
			history++
		}
	}
	var window, fresh int
	newArtists := map[string]float64{}
	for _, p := range plays {
		if !p.At.Before(start) {
			window++
			if !known[p.Artist] {
				fresh++
				newArtists[p.Artist]++
			}
		}
	}
	if history < minDiscoveryHistory || window < minDiscoveryWindow {
		return Insight{}, false
	}
	rate := float64(fresh) / float64(window)
	f[FeatMusicDiscovery] = rate
	if fresh == 0 {
		// "0 new artists" is an absence, not a finding: the feature still
		// feeds the estimates, but nothing is said.
		return Insight{}, false
	}
	in := musicInsight("music.discovery", privacy.MusicalIdentity, 15)
	switch {
	case rate >= 0.3:
		in.Title = "Always discovering"
	case rate >= 0.1:
		in.Title = "Mixes new finds with favourites"
	default:
		in.Title = "Loyal to your favourites"
	}
	in.Body = fmt.Sprintf("In the last 30 days %s of your plays were artists you had not played before, %d new artists in all.", pct(rate), len(newArtists))
	in.Evidence = []Evidence{{Label: "Plays of new artists (30 days)", Value: pct(rate), Weight: rate}}
	for _, a := range top(newArtists, 3) {
		in.Evidence = append(in.Evidence, Evidence{Label: "New: " + a.Name, Value: fmt.Sprintf("%.0f plays", a.Count), Weight: a.Count / float64(window)})
	}
	// Both samples matter: with a short history, many artists look new.
	in.Confidence = SampleConfidence(window, 100) * SampleConfidence(history, 300)
	return in, true
}

// isSkip: the export's skipped flag, or reason_end "fwdbtn" (the user pressed
// next), which the export records even where skipped is false or null. known
// is false when neither field is present (the Web API gives neither).
func isSkip(p Play) (skip, known bool) {
	if p.Skipped == nil && p.ReasonEnd == "" {
		return false, false
	}
	return (p.Skipped != nil && *p.Skipped) || p.ReasonEnd == "fwdbtn", true
}

func musicSkips(plays []Play, f Features) (Insight, bool) {
	var known, skipped int
	for _, p := range plays {
		if s, ok := isSkip(p); ok {
			known++
			if s {
				skipped++
			}
		}
	}
	if known < minSkipKnown {
		return Insight{}, false
	}
	rate := float64(skipped) / float64(known)
	f[FeatMusicSkipRate] = rate
	in := musicInsight("music.skips", privacy.MusicalIdentity, 20)
	switch {
	case rate >= 0.4:
		in.Title = "Quick to skip"
	case rate >= 0.15:
		in.Title = "Skips now and then"
	default:
		in.Title = "Lets songs play"
	}
	in.Body = fmt.Sprintf("You skipped %s of %d plays.", pct(rate), known)
	in.Evidence = []Evidence{{Label: "Skip rate", Value: pct(rate), Weight: rate}, {Label: "Plays with skip data", Value: fmt.Sprint(known), Weight: 0}}
	in.Confidence = SampleConfidence(known, musicHalfSample)
	return in, true
}

// musicRepeats: repeat ratio = 1 − distinct tracks / plays.
func musicRepeats(plays []Play, tracks map[string]float64, n int, sample float64, f Features) Insight {
	ratio := 1 - float64(len(tracks))/float64(n)
	f[FeatMusicRepeatRatio] = ratio
	in := musicInsight("music.repeats", privacy.MusicalIdentity, 15)
	switch {
	case ratio >= 0.7:
		in.Title = "Plays favourites on repeat"
	case ratio >= 0.35:
		in.Title = "Returns to favourite songs"
	default:
		in.Title = "Rarely plays a song twice"
	}
	in.Body = fmt.Sprintf("%d plays, %d different tracks: %s of plays were repeats.", n, len(tracks), pct(ratio))
	in.Evidence = []Evidence{{Label: "Repeat plays", Value: pct(ratio), Weight: ratio}}
	names := map[string]string{}
	for _, p := range plays {
		names[trackKey(p)] = p.Track + " — " + p.Artist
	}
	for _, t := range top(tracks, 3) {
		if t.Count < 2 {
			break
		}
		in.Evidence = append(in.Evidence, Evidence{Label: names[t.Name], Value: fmt.Sprintf("%.0f plays", t.Count), Weight: t.Count / float64(n)})
	}
	in.Confidence = sample
	return in
}

// MonthTop is the most played artist and genre of one calendar month.
type MonthTop struct {
	Month       string // "2025-03", in the user's time zone
	Plays       int
	Artist      string
	ArtistPlays int
	Genre       string // "" when no play that month had genres
}

// TopByMonth returns the top artist and genre of every month with plays,
// oldest first.
func TopByMonth(plays []Play, loc *time.Location) []MonthTop {
	loc = orUTC(loc)
	type acc struct {
		plays           int
		artists, genres map[string]float64
	}
	months := map[int]*acc{} // year*12 + month-1: no string per play
	for _, p := range plays {
		if p.Artist == "" {
			continue
		}
		y, m, _ := p.At.In(loc).Date()
		key := y*12 + int(m) - 1
		a := months[key]
		if a == nil {
			a = &acc{artists: map[string]float64{}, genres: map[string]float64{}}
			months[key] = a
		}
		a.plays++
		a.artists[p.Artist]++
		for _, g := range p.Genres {
			a.genres[strings.ToLower(g)] += 1 / float64(len(p.Genres))
		}
	}
	out := make([]MonthTop, 0, len(months))
	for key, a := range months {
		mt := MonthTop{Month: fmt.Sprintf("%04d-%02d", key/12, key%12+1), Plays: a.plays}
		best := top(a.artists, 1)[0]
		mt.Artist, mt.ArtistPlays = best.Name, int(best.Count)
		if g := top(a.genres, 1); len(g) > 0 {
			mt.Genre = g[0].Name
		}
		out = append(out, mt)
	}
	slices.SortFunc(out, func(a, b MonthTop) int { return strings.Compare(a.Month, b.Month) })
	return out
}

func musicEvolution(months []MonthTop, f Features) (Insight, bool) {
	var full []MonthTop
	for _, m := range months {
		if m.Plays >= minMonthPlays {
			full = append(full, m)
		}
	}
	if len(full) < minMonths {
		return Insight{}, false
	}
	changes := 0
	for i := 1; i < len(full); i++ {
		if full[i].Artist != full[i-1].Artist {
			changes++
		}
	}
	turnover := float64(changes) / float64(len(full)-1)
	f[FeatMusicArtistTurnover] = turnover
	if changes == 0 {
		// The same top artist every month is said by the top-artists
		// insight; "changed in 0 of 12 months" says nothing more.
		return Insight{}, false
	}
	in := musicInsight("music.evolution", privacy.MusicalIdentity, 15)
	if turnover >= 0.5 {
		in.Title = "Your taste keeps moving"
	} else {
		in.Title = "Steady favourites, with changes"
	}
	in.Body = fmt.Sprintf("Your top artist changed in %d of %d months; now it is %s.", changes, len(full)-1, full[len(full)-1].Artist)
	// One row per run of months with the same top artist, most recent
	// first: twelve identical rows would say one thing twelve times.
	for i := len(full) - 1; i >= 0 && len(in.Evidence) < 12; {
		j := i
		plays, top := full[i].Plays, full[i].ArtistPlays
		for j > 0 && full[j-1].Artist == full[i].Artist {
			j--
			plays += full[j].Plays
			top += full[j].ArtistPlays
		}
		label := full[i].Month
		if j < i {
			label = full[j].Month + " – " + full[i].Month
		}
		v := fmt.Sprintf("%s (%d of %d plays)", full[i].Artist, top, plays)
		if full[i].Genre != "" {
			v += ", " + full[i].Genre
		}
		in.Evidence = append(in.Evidence, Evidence{Label: label, Value: v, Weight: float64(top) / float64(plays)})
		i = j - 1
	}
	in.Confidence = SampleConfidence(len(full), 6)
	return in, true
}
