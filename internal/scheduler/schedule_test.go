package scheduler

import (
	"strings"
	"testing"
	"time"
)

func at(hms string) time.Time {
	t, err := time.Parse("15:04:05.999", hms)
	if err != nil {
		panic(err)
	}
	return time.Date(2026, 11, 29, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func TestScheduleNextAndTick(t *testing.T) {
	tests := []struct {
		schedule string
		now      string
		next     string
		tick     string
	}{
		// "every" ticks are aligned, whenever the instance started.
		{"every 5m", "12:01:30", "12:05:00", "12:00:00"},
		{"every 5m", "12:05:00.003", "12:10:00", "12:05:00"},
		// A timer that fires a hair early (wall clock stepped back) still
		// belongs to the coming tick.
		{"every 5m", "12:04:59.5", "12:05:00", "12:05:00"},
		{"every 5m", "12:07:00", "12:10:00", "12:05:00"},
		{"@every 30m", "12:29:00", "12:30:00", "12:00:00"},
		{"every 1h", "12:59:00", "13:00:00", "12:00:00"},
		{"every 1h", "12:59:58", "13:00:00", "13:00:00"},
		{"*/15 * * * *", "12:01:00", "12:15:00", "12:00:00"},
		{"*/15 * * * *", "12:44:00", "12:45:00", "12:30:00"},
		{"* * * * *", "12:44:30", "12:45:00", "12:44:00"},
		{"*/15 * * * *", "12:15:00.2", "12:30:00", "12:15:00"},
		{"*/15 * * * *", "12:14:58", "12:15:00", "12:15:00"},
		{"@hourly", "12:00:00.1", "13:00:00", "12:00:00"},
		{"30 3 * * *", "12:00:00", "03:30:00", "12:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.schedule+"@"+tt.now, func(t *testing.T) {
			s, err := ParseSchedule(tt.schedule)
			if err != nil {
				t.Fatal(err)
			}
			now := at(tt.now)
			want := at(tt.next)
			if !want.After(now) {
				want = want.Add(24 * time.Hour)
			}
			if got := s.Next(now); !got.Equal(want) {
				t.Errorf("Next(%s) = %s, want %s", tt.now, got.Format(time.TimeOnly), want.Format(time.TimeOnly))
			}
			if got := s.Tick(now); !got.Equal(at(tt.tick)) {
				t.Errorf("Tick(%s) = %s, want %s", tt.now, got.Format(time.TimeOnly), tt.tick)
			}
		})
	}
}

func TestParseScheduleRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "   ", "every", "every banana", "every 0s", "every 500ms", "every -5m",
		"61 * * * *", "* * *", "sometimes", "0 0 30 2 *"} {
		_, err := ParseSchedule(in)
		if err == nil {
			t.Errorf("ParseSchedule(%q) accepted", in)
			continue
		}
		if !strings.HasPrefix(err.Error(), "scheduler: ") {
			t.Errorf("ParseSchedule(%q): %v", in, err)
		}
	}
}

func TestRegisterNamesTheJobOfABadSchedule(t *testing.T) {
	s := New(nil, nil, nil, Options{})
	err := s.Register(Job{Name: "platform-polling", Schedule: "every thirty minutes", Run: noop})
	if err == nil || !strings.Contains(err.Error(), `"platform-polling"`) || !strings.Contains(err.Error(), "every thirty minutes") {
		t.Fatalf("error %v", err)
	}
}
