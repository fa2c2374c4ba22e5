package soul_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// Personas are synthetic people with known habits, stored through the real
// paths (Spotify extended-history export through the importer, GitHub and
// Gmail items through the polling upsert, browser events through the
// observer service) and analysed by the service in their own time zone.
// Each must get the insights its habits imply and must not get the ones
// they contradict; then the local twin answers a fixed set of questions
// from each one's signature with the facts it should know.

// persona is one synthetic person.
type persona struct {
	name  string
	email string
	// zone is the IANA zone the person chose ("" when it comes from the
	// extension's offset).
	zone string
	// seed stores the person's data for userID.
	seed func(t *testing.T, e *env, userID string, r *rand.Rand)
	// must and mustNot name insights by key and title fragment
	// ("music.chronotype=Evening listener", or a key alone).
	must, mustNot []string
}

// localDay is 00:00 on the day n days before t0, in loc.
func localDay(loc *time.Location, n int) time.Time {
	d := t0.In(loc).AddDate(0, 0, -n)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}

// at is day + h hours + a random part of span hours.
func at(r *rand.Rand, day time.Time, h, span float64) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, day.Location()).
		Add(time.Duration((h + span*r.Float64()) * float64(time.Hour)))
}

// play is one extended-history row ending at end.
func play(end time.Time, artist string, track int) extendedRow {
	no := false
	return extendedRow{Ts: end.UTC().Format(time.RFC3339), Platform: "iOS 17", MsPlayed: 180000, ConnCountry: "US",
		Track: fmt.Sprintf("%s song %d", artist, track), Artist: artist, Album: artist + " album",
		TrackURI: fmt.Sprintf("spotify:track:%s%02d", strings.ReplaceAll(artist, " ", ""), track), ReasonStart: "trackdone",
		ReasonEnd: "trackdone", Skipped: &no}
}

// importRows imports rows as one Streaming_History_Audio file through the
// importer, the way a user's upload is.
func importRows(t *testing.T, e *env, userID string, rows []extendedRow) {
	t.Helper()
	raw, err := json.Marshal(rows)
	storetest.Must(t, err)
	file := importer.File{Name: "Streaming_History_Audio_2026_0.json", Size: int64(len(raw)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil }}
	res, err := e.ingest.ImportFiles(context.Background(), userID, "spotify", []importer.File{file}, nil)
	storetest.Must(t, err)
	// Two plays of one track ending in the same second are one play to
	// the importer's deduplication: a few may merge.
	if res.Rejected != 0 || res.Imported+res.Duplicate != len(rows) || res.Imported < len(rows)*99/100 {
		t.Fatalf("imported %d of %d plays: %+v", res.Imported, len(rows), res)
	}
}

// artistOf draws from a taste: the first artist most, then the others.
func artistOf(r *rand.Rand, artists []string) string {
	if r.Float64() < 0.4 {
		return artists[0]
	}
	return artists[r.IntN(len(artists))]
}

func codeEvent(t *testing.T, id int, when time.Time, repo string) store.PlatformItem {
	return apiItem(t, "event", fmt.Sprint(50_000_000_000+id), when.UTC(), platform.GitHubEventPayload{
		Source: "api", Type: "PushEvent", Repo: repo, RepoID: 7, Public: true, CreatedAt: when.UTC().Format(time.RFC3339)})
}

func sentMail(t *testing.T, id int, when time.Time) store.PlatformItem {
	mid := fmt.Sprintf("18d%013x", id)
	return apiItem(t, "message", mid, when.UTC(), platform.GmailMessagePayload{
		Source: "api", ID: mid, ThreadID: mid, LabelIDs: []string{"SENT"}, InternalDate: fmt.Sprint(when.UnixMilli()),
		From: "Mia <mia@example.com>", Date: when.UTC().Format(time.RFC1123Z)})
}

var personas = []persona{
	{
		// Listens only 19:00–22:00 in Los Angeles, across the end of DST
		// (1 Nov 2026). In UTC that is 02:00–06:00: a "night owl" she is not.
		name: "evening listener in Los Angeles", email: "lena@example.com", zone: "America/Los_Angeles",
		seed: func(t *testing.T, e *env, id string, r *rand.Rand) {
			la, _ := time.LoadLocation("America/Los_Angeles")
			taste := []string{"Nocturne Quartet", "Amber Lights", "Slow Harbor", "June Parade", "Velvet Static"}
			var rows []extendedRow
			for n := 1; n <= 150; n++ {
				for range 5 + r.IntN(3) {
					rows = append(rows, play(at(r, localDay(la, n), 19, 3), artistOf(r, taste), r.IntN(8)))
				}
			}
			importRows(t, e, id, rows)
		},
		must:    []string{"music.chronotype=Evening listener", "music.top-artists=Your most played artists"},
		mustNot: []string{"music.chronotype=Night owl", "change.", "correlation.", "coding.", "linkedin."},
	},
	{
		// Codes on Saturdays and Sundays, 10:00–18:00 in Berlin; one weekday
		// evening now and then. Their zone comes from the extension.
		name: "weekend coder in Berlin", email: "jonas@example.com",
		seed: func(t *testing.T, e *env, id string, r *rand.Rand) {
			berlin, _ := time.LoadLocation("Europe/Berlin")
			items := []store.PlatformItem{apiItem(t, "repo", "7", t0, platform.GitHubRepoPayload{Source: "api", FullName: "jonas/synth",
				Language: "Go", Languages: map[string]int64{"Go": 180000, "Makefile": 30000, "Shell": 4000}, Topics: []string{}})}
			for _, name := range []string{"jonas/tools", "jonas/site"} {
				items = append(items, apiItem(t, "repo", name, t0, platform.GitHubRepoPayload{Source: "api", FullName: name,
					Language: "Go", Languages: map[string]int64{"Go": 40000, "Dockerfile": 900}, Topics: []string{}}))
			}
			k := 0
			for n := 1; n <= 120; n++ {
				day := localDay(berlin, n)
				switch wd := day.Weekday(); {
				case wd == time.Saturday || wd == time.Sunday:
					for range 4 + r.IntN(5) {
						k++
						items = append(items, codeEvent(t, k, at(r, day, 10, 8), "jonas/synth"))
					}
				case wd == time.Wednesday && r.Float64() < 0.3:
					k++
					items = append(items, codeEvent(t, k, at(r, day, 20, 1), "jonas/tools"))
				}
			}
			e.upsert(t, id, "github", items)
			// The extension reports the browser's offset (CET, +01:00 in
			// November) with every event.
			ctx := context.Background()
			_, err := e.ingest.SetObserverSettings(ctx, id, true, false)
			storetest.Must(t, err)
			offset := 60
			var raw []observe.RawEvent
			for i := range 30 {
				when := at(r, localDay(berlin, 1+i%20), 11, 6)
				raw = append(raw, observe.RawEvent{ClientEventID: fmt.Sprintf("j-%d", i), Type: "scroll",
					OccurredAt: when.UTC().Format(time.RFC3339), URL: "https://pkg.go.dev/time",
					Data: json.RawMessage(`{"depth_pct":60,"speed_px_s":700}`), UTCOffsetMinutes: &offset})
			}
			if n, _, err := e.ingest.RecordEvents(ctx, id, raw); err != nil || n != len(raw) {
				t.Fatalf("observer accepted %d (%v)", n, err)
			}
		},
		must:    []string{"coding.rhythm=Weekend coder", "coding.languages=Go specialist"},
		mustNot: []string{"coding.rhythm=Codes on weekdays", "coding.languages=Polyglot", "music."},
	},
	{
		// Night shifts in Sydney four nights a week: music on breaks at
		// 01:00–04:00 and mail to the ward at 02:00–05:00; afternoons off.
		// The data crosses the start of DST (4 Oct 2026).
		name: "night-shift nurse in Sydney", email: "mia@example.com", zone: "Australia/Sydney",
		seed: func(t *testing.T, e *env, id string, r *rand.Rand) {
			syd, _ := time.LoadLocation("Australia/Sydney")
			taste := []string{"Harbour Lights", "Southerly", "Coral Drift", "Mallee Sun"}
			var rows []extendedRow
			var mails []store.PlatformItem
			k := 0
			for n := 1; n <= 140; n++ {
				day := localDay(syd, n)
				if n%7 < 4 { // a shift night: breaks after midnight
					for range 5 + r.IntN(3) {
						rows = append(rows, play(at(r, day, 1, 3), artistOf(r, taste), r.IntN(6)))
					}
					for range 2 {
						k++
						mails = append(mails, sentMail(t, k, at(r, day, 2, 3)))
					}
				} else if r.Float64() < 0.5 {
					rows = append(rows, play(at(r, day, 14, 3), artistOf(r, taste), r.IntN(6)))
				}
			}
			importRows(t, e, id, rows)
			e.upsert(t, id, "gmail", mails)
		},
		must: []string{"music.chronotype=Night owl", "mail.after-hours=Often emails after hours"},
		mustNot: []string{"music.chronotype=Morning listener", "music.chronotype=Evening listener",
			"mail.after-hours=Keeps email to working hours"},
	},
	{
		// Listens 18:00–20:00 in London until the end of May, then
		// 20:00–22:00 from June on: the same amount, two hours later.
		name: "listening moved two hours later in June", email: "sam@example.com", zone: "Europe/London",
		seed: func(t *testing.T, e *env, id string, r *rand.Rand) {
			london, _ := time.LoadLocation("Europe/London")
			taste := []string{"Grey Skies", "Tidal", "Lantern", "Northern Line"}
			june := time.Date(2026, 6, 1, 0, 0, 0, 0, london)
			var rows []extendedRow
			for n := 1; n <= 320; n++ {
				day := localDay(london, n)
				h := 18.0
				if !day.Before(june) {
					h = 20
				}
				for range 3 + r.IntN(4) {
					rows = append(rows, play(at(r, day, h, 2), artistOf(r, taste), r.IntN(6)))
				}
			}
			importRows(t, e, id, rows)
		},
		must:    []string{"change.music.time=Since June you listen about two hours later in the day", "music.chronotype=Evening listener"},
		mustNot: []string{"music.chronotype=Night owl", "change.music.volume", "correlation."},
	},
}

// setZone stores the zone the persona chose, as updateProfile does.
func setZone(t *testing.T, e *env, userID, zone string) {
	t.Helper()
	if zone == "" {
		return
	}
	u, err := e.db.UserByID(context.Background(), userID)
	storetest.Must(t, err)
	u.ChosenTimeZone = zone
	storetest.Must(t, e.db.UpdateUser(context.Background(), u, "time_zone"))
}

// seedPersona stores and analyses one persona and returns the owner's
// signature.
func seedPersona(t *testing.T, e *env, p persona, i int) (string, soul.SignatureView) {
	t.Helper()
	id := e.user(t, p.email)
	setZone(t, e, id, p.zone)
	p.seed(t, e, id, rand.New(rand.NewPCG(uint64(i+1), 14)))
	if _, err := e.soul.Analyze(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	sv, err := e.soul.Signature(context.Background(), id, id, "")
	storetest.Must(t, err)
	return id, sv
}

func hasInsight(v privacy.View, spec string) (string, bool) {
	key, title, _ := strings.Cut(spec, "=")
	for _, in := range v.Insights {
		if strings.HasPrefix(in.Key, key) && (title == "" || strings.Contains(in.Title, title)) {
			return in.Key + ": " + in.Title + " — " + in.Body, true
		}
	}
	return "", false
}

func TestPersonas(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		for i, p := range personas {
			t.Run(p.name, func(t *testing.T) {
				id, sv := seedPersona(t, e, p, i)
				var all []string
				for _, in := range sv.View.Insights {
					all = append(all, in.Key+": "+in.Title)
				}
				for _, m := range p.must {
					if _, ok := hasInsight(sv.View, m); !ok {
						t.Errorf("missing %q; got %v", m, all)
					}
				}
				for _, m := range p.mustNot {
					if got, ok := hasInsight(sv.View, m); ok {
						t.Errorf("must not get %q, got %s", m, got)
					}
				}
				for _, in := range sv.View.Insights {
					if strings.Contains(in.Body, "0 new artists") || strings.Contains(in.Body, " in 0 of ") {
						t.Errorf("empty finding stored: %s", in.Body)
					}
				}
				if p.zone == "" {
					u, err := e.db.UserByID(context.Background(), id)
					storetest.Must(t, err)
					if u.TimeZone() != "UTC+01:00" || u.TimeZoneSource() != store.TimeZoneExtension {
						t.Errorf("zone from the extension: %s (%s)", u.TimeZone(), u.TimeZoneSource())
					}
				}
			})
		}
	})
}

// twinQuestions are asked of every persona's twin.
var twinQuestions = []string{
	"Who are you?",                             // 0
	"What music do you like?",                  // 1
	"Who is your favourite artist?",            // 2
	"What genres do you listen to?",            // 3
	"When do you usually listen to music?",     // 4
	"Are you a night owl or a morning person?", // 5
	"What time of day are you most active?",    // 6
	"Do you listen to music on weekends?",      // 7
	"Has your listening changed lately?",       // 8
	"What do you do for work?",                 // 9
	"What languages do you code in?",           // 10
	"Do you code on weekends?",                 // 11
	"Are you on a coding streak?",              // 12
	"Do you work with others on GitHub?",       // 13
	"How much email do you send?",              // 14
	"Do you email after hours?",                // 15
	"Who are your friends?",                    // 16
	"Are you part of any communities?",         // 17
	"Do you watch YouTube?",                    // 18
	"What channels do you watch?",              // 19
	"How focused are you when you browse?",     // 20
	"How fast do you type?",                    // 21
	"What's your personality like?",            // 22
	"Are you an introvert or an extravert?",    // 23
	"How conscientious are you?",               // 24
	"Is anything in your days connected?",      // 25
	"What changed recently?",                   // 26
	"What's your favourite food?",              // 27
	"Do you have pets?",                        // 28
	"What do you dream about?",                 // 29
}

// expect is what one answer must and must not contain.
type expect struct{ has, not []string }

const (
	noData     = "(it is private, or I have no data on it yet)"
	dontKnow   = "I don't know that: nothing I share here speaks to it, and I won't guess."
	noPersonal = "Nothing I share here says anything about my social life, and I won't guess."
)

var secondPerson = regexp.MustCompile(`\b([Yy]ou|[Yy]our|[Yy]ours)\b`)

// twinFacts are the facts each persona's twin must state (and must not) per
// question index; every other question only has to be honest (first person,
// nothing invented, see TestPersonaTwin).
var twinFacts = map[string]map[int]expect{
	"evening listener in Los Angeles": {
		0:  {has: []string{"Evening listener", "Nocturne Quartet"}},
		1:  {has: []string{"Nocturne Quartet leads"}},
		2:  {has: []string{"Nocturne Quartet"}},
		4:  {has: []string{"Evening listener", "17:00–22:00"}, not: []string{"Night owl", "05:00–06:00"}},
		5:  {has: []string{"Evening listener"}, not: []string{"Night owl"}},
		8:  {not: []string{"Since "}},
		9:  {has: []string{"Nothing about my work is shared with you here " + noData}},
		10: {has: []string{"Nothing about my coding is shared with you here " + noData}, not: []string{"Go", "GitHub activity"}},
		14: {has: []string{noData}},
		16: {has: []string{noPersonal}},
		25: {not: []string{"ρ ="}},
		27: {has: []string{dontKnow}},
		28: {has: []string{dontKnow}},
		29: {has: []string{dontKnow}},
	},
	"weekend coder in Berlin": {
		0:  {has: []string{"Go specialist"}},
		1:  {has: []string{"Nothing I share here says anything about my music, and I won't guess."}},
		9:  {has: []string{"Go specialist", "Weekend coder"}},
		10: {has: []string{"Go specialist", "Go is 100% of my code"}, not: []string{"Makefile", "Shell", "Dockerfile", "Polyglot"}},
		11: {has: []string{"Weekend coder"}},
		12: {has: []string{"consecutive days"}},
		27: {has: []string{dontKnow}},
		28: {has: []string{dontKnow}},
	},
	"night-shift nurse in Sydney": {
		0:  {has: []string{"Night owl", "Harbour Lights"}},
		2:  {has: []string{"Harbour Lights"}},
		4:  {has: []string{"Night owl", "22:00–05:00"}, not: []string{"Morning listener", "Evening listener"}},
		5:  {has: []string{"Night owl"}},
		15: {has: []string{"Often emails after hours"}},
		10: {has: []string{"Nothing I share here says anything about my coding, and I won't guess."}},
		29: {has: []string{dontKnow}},
	},
	"listening moved two hours later in June": {
		4:  {has: []string{"Since June I listen about two hours later in the day", "Evening listener"}},
		8:  {has: []string{"Since June I listen about two hours later"}},
		26: {has: []string{"Since June I listen about two hours later"}},
		2:  {has: []string{"Grey Skies"}},
		28: {has: []string{dontKnow}},
	},
}

// TestPersonaTwin asks each persona's local twin the 30 questions: the
// expected facts must be in the answers, every answer speaks in the first
// person and starts as the local twin's, and the questions no data can
// answer get "I don't know" without a figure.
func TestPersonaTwin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, nil)
		for i, p := range personas {
			t.Run(p.name, func(t *testing.T) {
				_, sv := seedPersona(t, e, p, i)
				facts := twinFacts[p.name]
				if len(twinQuestions) != 30 || len(facts) == 0 {
					t.Fatalf("%d questions, %d expectations", len(twinQuestions), len(facts))
				}
				for qi, q := range twinQuestions {
					a := llm.LocalAnswer(sv.View, q)
					if !strings.HasPrefix(a, llm.LocalPrefix) {
						t.Errorf("%q: %q", q, a)
					}
					// "with you" and "ask me" address the visitor; any other
					// "you" would be a detector's sentence not turned into mine.
					rest := a
					for _, ok := range []string{"shared with you", "share with you", "tell you", "You can ask me"} {
						rest = strings.ReplaceAll(rest, ok, "")
					}
					if secondPerson.MatchString(rest) {
						t.Errorf("%q: answer speaks of me as \"you\": %q", q, a)
					}
					ex := facts[qi]
					for _, h := range ex.has {
						if !strings.Contains(a, h) {
							t.Errorf("%q: answer lacks %q:\n%s", q, h, a)
						}
					}
					for _, n := range ex.not {
						if strings.Contains(a, n) {
							t.Errorf("%q: answer says %q:\n%s", q, n, a)
						}
					}
					if qi >= 27 && strings.ContainsAny(a, "0123456789") {
						t.Errorf("%q: a figure in an answer nothing supports: %q", q, a)
					}
				}
				if i != 0 {
					return
				}
				// A visitor who may not see the personal cluster: the twin
				// answers from what they see and says what they cannot.
				settings, err := privacy.DefaultSettings().WithOverride(privacy.Personal, privacy.AudienceFriends, 0)
				storetest.Must(t, err)
				friends := privacy.Reveal(sv.View, settings, privacy.AudienceFriends)
				a := llm.LocalAnswer(friends, "When do you usually listen to music?")
				if strings.Contains(a, "Evening listener") || strings.Contains(a, "17:00") || !strings.Contains(a, "Nocturne Quartet") ||
					!strings.Contains(a, "nothing I share with you here speaks to my music and daily rhythm together") {
					t.Errorf("friends, personal hidden: %q", a)
				}
				a = llm.LocalAnswer(friends, "Are you a night owl?")
				if !strings.Contains(a, "Nothing about my daily rhythm is shared with you here") {
					t.Errorf("friends asking about the hidden rhythm: %q", a)
				}
			})
		}
	})
}
