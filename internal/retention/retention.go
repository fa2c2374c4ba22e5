// Package retention lets a person choose how long raw items are kept, per
// platform and for browser-extension events, and applies those choices:
// the maintenance job deletes older raw items in short batches. Insights
// derived from deleted items stay until the next analysis recomputes them.
package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// MaxDays is the longest retention a person can choose (100 years).
const MaxDays = 36500

// Observer is the source name of browser-extension events.
const Observer = store.RetentionObserver

// Validate checks a choice: source is "observer" or a platform, days nil
// (the service default) or 1…MaxDays.
//
// Errors: BAD_USER_INPUT.
func Validate(source string, days *int) error {
	if source != Observer {
		if _, err := platform.Parse(source); err != nil {
			return apperr.Invalid("platform", "unknown source %q: a platform or observer", source)
		}
	}
	if days != nil && (*days < 1 || *days > MaxDays) {
		return apperr.Invalid("days", "days must be between 1 and %d, or null for the default", MaxDays)
	}
	return nil
}

// Options configure a Service.
type Options struct {
	// ObserverDefault is how long browser events are kept without a choice
	// (TWINME_OBSERVER_RETENTION). Platform items are kept until deleted
	// without one.
	ObserverDefault time.Duration
	Clock           clockwork.Clock
	Logger          *slog.Logger
}

// Service stores and applies retention choices.
type Service struct {
	db   *store.DB
	opts Options
}

// New returns a Service.
func New(db *store.DB, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opts: opts}
}

// Setting is one source's retention: Days nil means the default,
// DefaultDays (nil: kept until deleted).
type Setting struct {
	Source      string
	Days        *int
	DefaultDays *int
}

// Settings returns userID's retention for every platform and the observer.
func (s *Service) Settings(ctx context.Context, userID string) ([]Setting, error) {
	chosen, err := s.db.Retentions(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []Setting
	for _, p := range platform.All {
		out = append(out, s.setting(string(p), chosen))
	}
	return append(out, s.setting(Observer, chosen)), nil
}

func (s *Service) setting(source string, chosen map[string]int) Setting {
	st := Setting{Source: source}
	if d, ok := chosen[source]; ok {
		st.Days = &d
	}
	if source == Observer && s.opts.ObserverDefault > 0 {
		d := int(s.opts.ObserverDefault / (24 * time.Hour))
		st.DefaultDays = &d
	}
	return st
}

// Set stores userID's retention of source (days nil: the default) and
// returns the setting.
//
// Errors: BAD_USER_INPUT for an unknown source or days out of range.
func (s *Service) Set(ctx context.Context, userID, source string, days *int) (Setting, error) {
	if source != Observer {
		id, err := platform.Parse(source)
		if err != nil {
			return Setting{}, err
		}
		source = string(id)
	}
	if err := Validate(source, days); err != nil {
		return Setting{}, err
	}
	if err := s.db.SetRetention(ctx, userID, source, days, s.opts.Clock.Now()); err != nil {
		return Setting{}, err
	}
	chosen := map[string]int{}
	if days != nil {
		chosen[source] = *days
	}
	return s.setting(source, chosen), nil
}

// rulesPage is how many choices one read of the sweep takes.
const rulesPage = 500

// Apply deletes every raw item older than its owner's choice (the
// maintenance job), in batches of short statements, and returns how many.
func (s *Service) Apply(ctx context.Context) (int64, error) {
	now := s.opts.Clock.Now()
	var total int64
	afterUser, afterSource := "", ""
	for {
		rules, err := s.db.RetentionRules(ctx, afterUser, afterSource, rulesPage)
		if err != nil {
			return total, err
		}
		for _, r := range rules {
			before := now.Add(-time.Duration(r.Days) * 24 * time.Hour)
			var n int64
			if r.Source == Observer {
				n, err = s.db.DeleteUserObserverEventsBefore(ctx, r.UserID, before)
			} else {
				n, err = s.db.DeleteOldPlatformData(ctx, r.UserID, r.Source, before)
			}
			total += n
			if err != nil {
				return total, err
			}
		}
		if len(rules) < rulesPage {
			return total, nil
		}
		last := rules[len(rules)-1]
		afterUser, afterSource = last.UserID, last.Source
	}
}
