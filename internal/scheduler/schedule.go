package scheduler

import (
	"fmt"
	"strings"
	"time"

	gocron "github.com/go-co-op/gocron/v2"
	"github.com/robfig/cron/v3"
)

// Schedule says when a job runs: "every <duration>" (aligned to multiples
// of the duration, so every instance agrees on the ticks: "every 5m" runs at
// :00, :05, :10 …) or a standard five-field cron expression in UTC
// ("0 * * * *", "@hourly"; a CRON_TZ= prefix picks another zone).
type Schedule struct {
	raw   string
	every time.Duration
	cron  cron.Schedule
}

// minEvery is the shortest interval "every" accepts.
const minEvery = time.Second

// ParseSchedule parses a schedule string.
func ParseSchedule(s string) (Schedule, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return Schedule{}, fmt.Errorf("scheduler: empty schedule")
	}
	lower := strings.ToLower(raw)
	for _, prefix := range []string{"every ", "@every "} {
		if rest, ok := strings.CutPrefix(lower, prefix); ok {
			d, err := time.ParseDuration(strings.TrimSpace(rest))
			if err != nil {
				return Schedule{}, fmt.Errorf("scheduler: schedule %q: %w", raw, err)
			}
			if d < minEvery {
				return Schedule{}, fmt.Errorf("scheduler: schedule %q: interval must be at least %s", raw, minEvery)
			}
			return Schedule{raw: raw, every: d}, nil
		}
	}
	spec := raw
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=UTC " + spec
	}
	cs, err := cron.ParseStandard(spec)
	if err != nil {
		return Schedule{}, fmt.Errorf("scheduler: schedule %q (want \"every 5m\" or a cron expression such as \"*/5 * * * *\"): %w", raw, err)
	}
	if cs.Next(time.Now()).IsZero() {
		return Schedule{}, fmt.Errorf("scheduler: schedule %q never fires", raw)
	}
	return Schedule{raw: raw, cron: cs}, nil
}

// String returns the schedule as written.
func (s Schedule) String() string { return s.raw }

// Next returns the first tick strictly after t.
func (s Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Truncate(s.every).Add(s.every)
	}
	return s.cron.Next(t)
}

// Interval estimates the time between two ticks after t.
func (s Schedule) Interval(t time.Time) time.Duration {
	if s.every > 0 {
		return s.every
	}
	n := s.cron.Next(t)
	return s.cron.Next(n).Sub(n)
}

// Tick returns the scheduled time a run that woke at now belongs to: the
// latest tick at or before now (allowing for a timer that fires a hair
// early when the wall clock was stepped back). Instances compute it from
// their own clocks, each of which fires at the tick by its own reckoning,
// so they agree on it even when their clocks disagree.
func (s Schedule) Tick(now time.Time) time.Time {
	now = now.UTC()
	if s.every > 0 {
		tol := min(s.every/10, 5*time.Second)
		return now.Add(tol).Truncate(s.every)
	}
	// The latest tick of the last hour; a run that woke later than that
	// (the machine slept) is keyed by its minute.
	const tol = 5 * time.Second
	limit := now.Add(tol)
	t := s.cron.Next(limit.Add(-time.Hour))
	if t.After(limit) {
		return now.Truncate(time.Minute)
	}
	for n := s.cron.Next(t); !n.After(limit); n = s.cron.Next(n) {
		t = n
	}
	return t.UTC()
}

// gocron.Cron lets gocron schedule from our parsed schedule, so that the
// ticks it fires are exactly the ticks Tick computes.
var _ gocron.Cron = Schedule{}

// IsValid implements gocron.Cron; the schedule was validated when parsed.
func (s Schedule) IsValid(string, *time.Location, time.Time) error { return nil }
