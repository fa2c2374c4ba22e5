// Package observe validates and normalises the behaviour events the browser
// extension posts in batches (typing rhythm, mouse, scroll, focus,
// navigation, media). It is pure: the HTTP/GraphQL layer authenticates the
// extension's scoped token, enforces MaxBatchBytes on the body, decodes the
// batch into RawEvents, calls Validate, stores the valid events for the
// token's user and answers with the rejections.
//
// Privacy rules applied here: URLs are cut to their domain unless the user
// opted in to full paths, and even then query strings, fragments and
// credentials never survive (ReduceURL); each event type keeps only a
// whitelist of numeric or enumerated fields, so typed text, selectors,
// titles or anything else the extension might send are dropped (Data).
package observe

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/apperr"
)

// Batch and field limits.
const (
	// MaxBatchEvents is the most events one batch may hold.
	MaxBatchEvents = 500
	// MaxBatchBytes is the most bytes a batch body may have; the HTTP layer
	// enforces it before decoding (http.MaxBytesReader), so it is exported
	// rather than checked here.
	MaxBatchBytes = 1 << 20
	// MaxClientEventIDLen bounds the extension's idempotency key.
	MaxClientEventIDLen = 128
	// MaxDataBytes bounds one event's raw data object.
	MaxDataBytes = 4 << 10
	// MaxURLBytes bounds one event's raw URL; longer ones are rejected
	// rather than reduced, as no page the user visited needs more.
	MaxURLBytes = 8 << 10
	// MaxFutureSkew is how far ahead of the server clock an event may be
	// stamped (the user's clock may run a little fast).
	MaxFutureSkew = 5 * time.Minute
	// DefaultRetention is how old an event may be when it arrives: older
	// ones would be deleted by the next retention sweep anyway. The
	// extension buffers while offline, so it is generous.
	DefaultRetention = 30 * 24 * time.Hour
)

// Event types, exactly as the extension sends them.
const (
	TypeTyping      = "typing"
	TypeMouseMove   = "mouse_move"
	TypeMouseClick  = "mouse_click"
	TypeScroll      = "scroll"
	TypeFocus       = "focus"
	TypeBlur        = "blur"
	TypeNavigation  = "navigation"
	TypeFormSubmit  = "form_submit"
	TypeFormAbandon = "form_abandon"
	TypeMediaPlay   = "media_play"
	TypeMediaPause  = "media_pause"
	TypeTabSwitch   = "tab_switch"
	TypeWindowFocus = "window_focus"
	TypeWindowBlur  = "window_blur"
)

// Types lists every accepted event type.
var Types = []string{
	TypeTyping, TypeMouseMove, TypeMouseClick, TypeScroll, TypeFocus, TypeBlur,
	TypeNavigation, TypeFormSubmit, TypeFormAbandon, TypeMediaPlay, TypeMediaPause,
	TypeTabSwitch, TypeWindowFocus, TypeWindowBlur,
}

// Rejection reasons: stable codes the extension can act on (drop the event,
// fix its clock …).
const (
	ReasonMissingClientEventID = "missing_client_event_id"
	ReasonClientEventIDTooLong = "client_event_id_too_long"
	ReasonBadClientEventID     = "bad_client_event_id"
	ReasonDuplicate            = "duplicate_client_event_id"
	ReasonUnknownType          = "unknown_type"
	ReasonMissingTimestamp     = "missing_timestamp"
	ReasonBadTimestamp         = "bad_timestamp"
	ReasonInFuture             = "timestamp_in_future"
	ReasonTooOld               = "timestamp_too_old"
	ReasonURLTooLong           = "url_too_long"
	ReasonDataTooLarge         = "data_too_large"
	ReasonBadData              = "bad_data"
)

// RawEvent is one event as the extension sends it.
type RawEvent struct {
	// ClientEventID is the extension's idempotency key: a retried batch
	// carries the same IDs, and storage dedupes on (user, ClientEventID).
	ClientEventID string `json:"clientEventId"`
	Type          string `json:"type"`
	// OccurredAt is an RFC 3339 timestamp (JavaScript's toISOString()).
	// It is a string so that one bad timestamp rejects one event, not the
	// whole batch at decoding.
	OccurredAt string `json:"occurredAt"`
	// URL is the page the event happened on, if any.
	URL  string          `json:"url,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
	// UTCOffsetMinutes is the browser's offset from UTC when the event
	// happened (JavaScript's -getTimezoneOffset()), if sent. An offset out
	// of range is ignored, never a reason to reject the event.
	UTCOffsetMinutes *int `json:"utcOffsetMinutes,omitempty"`
}

// Event is a validated, reduced event, ready to store.
type Event struct {
	ClientEventID string
	Type          string
	OccurredAt    time.Time // UTC, millisecond precision
	// URL is scheme, host and path when the user opted in to full paths,
	// else "". Never a query string, fragment or credentials.
	URL string
	// Domain is the page's host ("" when the event has no http(s) URL).
	Domain string
	// Data holds the whitelisted fields of the event's type; "{}" when none.
	Data json.RawMessage
	// UTCOffsetMinutes is the browser's UTC offset: the event's
	// utcOffsetMinutes, else the offset written in occurredAt when that is
	// not "Z"; nil when neither gives a valid one (−12:00 to +14:00 in
	// quarter hours).
	UTCOffsetMinutes *int
	// Index is the event's position in the batch.
	Index int
}

// Rejection says why the event at Index of the batch was not accepted.
type Rejection struct {
	Index         int
	ClientEventID string
	Reason        string
}

// Options are per-user and per-deployment settings.
type Options struct {
	// FullPaths is the user's opt-in to keeping URL paths, not just domains.
	FullPaths bool
	// Retention overrides DefaultRetention when positive.
	Retention time.Duration
}

// Validate checks a batch against now. Events that pass are returned reduced
// and normalised, in batch order; each other event gets a Rejection. The
// error is BAD_USER_INPUT when the batch as a whole is unacceptable (empty,
// more than MaxBatchEvents); then nothing is returned.
func Validate(events []RawEvent, now time.Time, opts Options) (valid []Event, rejected []Rejection, err error) {
	if len(events) == 0 {
		return nil, nil, fmt.Errorf("observe: %w", apperr.Invalid("events", "the batch is empty"))
	}
	if len(events) > MaxBatchEvents {
		return nil, nil, fmt.Errorf("observe: %w", apperr.Invalid("events",
			"a batch holds at most %d events, this one has %d", MaxBatchEvents, len(events)))
	}
	retention := opts.Retention
	if retention <= 0 {
		retention = DefaultRetention
	}
	now = now.UTC()
	oldest, newest := now.Add(-retention), now.Add(MaxFutureSkew)

	seen := make(map[string]struct{}, len(events))
	valid = make([]Event, 0, len(events))
	for i, raw := range events {
		ev, reason := validateOne(raw, oldest, newest, opts.FullPaths)
		// A repeated ID is a duplicate whatever became of its first
		// occurrence: storage would otherwise see one key twice.
		if reason != ReasonMissingClientEventID && reason != ReasonClientEventIDTooLong && reason != ReasonBadClientEventID {
			if _, dup := seen[raw.ClientEventID]; dup {
				reason = ReasonDuplicate
			}
			seen[raw.ClientEventID] = struct{}{}
		}
		if reason != "" {
			rejected = append(rejected, Rejection{Index: i, ClientEventID: clip(raw.ClientEventID, MaxClientEventIDLen), Reason: reason})
			continue
		}
		ev.Index = i
		valid = append(valid, ev)
	}
	return valid, rejected, nil
}

func validateOne(raw RawEvent, oldest, newest time.Time, fullPaths bool) (Event, string) {
	if reason := checkClientEventID(raw.ClientEventID); reason != "" {
		return Event{}, reason
	}
	schema, ok := schemas[raw.Type]
	if !ok {
		return Event{}, ReasonUnknownType
	}
	at, reason := parseTime(raw.OccurredAt, oldest, newest)
	if reason != "" {
		return Event{}, reason
	}
	if len(raw.URL) > MaxURLBytes {
		return Event{}, ReasonURLTooLong
	}
	if len(raw.Data) > MaxDataBytes {
		return Event{}, ReasonDataTooLarge
	}
	data, ok := schema.reduce(raw.Data)
	if !ok {
		return Event{}, ReasonBadData
	}
	// A URL that cannot be reduced (chrome://, file://, garbage) costs the
	// event its URL, not the event: the behaviour itself is still valid.
	domain, kept := ReduceURL(raw.URL, fullPaths)
	return Event{
		ClientEventID:    raw.ClientEventID,
		Type:             raw.Type,
		OccurredAt:       at,
		URL:              kept,
		Domain:           domain,
		Data:             data,
		UTCOffsetMinutes: utcOffset(raw),
	}, ""
}

// utcOffset is the event's offset from UTC in minutes, if it gives a valid
// one.
func utcOffset(raw RawEvent) *int {
	valid := func(m int) bool { return m >= -12*60 && m <= 14*60 && m%15 == 0 }
	if raw.UTCOffsetMinutes != nil {
		if m := *raw.UTCOffsetMinutes; valid(m) {
			return &m
		}
		return nil
	}
	s := strings.TrimSpace(raw.OccurredAt)
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return nil
	}
	_, off := t.Zone()
	if m := off / 60; off%60 == 0 && valid(m) {
		return &m
	}
	return nil
}

// checkClientEventID accepts 1..MaxClientEventIDLen visible ASCII
// characters (UUIDs, ULIDs, counters), nothing that could smuggle control
// characters into logs.
func checkClientEventID(id string) string {
	switch {
	case id == "":
		return ReasonMissingClientEventID
	case len(id) > MaxClientEventIDLen:
		return ReasonClientEventIDTooLong
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return ReasonBadClientEventID
		}
	}
	return ""
}

func parseTime(s string, oldest, newest time.Time) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, ReasonMissingTimestamp
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, ReasonBadTimestamp
	}
	t = t.UTC().Truncate(time.Millisecond)
	switch {
	case t.After(newest):
		return time.Time{}, ReasonInFuture
	case t.Before(oldest):
		return time.Time{}, ReasonTooOld
	}
	return t, ""
}

// clip keeps a rejected event's ID echoable without echoing a megabyte.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
