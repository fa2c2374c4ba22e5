package analysis

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAfterHours(t *testing.T) {
	tests := []struct {
		at   time.Time
		want bool
	}{
		{at(0, 7).Add(59 * time.Minute), true}, // Monday 07:59
		{at(0, 8), false},                      // Monday 08:00
		{at(0, 18).Add(59 * time.Minute), false},
		{at(0, 19), true},
		{at(4, 12), false}, // Friday noon
		{at(5, 12), true},  // Saturday noon
		{at(6, 9), true},   // Sunday morning
	}
	for _, tt := range tests {
		if got := afterHours(tt.at); got != tt.want {
			t.Errorf("afterHours(%s) = %v, want %v", tt.at.Format("Mon 15:04"), got, tt.want)
		}
	}
}

func TestSenderDomain(t *testing.T) {
	tests := map[string]string{
		"Ann <ann@Example.ORG>": "example.org",
		"bob@mail.example.com":  "mail.example.com",
		"no address":            "",
		"":                      "",
	}
	for in, want := range tests {
		if got := senderDomain(in); got != want {
			t.Errorf("senderDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func mails(n int, sent bool, when func(i int) time.Time) []Mail {
	out := make([]Mail, n)
	for i := range out {
		out[i] = Mail{At: when(i), From: fmt.Sprintf("x%d@corp.example", i%3), Labels: []string{"INBOX"}}
		if sent {
			out[i].Labels = []string{"SENT"}
			out[i].From = "me@me.example"
		}
	}
	return out
}

func TestMailAfterHoursUsesSentMailInLocalTime(t *testing.T) {
	now := at(30, 0)
	weekdayAt := func(h int) func(int) time.Time { return func(i int) time.Time { return at(i%5, h) } }
	tests := []struct {
		name  string
		mails []Mail
		loc   *time.Location
		want  float64 // −1 = no insight
	}{
		{"received at night does not count", append(mails(30, false, weekdayAt(23)), mails(20, true, weekdayAt(10))...), time.UTC, 0},
		{"sent at night", mails(20, true, weekdayAt(22)), time.UTC, 1},
		{"half on weekends", append(mails(10, true, weekdayAt(10)), mails(10, true, func(i int) time.Time { return at(5, 10) })...), time.UTC, 0.5},
		{"16:00 UTC is 01:00 in UTC+9", mails(20, true, weekdayAt(16)), time.FixedZone("UTC+9", 9*3600), 1},
		{"too few sent", mails(19, true, weekdayAt(22)), time.UTC, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Communication(tt.mails, nil, tt.loc, now)
			got, ok := d.Features[FeatMailAfterHours]
			if tt.want < 0 {
				if _, has := findInsight(t, d.Insights, "mail.after-hours"); ok || has {
					t.Fatalf("after-hours %v from too few sent mails", got)
				}
				return
			}
			if !near(got, tt.want) {
				t.Fatalf("after-hours share %v, want %v", got, tt.want)
			}
			if in := mustInsight(t, d.Insights, "mail.after-hours"); in.Sensitivity < 50 {
				t.Errorf("after-hours sensitivity %d, want high", in.Sensitivity)
			}
		})
	}
}

func TestMailVolume(t *testing.T) {
	now := at(9, 23) // mails from day 0 to day 9: 10 days
	daily := func(i int) time.Time { return at(i%10, 10) }
	d := Communication(append(mails(40, false, daily), mails(10, true, daily)...), nil, time.UTC, now)
	if got := d.Features[FeatMailReceivedPerDay]; !near(got, 4) {
		t.Errorf("received per day %v, want 4", got)
	}
	if got := d.Features[FeatMailSentPerDay]; !near(got, 1) {
		t.Errorf("sent per day %v, want 1", got)
	}
	in := mustInsight(t, d.Insights, "mail.volume")
	for _, e := range in.Evidence {
		if strings.Contains(e.Value, "@") {
			t.Errorf("evidence shows an address: %+v", e)
		}
	}
	if in.Evidence[0].Label != "Received per day" {
		t.Errorf("evidence starts with %+v", in.Evidence[0])
	}

	if d := Communication(mails(29, false, daily), nil, time.UTC, now); len(d.Insights) != 0 {
		t.Errorf("insights %v from 29 mails", keysOf(d.Insights))
	}
	short := Communication(mails(60, false, func(i int) time.Time { return at(i%3, 10) }), nil, time.UTC, at(5, 0))
	if _, ok := findInsight(t, short.Insights, "mail.volume"); ok {
		t.Error("volume from 6 days of mail")
	}
}

func TestDiscordCommunities(t *testing.T) {
	tests := []struct {
		name      string
		guilds    []Guild
		wantTitle string
		wantFirst string
	}{
		{"too few", []Guild{{Name: "a"}, {Name: "b"}}, "", ""},
		{"owner of two", []Guild{{Name: "z"}, {Name: "b", Owner: true}, {Name: "a"}, {Name: "c", Owner: true}}, "Community builder", "b"},
		{"many", func() []Guild {
			var g []Guild
			for i := range 25 {
				g = append(g, Guild{Name: fmt.Sprintf("g%02d", i)})
			}
			return g
		}(), "Member of many communities", "g00"},
		{"few", []Guild{{Name: "b"}, {Name: "a"}, {Name: "c"}}, "A few close communities", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Communication(nil, tt.guilds, time.UTC, at(0, 0))
			in, ok := findInsight(t, d.Insights, "discord.communities")
			if tt.wantTitle == "" {
				if ok {
					t.Fatal("communities from two servers")
				}
				return
			}
			if in.Title != tt.wantTitle || in.Evidence[0].Label != tt.wantFirst {
				t.Errorf("title %q first %q, want %q %q", in.Title, in.Evidence[0].Label, tt.wantTitle, tt.wantFirst)
			}
			if len(in.Evidence) > 10 {
				t.Errorf("%d servers listed, want at most 10", len(in.Evidence))
			}
		})
	}
}

func TestProfessional(t *testing.T) {
	if d := Professional(nil); len(d.Insights)+len(d.Features) != 0 {
		t.Fatalf("LinkedIn detection without a profile: %+v", d)
	}
	d := Professional(&Profile{Sub: "abc", Name: "Ada Lovelace", Locale: "en_GB", EmailVerified: true})
	// A name and a locale are profile facts, not insights.
	if len(d.Insights) != 0 {
		t.Errorf("insights from a LinkedIn profile: %v", keysOf(d.Insights))
	}
	if len(d.Features) != 1 || d.Features[FeatLinkedIn] != 1 {
		t.Errorf("features %v: a profile supports no feature beyond being connected", d.Features)
	}
}
