package analysis

import (
	"strings"
	"testing"
	"time"
)

func TestStreaks(t *testing.T) {
	today := dayOf(at(10, 0))
	days := func(offsets ...int) map[civilDay]bool {
		m := map[civilDay]bool{}
		for _, o := range offsets {
			m[dayOf(at(10+o, 0))] = true
		}
		return m
	}
	tests := []struct {
		name                 string
		days                 map[civilDay]bool
		longest, wantCurrent int
	}{
		{"none", days(), 0, 0},
		{"today only", days(0), 1, 1},
		{"five days to today", days(-4, -3, -2, -1, 0), 5, 5},
		{"run ending yesterday is still current", days(-3, -2, -1), 3, 3},
		{"run ending two days ago is broken", days(-4, -3, -2), 3, 0},
		{"longest in the past, short current", days(-9, -8, -7, -6, -1, 0), 4, 2},
		{"gaps", days(-8, -6, -4, -2, 0), 1, 1},
	}
	for _, tt := range tests {
		longest, current := streaks(tt.days, today)
		if longest != tt.longest || current != tt.wantCurrent {
			t.Errorf("%s: longest %d current %d, want %d %d", tt.name, longest, current, tt.longest, tt.wantCurrent)
		}
	}
	// Across a month end and a DST change (civil days, not 24-hour steps).
	m := map[civilDay]bool{{2025, 3, 29}: true, {2025, 3, 30}: true, {2025, 3, 31}: true, {2025, 4, 1}: true}
	if l, c := streaks(m, civilDay{2025, 4, 1}); l != 4 || c != 4 {
		t.Errorf("month end: longest %d current %d, want 4 4", l, c)
	}
}

func codeEvents(n int, typ string, when func(i int) time.Time) []CodeEvent {
	out := make([]CodeEvent, n)
	for i := range out {
		out[i] = CodeEvent{At: when(i), Type: typ, Repo: "me/r"}
	}
	return out
}

func TestCodingStreakInUserTimeZone(t *testing.T) {
	// 23:30 UTC Monday and 00:30 UTC Tuesday are both Monday evening in
	// New York time (UTC−5 in this test): one active day there, two in UTC.
	ny := time.FixedZone("UTC-5", -5*3600)
	var ev []CodeEvent
	for i := range 15 {
		ev = append(ev, CodeEvent{At: at(2*i, 23).Add(30 * time.Minute), Type: "PushEvent"})
		ev = append(ev, CodeEvent{At: at(2*i+1, 0).Add(30 * time.Minute), Type: "PushEvent"})
	}
	now := at(29, 12)
	if got := Coding(ev, nil, ny, now).Features[FeatCodingLongestStreak]; got != 1 {
		t.Errorf("longest streak in UTC−5 = %v, want 1 (every other day)", got)
	}
	if got := Coding(ev, nil, time.UTC, now).Features[FeatCodingLongestStreak]; got != 30 {
		t.Errorf("longest streak in UTC = %v, want 30", got)
	}
}

func TestCodingRhythm(t *testing.T) {
	now := at(60, 0)
	tests := []struct {
		name      string
		when      func(i int) time.Time
		n         int
		wantTitle string
		weekend   float64
	}{
		{"weekday office hours", func(i int) time.Time { return at(i%5, 10) }, 30, "Codes on weekdays", 0},
		{"weekends", func(i int) time.Time { return at(5+i%2, 14) }, 30, "Weekend coder", 1},
		{"nights", func(i int) time.Time { return at(i%5, 23) }, 30, "Codes late at night", 0},
		{"too few events", func(i int) time.Time { return at(i%5, 10) }, 29, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Coding(codeEvents(tt.n, "PushEvent", tt.when), nil, time.UTC, now)
			in, ok := findInsight(t, d.Insights, "coding.rhythm")
			if tt.wantTitle == "" {
				_, streak := findInsight(t, d.Insights, "coding.streaks")
				if ok || streak {
					t.Fatalf("insights %v from %d events", keysOf(d.Insights), tt.n)
				}
				return
			}
			if in.Title != tt.wantTitle {
				t.Fatalf("title %q, want %q", in.Title, tt.wantTitle)
			}
			if got := d.Features[FeatCodingWeekendShare]; !near(got, tt.weekend) {
				t.Errorf("weekend share %v, want %v", got, tt.weekend)
			}
		})
	}
}

func TestCodingCollaboration(t *testing.T) {
	now := at(60, 0)
	mix := func(push, pr, review, other int) []CodeEvent {
		var ev []CodeEvent
		w := func(i int) time.Time { return at(i%20, 10) }
		ev = append(ev, codeEvents(push, "PushEvent", w)...)
		ev = append(ev, codeEvents(pr, "PullRequestEvent", w)...)
		ev = append(ev, codeEvents(review, "PullRequestReviewEvent", w)...)
		ev = append(ev, codeEvents(other, "IssuesEvent", w)...)
		return ev
	}
	tests := []struct {
		name      string
		ev        []CodeEvent
		want      float64 // −1 = not enough
		wantTitle string
	}{
		{"pushes only", mix(30, 0, 0, 0), 0, "Mostly pushes directly"},
		{"half reviews and PRs", mix(10, 5, 5, 0), 0.5, "Collaborative developer"},
		{"issues do not count", mix(16, 3, 1, 50), 0.2, "Works alone and with others"},
		{"too few", mix(10, 5, 4, 50), -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Coding(tt.ev, nil, time.UTC, now)
			got, ok := d.Features[FeatCodingCollaboration]
			if tt.want < 0 {
				if ok {
					t.Fatalf("collaboration %v from too few events", got)
				}
				return
			}
			if !near(got, tt.want) {
				t.Fatalf("collaboration %v, want %v", got, tt.want)
			}
			if in := mustInsight(t, d.Insights, "coding.collaboration"); in.Title != tt.wantTitle {
				t.Errorf("title %q, want %q", in.Title, tt.wantTitle)
			}
		})
	}
}

func TestCodingLanguages(t *testing.T) {
	tests := []struct {
		name      string
		repos     []Repo
		wantTitle string
		wantFirst string
		wantBody  string
	}{
		{"bytes decide, not repository count", []Repo{
			{Name: "a", Language: "Go", Languages: map[string]int{"Go": 1000}},
			{Name: "b", Language: "Go", Languages: map[string]int{"Go": 1000}},
			{Name: "c", Language: "Python", Languages: map[string]int{"Python": 18000}},
		}, "Python specialist", "Python: 90%", "by bytes"},
		{"primary language when no bytes", []Repo{
			{Name: "a", Language: "Go"}, {Name: "b", Language: "Go"}, {Name: "c", Language: "Rust"}, {Name: "d", Language: "C"},
		}, "Polyglot: 3 languages", "Go: 50%", "primary language"},
		{"build files and a sliver of scripts are not languages", []Repo{
			{Name: "a", Language: "Go", Languages: map[string]int{"Go": 60000, "Makefile": 9000, "Shell": 1500}},
			{Name: "b", Language: "TypeScript", Languages: map[string]int{"TypeScript": 30000, "Dockerfile": 400, "Shell": 500}},
			{Name: "c", Language: "Go", Languages: map[string]int{"Go": 10000, "CMake": 3000}},
		}, "Go specialist", "Go: 70%", "by bytes"},
		{"too few repositories", []Repo{{Name: "a", Language: "Go"}, {Name: "b", Language: "Go"}, {Name: "c"}}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Coding(nil, tt.repos, time.UTC, at(0, 0))
			in, ok := findInsight(t, d.Insights, "coding.languages")
			if tt.wantTitle == "" {
				if ok {
					t.Fatalf("languages %q from too few repositories", in.Title)
				}
				return
			}
			if in.Title != tt.wantTitle {
				t.Errorf("title %q, want %q", in.Title, tt.wantTitle)
			}
			if got := in.Evidence[0].Label + ": " + in.Evidence[0].Value; got != tt.wantFirst {
				t.Errorf("first evidence %q, want %q", got, tt.wantFirst)
			}
			if !strings.Contains(in.Body, tt.wantBody) {
				t.Errorf("body %q does not say %q", in.Body, tt.wantBody)
			}
		})
	}
}
