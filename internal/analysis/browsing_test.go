package analysis

import (
	"math"
	"testing"
	"time"
)

func obs(n int, typ, domain string, data map[string]float64, hours int) []ObserverEvent {
	out := make([]ObserverEvent, n)
	for i := range out {
		out[i] = ObserverEvent{At: at(0, i%hours), Type: typ, Domain: domain, Data: data}
	}
	return out
}

func TestBrowsingTyping(t *testing.T) {
	tests := []struct {
		name      string
		ev        []ObserverEvent
		kpm, corr float64 // kpm < 0: no insight
		title     string
	}{
		{"200 keys a minute", obs(20, EventTyping, "a.example", map[string]float64{"keys": 100, "corrections": 5, "duration_ms": 30000}, 1), 200, 0.05, "Steady typist"},
		{"fast", obs(20, EventTyping, "a.example", map[string]float64{"keys": 100, "corrections": 0, "duration_ms": 15000}, 1), 400, 0, "Fast typist"},
		{"too few sessions", obs(19, EventTyping, "a.example", map[string]float64{"keys": 100, "duration_ms": 30000}, 1), -1, 0, ""},
		{"too few keys", obs(20, EventTyping, "a.example", map[string]float64{"keys": 9, "duration_ms": 3000}, 1), -1, 0, ""},
		{"zero durations ignored", obs(30, EventTyping, "a.example", map[string]float64{"keys": 100, "duration_ms": 0}, 1), -1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Browsing(tt.ev, time.UTC)
			in, ok := findInsight(t, d.Insights, "browsing.typing")
			if tt.kpm < 0 {
				if ok {
					t.Fatalf("typing insight from too little typing: %+v", in)
				}
				return
			}
			if !near(d.Features[FeatBrowseTypingKPM], tt.kpm) || !near(d.Features[FeatBrowseCorrectionRate], tt.corr) {
				t.Errorf("kpm %v corrections %v, want %v %v", d.Features[FeatBrowseTypingKPM], d.Features[FeatBrowseCorrectionRate], tt.kpm, tt.corr)
			}
			if in.Title != tt.title {
				t.Errorf("title %q, want %q", in.Title, tt.title)
			}
		})
	}
}

func TestBrowsingReading(t *testing.T) {
	var ev []ObserverEvent
	ev = append(ev, obs(15, EventScroll, "a.example", map[string]float64{"depth_pct": 100, "speed": 500}, 1)...)
	ev = append(ev, obs(15, EventScroll, "a.example", map[string]float64{"depth_pct": 150, "speed": 300}, 1)...) // depth clamped to 100
	d := Browsing(ev, time.UTC)
	if !near(d.Features[FeatBrowseScrollDepth], 1) || !near(d.Features[FeatBrowseScrollSpeed], 400) {
		t.Errorf("depth %v speed %v, want 1 and 400", d.Features[FeatBrowseScrollDepth], d.Features[FeatBrowseScrollSpeed])
	}
	if in := mustInsight(t, d.Insights, "browsing.reading"); in.Title != "Reads pages to the end" {
		t.Errorf("title %q", in.Title)
	}
	// A NaN from a broken client is dropped, not averaged in.
	withNaN := append(ev[:30:30], ObserverEvent{At: at(0, 0), Type: EventScroll, Data: map[string]float64{"depth_pct": math.NaN(), "speed": math.Inf(1)}})
	if d := Browsing(withNaN, time.UTC); !near(d.Features[FeatBrowseScrollDepth], 1) || !near(d.Features[FeatBrowseScrollSpeed], 400) {
		t.Errorf("with a NaN event: depth %v speed %v", d.Features[FeatBrowseScrollDepth], d.Features[FeatBrowseScrollSpeed])
	}
	if _, ok := findInsight(t, Browsing(ev[:29], time.UTC).Insights, "browsing.reading"); ok {
		t.Error("reading insight from 29 scrolls")
	}
}

func TestBrowsingAttention(t *testing.T) {
	focus := func(minutes float64, n, hours int) []ObserverEvent {
		return obs(n, EventBlur, "a.example", map[string]float64{"duration_ms": minutes * 60000}, hours)
	}
	tests := []struct {
		name          string
		ev            []ObserverEvent
		attention     float64 // −1: no insight
		switchPerHour float64
		title         string
	}{
		{"four-minute sessions, no switching", focus(4, 20, 5), 1 - math.Exp(-1), 0, "Deep focus"},
		{"short sessions, many switches", append(focus(0.5, 20, 5), obs(200, EventTabSwitch, "", nil, 5)...), 1 - math.Exp(-0.125), 40, "Juggles many tabs"},
		{"too few sessions", focus(4, 19, 5), -1, 0, ""},
		{"too few active hours", focus(4, 40, 4), -1, 0, ""},
		{"focus events' away time is not a session", obs(40, EventFocus, "a.example", map[string]float64{"duration_ms": 60000}, 5), -1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Browsing(tt.ev, time.UTC)
			in, ok := findInsight(t, d.Insights, "browsing.attention")
			if tt.attention < 0 {
				if ok {
					t.Fatalf("attention insight from too little data")
				}
				return
			}
			if !near(d.Features[FeatBrowseAttention], tt.attention) || !near(d.Features[FeatBrowseTabSwitchRate], tt.switchPerHour) {
				t.Errorf("attention %v switches %v, want %v %v", d.Features[FeatBrowseAttention], d.Features[FeatBrowseTabSwitchRate], tt.attention, tt.switchPerHour)
			}
			if in.Title != tt.title {
				t.Errorf("title %q, want %q", in.Title, tt.title)
			}
			if in.Sensitivity < 50 {
				t.Errorf("attention sensitivity %d, want high", in.Sensitivity)
			}
		})
	}
}

func TestBrowsingDomains(t *testing.T) {
	var ev []ObserverEvent
	ev = append(ev, obs(10, EventBlur, "work.example", map[string]float64{"duration_ms": 180000}, 1)...)
	ev = append(ev, obs(10, EventBlur, "fun.example", map[string]float64{"duration_ms": 60000}, 1)...)
	ev = append(ev, obs(30, EventMouseMove, "fun.example", nil, 1)...)
	d := Browsing(ev, time.UTC)
	in := mustInsight(t, d.Insights, "browsing.domains")
	if in.Evidence[0].Label != "work.example" || in.Evidence[0].Value != "30 min (75%)" {
		t.Errorf("top domain %+v: time, not event count, should rank domains", in.Evidence[0])
	}
	// Without focus times, events are counted.
	d = Browsing(obs(30, EventNavigation, "nav.example", nil, 1), time.UTC)
	if in := mustInsight(t, d.Insights, "browsing.domains"); in.Evidence[0].Value != "100%" {
		t.Errorf("count fallback evidence %+v", in.Evidence[0])
	}
	if d := Browsing(obs(19, EventNavigation, "nav.example", nil, 1), time.UTC); len(d.Insights) != 0 {
		t.Errorf("insights %v from 19 events", keysOf(d.Insights))
	}
}
