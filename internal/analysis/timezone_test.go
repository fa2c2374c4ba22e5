package analysis

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the zones do not depend on the machine's zoneinfo
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("zone %s: %v", name, err)
	}
	return loc
}

// localDays returns one moment per calendar day from first to last
// (inclusive) at hh:mm local time in loc, whatever the clocks did: across a
// DST change the UTC instant moves, the local time does not.
func localDays(loc *time.Location, first, last string, hh, mm int, keep func(time.Time) bool) []time.Time {
	a, _ := time.ParseInLocation("2006-01-02", first, loc)
	b, _ := time.ParseInLocation("2006-01-02", last, loc)
	var out []time.Time
	for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
		t := time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, loc)
		if keep == nil || keep(t) {
			out = append(out, t)
		}
	}
	return out
}

// Every detector reads hours, days and weekends in the person's zone, DST
// included. Each row is a person whose habit sits at a fixed local time; the
// same data read in UTC (as before time zones) says something else.
func TestDetectorsReadTheLocalClock(t *testing.T) {
	tests := []struct {
		zone       string
		first      string
		last       string
		hh, mm     int
		wantHour   string // busiest listening hour, local
		wantTitle  string // chronotype
		utcTitle   string // what UTC would have said
		dstChanges int    // offset changes inside the range
	}{
		// Los Angeles: PST/PDT, DST starts 9 Mar 2025 and ends 2 Nov 2025.
		{"America/Los_Angeles", "2025-02-01", "2025-11-30", 20, 15, "20:00–21:00", "Evening listener", "Night owl", 2},
		// Kolkata: +05:30 all year, a half-hour offset.
		{"Asia/Kolkata", "2025-01-01", "2025-06-30", 19, 10, "19:00–20:00", "Evening listener", "Listens around the clock", 0},
		// Sydney: AEDT (+11) until 6 Apr 2025, AEST (+10) until 5 Oct 2025.
		{"Australia/Sydney", "2025-03-01", "2025-10-31", 21, 30, "21:00–22:00", "Evening listener", "Morning listener", 2},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			days := localDays(loc, tt.first, tt.last, tt.hh, tt.mm, nil)
			offsets := map[int]bool{}
			changes := 0
			for i, d := range days {
				_, off := d.Zone()
				offsets[off] = true
				if i > 0 {
					if _, prev := days[i-1].Zone(); prev != off {
						changes++
					}
				}
			}
			if changes != tt.dstChanges {
				t.Fatalf("range crosses %d offset changes, want %d", changes, tt.dstChanges)
			}
			var plays []Play
			for _, d := range days {
				for k := range 3 {
					plays = append(plays, Play{At: d.Add(time.Duration(k*10) * time.Minute), Artist: "A", Track: fmt.Sprint(k)})
				}
			}
			now := days[len(days)-1].AddDate(0, 0, 1)
			d := Music(plays, loc, now)
			in := mustInsight(t, d.Insights, "music.chronotype")
			if in.Title != tt.wantTitle || in.Evidence[1].Value != tt.wantHour || in.Evidence[1].Weight != 1 {
				t.Errorf("in %s: %q, busiest hour %s holding %v of plays; want %q, %s holding all",
					tt.zone, in.Title, in.Evidence[1].Value, in.Evidence[1].Weight, tt.wantTitle, tt.wantHour)
			}
			if u := mustInsight(t, Music(plays, time.UTC, now).Insights, "music.chronotype"); u.Title != tt.utcTitle {
				t.Errorf("read in UTC: %q, want %q (the test would not tell zones apart)", u.Title, tt.utcTitle)
			}
			// Monthly tops are local months too: the last day's plays at
			// 20:00 on 30 Nov are November, not December (UTC).
			months := TopByMonth(plays, loc)
			if got := months[len(months)-1].Month; got != tt.last[:7] {
				t.Errorf("last month %s, want %s", got, tt.last[:7])
			}
		})
	}
}

func TestCodingAndMailInTheLocalWeek(t *testing.T) {
	tests := []struct {
		zone         string
		hh, mm       int
		weekendOnly  bool
		wantTitle    string
		wantWeekend  float64 // −1: the share of local weekend days
		wantNight    float64
		wantStreak   int
		mailHH       int
		wantAfterHrs float64
	}{
		// A weekend coder in Los Angeles, 20:15 Saturday and Sunday: in UTC
		// that is Sunday and Monday, 03:15 or 04:15.
		{"America/Los_Angeles", 20, 15, true, "Weekend coder", 1, 0, 2, 16, 0},
		// Kolkata, 23:45 every day: past 22:00 locally (18:15 UTC), each
		// day its own day, so the streak is every day.
		{"Asia/Kolkata", 23, 45, false, "Codes late at night", -1, 1, 120, 9, 0},
		// Sydney across the April DST change, 00:30 every day (13:30 or
		// 14:30 UTC the day before).
		{"Australia/Sydney", 0, 30, false, "Codes late at night", -1, 1, 120, 18, 0},
	}
	for _, tt := range tests {
		t.Run(tt.zone, func(t *testing.T) {
			loc := mustZone(t, tt.zone)
			keep := func(d time.Time) bool {
				return !tt.weekendOnly || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
			}
			days := localDays(loc, "2025-02-16", "2025-06-15", tt.hh, tt.mm, keep)
			var evs []CodeEvent
			for _, d := range days {
				evs = append(evs, CodeEvent{At: d, Type: "PushEvent"}, CodeEvent{At: d.Add(5 * time.Minute), Type: "PushEvent"})
			}
			now := days[len(days)-1].Add(time.Hour)
			if tt.wantWeekend < 0 {
				weekend := 0
				for _, d := range days {
					if d.Weekday() == time.Saturday || d.Weekday() == time.Sunday {
						weekend++
					}
				}
				tt.wantWeekend = float64(weekend) / float64(len(days))
			}
			d := Coding(evs, nil, loc, now)
			rh := mustInsight(t, d.Insights, "coding.rhythm")
			if rh.Title != tt.wantTitle || !near(d.Features[FeatCodingWeekendShare], tt.wantWeekend) ||
				!near(d.Features[FeatCodingNightShare], tt.wantNight) {
				t.Errorf("%q weekend %v night %v; want %q %v %v", rh.Title, d.Features[FeatCodingWeekendShare],
					d.Features[FeatCodingNightShare], tt.wantTitle, tt.wantWeekend, tt.wantNight)
			}
			if got := int(d.Features[FeatCodingCurrentStreak]); got != tt.wantStreak {
				t.Errorf("current streak %d days, want %d", got, tt.wantStreak)
			}

			// Mail sent on weekdays at mailHH local: inside 08:00–19:00.
			var mails []Mail
			for _, day := range localDays(loc, "2025-02-16", "2025-06-15", tt.mailHH, 30, func(d time.Time) bool {
				return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
			}) {
				mails = append(mails, Mail{At: day, Labels: []string{"SENT"}})
			}
			c := Communication(mails, nil, loc, now)
			if got := c.Features[FeatMailAfterHours]; !near(got, tt.wantAfterHrs) {
				t.Errorf("after-hours share %v, want %v", got, tt.wantAfterHrs)
			}
			if u := Communication(mails, nil, time.UTC, now).Features[FeatMailAfterHours]; near(u, tt.wantAfterHrs) {
				t.Errorf("UTC gives the same after-hours share %v: the row does not test the zone", u)
			}
		})
	}
}

// Daily series (correlations) and weekly series (changes) count local days:
// a day stays one day across a DST change.
func TestDayNumbersAcrossDST(t *testing.T) {
	syd := mustZone(t, "Australia/Sydney")
	// 6 Apr 2025 has 25 hours in Sydney, 5 Oct 2025 has 23.
	for _, tt := range []struct{ a, b string }{{"2025-04-05T23:30", "2025-04-06T23:30"}, {"2025-10-04T23:30", "2025-10-05T23:30"}} {
		a, _ := time.ParseInLocation("2006-01-02T15:04", tt.a, syd)
		b, _ := time.ParseInLocation("2006-01-02T15:04", tt.b, syd)
		if dayNumber(b.In(syd))-dayNumber(a.In(syd)) != 1 {
			t.Errorf("%s → %s is not one day", tt.a, tt.b)
		}
	}
	// Monday 00:10 in Kolkata is Sunday in UTC: its week is the local one.
	kol := mustZone(t, "Asia/Kolkata")
	mon := time.Date(2025, 3, 3, 0, 10, 0, 0, kol)
	if wd := dayDate(weekMonday(weekNumber(dayNumber(mon.In(kol))))).Weekday(); wd != time.Monday {
		t.Errorf("week starts on %s", wd)
	}
	if weekNumber(dayNumber(mon.In(kol))) == weekNumber(dayNumber(mon.UTC())) {
		t.Error("Monday 00:10 IST and Sunday 18:40 UTC fell in the same week")
	}
}
