package ingest

import (
	"context"
	"fmt"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/store"
)

// SourceObserver is the source the analysis hook is told of for the
// extension's batches.
const SourceObserver = "observer"

// ErrObservationOff is the FORBIDDEN error for events of a user who has not
// turned observation on.
var ErrObservationOff = apperr.New(apperr.Forbidden, "observation is off; turn on observation first in twinme's settings")

// RecordEvents stores a batch of the browser extension's events for userID,
// who must come from the extension's token, never from the batch. Invalid
// events are rejected one by one (observe.Validate) and the valid ones
// kept; URLs are cut to their domain unless the user opted in to full
// paths. It is idempotent on the client event id: a retried batch adds
// nothing and its events count as accepted again.
//
// Errors: FORBIDDEN (ErrObservationOff) until the user turns observation
// on; BAD_USER_INPUT for an empty or oversized batch.
func (s *Service) RecordEvents(ctx context.Context, userID string, raw []observe.RawEvent) (accepted int, rejected []observe.Rejection, err error) {
	settings, err := s.db.ObserverSettings(ctx, userID)
	if err != nil {
		return 0, nil, err
	}
	if !settings.Enabled {
		return 0, nil, ErrObservationOff
	}
	now := s.clock.Now()
	valid, rejected, err := observe.Validate(raw, now, observe.Options{FullPaths: settings.FullPaths, Retention: s.opts.ObserverRetention})
	if err != nil {
		return 0, nil, err
	}
	evs := make([]store.NewObserverEvent, len(valid))
	for i, v := range valid {
		evs[i] = store.NewObserverEvent{
			ClientEventID: v.ClientEventID, Type: v.Type, OccurredAt: v.OccurredAt,
			Domain: v.Domain, URL: v.URL, Data: v.Data,
		}
	}
	stored, err := s.db.InsertObserverEvents(ctx, userID, evs, now)
	if err != nil {
		return 0, nil, fmt.Errorf("ingest: record events: %w", err)
	}
	s.count(ctx, store.CounterObserver, "", int64(stored))
	if stored > 0 {
		s.dataChanged(ctx, userID, SourceObserver)
	}
	// The first valid UTC offset the extension reports is the person's
	// time zone until they choose one.
	for _, v := range valid {
		if v.UTCOffsetMinutes != nil {
			if _, err := s.db.SetDefaultUTCOffset(ctx, userID, *v.UTCOffsetMinutes, now); err != nil {
				return 0, nil, fmt.Errorf("ingest: record events: %w", err)
			}
			break
		}
	}
	return len(valid), rejected, nil
}

// ObserverSettings returns userID's observation settings (off by default).
func (s *Service) ObserverSettings(ctx context.Context, userID string) (domain.ObserverSettings, error) {
	st, err := s.db.ObserverSettings(ctx, userID)
	return st.Domain(), err
}

// SetObserverSettings turns observation on or off for userID and sets the
// full-paths opt-in; it returns the stored settings.
func (s *Service) SetObserverSettings(ctx context.Context, userID string, enabled, fullPaths bool) (domain.ObserverSettings, error) {
	st := store.ObserverSettings{UserID: userID, Enabled: enabled, FullPaths: fullPaths, UpdatedAt: s.clock.Now()}
	if err := s.db.SetObserverSettings(ctx, st); err != nil {
		return domain.ObserverSettings{}, err
	}
	return st.Domain(), nil
}

// SetObservation is SetObserverSettings keeping the full-paths opt-in as it
// is when fullPaths is nil (the setObservation mutation).
func (s *Service) SetObservation(ctx context.Context, userID string, enabled bool, fullPaths *bool) (domain.ObserverSettings, error) {
	if fullPaths == nil {
		cur, err := s.db.ObserverSettings(ctx, userID)
		if err != nil {
			return domain.ObserverSettings{}, err
		}
		fullPaths = &cur.FullPaths
	}
	return s.SetObserverSettings(ctx, userID, enabled, *fullPaths)
}

// ApplyObserverRetention deletes events older than the retention (the
// maintenance job) and returns how many.
func (s *Service) ApplyObserverRetention(ctx context.Context) (int64, error) {
	retention := s.opts.ObserverRetention
	if retention <= 0 {
		retention = observe.DefaultRetention
	}
	return s.db.DeleteObserverEventsBefore(ctx, s.clock.Now().Add(-retention))
}
