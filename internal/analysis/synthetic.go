package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// SyntheticYear returns one made-up user-year starting at start: about 20,000
// Spotify plays, 5,000 GitHub events, 50,000 browser-extension events, plus
// YouTube history, Gmail metadata, Discord servers and a LinkedIn profile. The
// same seed always gives the same data. It is for benchmarks and the demo
// command; the person it describes is an evening listener with broad taste
// who codes on weekdays and keeps most email to working hours. Their days
// are not independent draws: busy work days bring more GitHub activity and
// more email sent, a night of coding past 22:00 brings more music the next
// morning, YouTube evenings bring less music, and from the ninth month on
// their listening moves about two hours later.
func SyntheticYear(seed int64, start time.Time) Input {
	g := synth{r: rand.New(rand.NewPCG(uint64(seed), 0x7317_5eed)), start: start}
	g.days = g.dayFactors()
	in := Input{
		Plays:      g.plays(20000),
		CodeEvents: g.codeEvents(5000),
		Repos:      g.repos(),
		Videos:     g.videos(3000, 400),
		Mails:      g.mails(6000),
		Guilds:     g.guilds(),
		LinkedIn: &Profile{Sub: "synthetic-member", Name: "Sam Synthetic", GivenName: "Sam", FamilyName: "Synthetic",
			Email: "sam@example.com", EmailVerified: true, Locale: "en_US"},
		Observer: g.observer(50000),
	}
	return in
}

type synth struct {
	r     *rand.Rand
	start time.Time
	days  dayFactors
}

// dayFactors are the latent day-to-day variations the streams share, as
// cumulative day weights for drawing a day.
type dayFactors struct {
	work, lateNight, morningAfter, video, music []float64 // cumulative
	late                                        []bool
}

const synthDays = 365

func cumulative(w []float64) []float64 {
	out := make([]float64, len(w))
	var t float64
	for i, x := range w {
		t += x
		out[i] = t
	}
	return out
}

func (g synth) dayFactors() dayFactors {
	work, late, morning, video, music := make([]float64, synthDays), make([]float64, synthDays),
		make([]float64, synthDays), make([]float64, synthDays), make([]float64, synthDays)
	f := dayFactors{late: make([]bool, synthDays)}
	for d := range synthDays {
		work[d] = math.Exp(0.5 * g.r.NormFloat64())
		f.late[d] = g.r.Float64() < 0.25
		if f.late[d] {
			late[d] = 1
		}
		video[d] = 0.3 + 1.4*g.r.Float64()
		music[d] = 2 - video[d]
	}
	for d := range synthDays {
		morning[d] = 1
		if d > 0 && f.late[d-1] {
			morning[d] = 3
		}
	}
	f.work, f.lateNight, f.morningAfter, f.video, f.music = cumulative(work), cumulative(late), cumulative(morning), cumulative(video), cumulative(music)
	return f
}

// atOn is at with the day drawn from cumulative day weights.
func (g synth) atOn(days []float64, hourWeights [24]float64, weekendWeight float64) time.Time {
	for {
		x := g.r.Float64() * days[len(days)-1]
		day, _ := slices.BinarySearch(days, x)
		day = min(day, len(days)-1)
		t := g.start.AddDate(0, 0, day)
		if wd := t.Weekday(); (wd == time.Saturday || wd == time.Sunday) && g.r.Float64() > weekendWeight {
			continue
		}
		h := g.pick(hourWeights[:])
		return t.Add(time.Duration(h)*time.Hour + time.Duration(g.r.IntN(3600))*time.Second)
	}
}

// at returns a moment on a random day of the year at an hour drawn from
// hourWeights; weekendWeight scales the chance of landing on a weekend.
func (g synth) at(hourWeights [24]float64, weekendWeight float64) time.Time {
	for {
		day := g.r.IntN(365)
		t := g.start.AddDate(0, 0, day)
		if wd := t.Weekday(); (wd == time.Saturday || wd == time.Sunday) && g.r.Float64() > weekendWeight {
			continue
		}
		h := g.pick(hourWeights[:])
		return t.Add(time.Duration(h)*time.Hour + time.Duration(g.r.IntN(3600))*time.Second)
	}
}

func (g synth) pick(weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	x := g.r.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// zipf draws 0…n−1 with P(k) ∝ 1/(k+1)^1.1, the long tail real listening and
// browsing have.
func (g synth) zipf(n int) int {
	z := rand.NewZipf(g.r, 1.1, 1, uint64(n-1))
	return int(z.Uint64())
}

var (
	eveningHours = [24]float64{2, 1, 0.5, 0.2, 0.2, 0.5, 2, 4, 5, 4, 3, 3, 4, 3, 3, 3, 4, 7, 9, 10, 10, 9, 7, 4}
	officeHours  = [24]float64{0.5, 0.2, 0, 0, 0, 0, 0.5, 1, 4, 8, 9, 9, 6, 8, 9, 9, 8, 6, 3, 2, 2, 2, 1.5, 1}
	morningHours = [24]float64{5: 1, 6: 3, 7: 6, 8: 6, 9: 4, 10: 3, 11: 2}
	lateHours    = [24]float64{22: 3, 23: 2}
	wakingHours  = [24]float64{1, 0.5, 0.2, 0, 0, 0.2, 1, 3, 5, 6, 6, 6, 5, 6, 6, 6, 6, 6, 6, 7, 7, 6, 4, 2}
	genrePool    = []string{"indie pop", "pop", "hip hop", "rap", "jazz", "classical", "folk", "indie rock", "alternative rock",
		"metal", "electronic", "house", "soul", "funk", "country", "soundtrack", "ambient", "k-pop", "blues", "techno"}
)

func (g synth) plays(n int) []Play {
	const artists = 400
	genres := make([][]string, artists)
	for i := range genres {
		k := 1 + g.r.IntN(3)
		for range k {
			genres[i] = append(genres[i], genrePool[g.zipf(len(genrePool))])
		}
		genres[i] = slices.Compact(genres[i])
	}
	out := make([]Play, n)
	for i := range out {
		at := g.atOn(g.days.music, eveningHours, 1)
		if h := at.Hour(); h >= 5 && h < 12 {
			at = g.atOn(g.days.morningAfter, morningHours, 1)
		}
		if int(at.Sub(g.start).Hours()/24) >= 245 { // listening moves later
			at = at.Add(2 * time.Hour)
		}
		// More artists become "known" as the year goes on, so discovery is real.
		avail := 150 + int(250*at.Sub(g.start).Hours()/(365*24))
		a := g.zipf(artists)
		if a >= avail {
			a = g.r.IntN(avail)
		}
		track := g.zipf(15)
		p := Play{
			At:      at,
			TrackID: fmt.Sprintf("spotify:track:a%03dt%02d", a, track),
			Track:   fmt.Sprintf("Song %d", track+1),
			Artist:  fmt.Sprintf("Artist %03d", a+1),
			Genres:  genres[a],
		}
		p.MsPlayed = 150000 + g.r.IntN(150000)
		if g.r.Float64() < 0.7 { // extended export: skip data known
			skipped := g.r.Float64() < 0.2
			p.Skipped = &skipped
			p.ReasonEnd = "trackdone"
			if skipped {
				p.ReasonEnd = "fwdbtn"
				p.MsPlayed = 5000 + g.r.IntN(25000)
			}
		}
		out[i] = p
	}
	slices.SortFunc(out, func(a, b Play) int { return a.At.Compare(b.At) })
	return out
}

func (g synth) codeEvents(n int) []CodeEvent {
	types := []string{"PushEvent", "PullRequestEvent", "PullRequestReviewEvent", "IssuesEvent", "IssueCommentEvent", "CreateEvent"}
	weights := []float64{55, 13, 15, 7, 7, 3}
	langs := []string{"Go", "TypeScript", "Python", "Shell"}
	out := make([]CodeEvent, n)
	for i := range out {
		repo := g.zipf(12)
		at := g.atOn(g.days.work, officeHours, 0.15)
		if i%8 == 0 { // one event in eight is on a late night
			at = g.atOn(g.days.lateNight, lateHours, 1)
		}
		out[i] = CodeEvent{At: at, Type: types[g.pick(weights)], Repo: fmt.Sprintf("sam/repo-%02d", repo+1), Language: langs[repo%len(langs)]}
	}
	slices.SortFunc(out, func(a, b CodeEvent) int { return a.At.Compare(b.At) })
	return out
}

func (g synth) repos() []Repo {
	langs := []string{"Go", "TypeScript", "Python", "Shell"}
	out := make([]Repo, 12)
	for i := range out {
		main := langs[i%len(langs)]
		out[i] = Repo{Name: fmt.Sprintf("sam/repo-%02d", i+1), Language: main, Stars: g.r.IntN(50),
			Languages: map[string]int{main: 20000 + g.r.IntN(200000), "Shell": 500 + g.r.IntN(5000), "Makefile": 200 + g.r.IntN(800)}}
	}
	return out
}

func (g synth) videos(watches, likes int) []Video {
	cats := []string{"28", "10", "20", "27", "24", "17", "25", "23", "26"}
	catWeights := []float64{30, 20, 15, 10, 10, 5, 4, 3, 3}
	out := make([]Video, 0, watches+likes)
	for i := range watches + likes {
		v := Video{At: g.atOn(g.days.video, eveningHours, 1), Channel: fmt.Sprintf("Channel %02d", g.zipf(80)+1), Source: VideoWatch}
		v.Title = fmt.Sprintf("Video %d", i+1)
		if i >= watches {
			v.Source = VideoLike
			v.CategoryID = cats[g.pick(catWeights)]
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Video) int { return a.At.Compare(b.At) })
	return out
}

func (g synth) mails(n int) []Mail {
	domains := []string{"github.com", "example.com", "news.example.org", "bank.example", "school.example.edu", "shop.example"}
	out := make([]Mail, n)
	for i := range out {
		m := Mail{At: g.at(officeHours, 0.2), Labels: []string{"INBOX"}}
		if g.r.Float64() < 0.2 {
			m.At = g.atOn(g.days.work, officeHours, 0.2)
			m.Labels = []string{"SENT"}
			m.From = "Sam Synthetic <sam@example.com>"
		} else {
			m.From = fmt.Sprintf("Sender %d <s%d@%s>", i%50, i%50, domains[g.zipf(len(domains))])
		}
		out[i] = m
	}
	slices.SortFunc(out, func(a, b Mail) int { return a.At.Compare(b.At) })
	return out
}

func (g synth) guilds() []Guild {
	names := []string{"Gophers", "Indie Game Devs", "Synth Lovers", "Local Climbing", "Book Club", "Rust Learners",
		"Jazz Appreciation", "Home Lab", "Photography Walks", "Sam's Friends", "Open Source Maintainers", "Chess"}
	out := make([]Guild, len(names))
	for i, n := range names {
		out[i] = Guild{Name: n, Owner: i == 9 || i == 3}
	}
	return out
}

func (g synth) observer(n int) []ObserverEvent {
	types := []string{EventMouseMove, EventMouseClick, EventScroll, EventTyping, EventFocus, EventBlur, EventNavigation,
		EventTabSwitch, EventFormSubmit, EventFormAbandon, EventMediaPlay, EventMediaPause, EventWindowFocus, EventWindowBlur}
	weights := []float64{30, 12, 15, 10, 6, 6, 8, 8, 1, 0.5, 1.5, 1, 0.5, 0.5}
	domains := make([]string, 30)
	for i := range domains {
		domains[i] = fmt.Sprintf("site%02d.example", i+1)
	}
	domains[0], domains[1], domains[2] = "github.com", "stackoverflow.com", "news.ycombinator.com"
	out := make([]ObserverEvent, n)
	for i := range out {
		e := ObserverEvent{At: g.at(wakingHours, 0.6), Type: types[g.pick(weights)], Domain: domains[g.zipf(len(domains))]}
		switch e.Type {
		case EventTyping:
			keys := 20 + g.r.Float64()*180
			e.Data = map[string]float64{"keys": keys, "corrections": keys * (0.03 + 0.07*g.r.Float64()), "duration_ms": keys * (180 + 140*g.r.Float64())}
		case EventScroll:
			e.Data = map[string]float64{"depth_pct": 10 + 90*g.r.Float64(), "speed": 200 + 2300*g.r.Float64()}
		case EventBlur:
			e.Data = map[string]float64{"duration_ms": g.r.ExpFloat64() * 180000}
		case EventFocus:
			e.Data = map[string]float64{"duration_ms": g.r.ExpFloat64() * 60000}
		}
		out[i] = e
	}
	slices.SortFunc(out, func(a, b ObserverEvent) int { return a.At.Compare(b.At) })
	return out
}
