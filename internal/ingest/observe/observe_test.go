package observe

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
)

var now = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

func ev(id, typ string, at time.Time) RawEvent {
	return RawEvent{ClientEventID: id, Type: typ, OccurredAt: at.Format(time.RFC3339Nano)}
}

func TestValidateRejectsPerEvent(t *testing.T) {
	tests := []struct {
		name   string
		event  RawEvent
		reason string
	}{
		{"valid", ev("e1", TypeScroll, now.Add(-time.Minute)), ""},
		{"unknown type", ev("e1", "keylogger", now), ReasonUnknownType},
		{"type is case-sensitive", ev("e1", "Typing", now), ReasonUnknownType},
		{"missing client id", ev("", TypeFocus, now), ReasonMissingClientEventID},
		{"client id too long", ev(strings.Repeat("x", MaxClientEventIDLen+1), TypeFocus, now), ReasonClientEventIDTooLong},
		{"client id at the limit", ev(strings.Repeat("x", MaxClientEventIDLen), TypeFocus, now), ""},
		{"client id with a newline", ev("e1\nINFO forged log line", TypeFocus, now), ReasonBadClientEventID},
		{"client id with a space", ev("e 1", TypeFocus, now), ReasonBadClientEventID},
		{"missing timestamp", RawEvent{ClientEventID: "e1", Type: TypeFocus}, ReasonMissingTimestamp},
		{"bad timestamp", RawEvent{ClientEventID: "e1", Type: TypeFocus, OccurredAt: "1722513600000"}, ReasonBadTimestamp},
		{"timestamp without zone", RawEvent{ClientEventID: "e1", Type: TypeFocus, OccurredAt: "2026-08-01T12:00:00"}, ReasonBadTimestamp},
		{"5 minutes ahead is fine", ev("e1", TypeFocus, now.Add(MaxFutureSkew)), ""},
		{"more than 5 minutes ahead", ev("e1", TypeFocus, now.Add(MaxFutureSkew+time.Second)), ReasonInFuture},
		{"at the retention limit", ev("e1", TypeFocus, now.Add(-DefaultRetention)), ""},
		{"older than retention", ev("e1", TypeFocus, now.Add(-DefaultRetention-time.Second)), ReasonTooOld},
		{"data too large", RawEvent{ClientEventID: "e1", Type: TypeTyping, OccurredAt: now.Format(time.RFC3339),
			Data: json.RawMessage(`{"keys":1,"pad":"` + strings.Repeat("x", MaxDataBytes) + `"}`)}, ReasonDataTooLarge},
		{"data not an object", RawEvent{ClientEventID: "e1", Type: TypeTyping, OccurredAt: now.Format(time.RFC3339),
			Data: json.RawMessage(`["typed text"]`)}, ReasonBadData},
		{"data not JSON", RawEvent{ClientEventID: "e1", Type: TypeTyping, OccurredAt: now.Format(time.RFC3339),
			Data: json.RawMessage(`{keys:1}`)}, ReasonBadData},
		{"URL too long", RawEvent{ClientEventID: "e1", Type: TypeNavigation, OccurredAt: now.Format(time.RFC3339),
			URL: "https://example.com/" + strings.Repeat("a", MaxURLBytes)}, ReasonURLTooLong},
		{"unusable URL only loses the URL", RawEvent{ClientEventID: "e1", Type: TypeNavigation, OccurredAt: now.Format(time.RFC3339),
			URL: "chrome://settings"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, rejected, err := Validate([]RawEvent{tt.event}, now, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.reason == "" {
				if len(valid) != 1 || len(rejected) != 0 {
					t.Fatalf("valid %v, rejected %v; want the event accepted", valid, rejected)
				}
				return
			}
			if len(valid) != 0 || len(rejected) != 1 || rejected[0].Reason != tt.reason || rejected[0].Index != 0 {
				t.Fatalf("valid %v, rejected %+v; want rejected with %q", valid, rejected, tt.reason)
			}
		})
	}
}

func TestValidateKeepsValidEventsOfAMixedBatch(t *testing.T) {
	batch := []RawEvent{
		{ClientEventID: "a", Type: TypeTyping, OccurredAt: "2026-08-01T11:59:00.123456Z", URL: "https://docs.example.com/d/123/edit?tab=t.0",
			Data: json.RawMessage(`{"keys":42,"corrections":3,"duration_ms":9000,"text":"my secret diary"}`)},
		ev("b", "keylogger", now),
		ev("a", TypeScroll, now),
		{ClientEventID: "c", Type: TypeNavigation, OccurredAt: "2026-08-01T13:59:00+02:00", URL: "https://www.news.example/world/story?utm_source=x"},
	}
	valid, rejected, err := Validate(batch, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantRejected := []Rejection{{Index: 1, ClientEventID: "b", Reason: ReasonUnknownType}, {Index: 2, ClientEventID: "a", Reason: ReasonDuplicate}}
	if fmt.Sprint(rejected) != fmt.Sprint(wantRejected) {
		t.Errorf("rejected = %+v, want %+v", rejected, wantRejected)
	}
	if len(valid) != 2 {
		t.Fatalf("valid = %+v", valid)
	}
	typing, nav := valid[0], valid[1]
	if typing.Index != 0 || nav.Index != 3 {
		t.Errorf("indexes = %d, %d", typing.Index, nav.Index)
	}
	if !typing.OccurredAt.Equal(time.Date(2026, 8, 1, 11, 59, 0, 123e6, time.UTC)) || typing.OccurredAt.Location() != time.UTC {
		t.Errorf("typing OccurredAt = %v, want UTC at ms precision", typing.OccurredAt)
	}
	if !nav.OccurredAt.Equal(time.Date(2026, 8, 1, 11, 59, 0, 0, time.UTC)) {
		t.Errorf("offset timestamp not converted to UTC: %v", nav.OccurredAt)
	}
	if typing.Domain != "docs.example.com" || typing.URL != "" {
		t.Errorf("typing URL = %q, domain %q; want domain only", typing.URL, typing.Domain)
	}
	if nav.Domain != "news.example" {
		t.Errorf("nav domain = %q", nav.Domain)
	}
	if string(typing.Data) != `{"corrections":3,"duration_ms":9000,"keys":42}` {
		t.Errorf("typing data = %s; the typed text must be dropped", typing.Data)
	}
	if string(nav.Data) != `{}` {
		t.Errorf("nav data = %s", nav.Data)
	}
}

func TestValidateFullPathsOptIn(t *testing.T) {
	batch := []RawEvent{{ClientEventID: "a", Type: TypeNavigation, OccurredAt: now.Format(time.RFC3339),
		URL: "https://alice:pw@www.example.com/wiki/Go?action=edit#History"}}
	valid, _, err := Validate(batch, now, Options{FullPaths: true})
	if err != nil {
		t.Fatal(err)
	}
	if valid[0].URL != "https://www.example.com/wiki/Go" || valid[0].Domain != "example.com" {
		t.Errorf("URL = %q, domain %q", valid[0].URL, valid[0].Domain)
	}
}

func TestValidateCustomRetention(t *testing.T) {
	batch := []RawEvent{ev("a", TypeBlur, now.Add(-48*time.Hour)), ev("b", TypeBlur, now.Add(-12*time.Hour))}
	valid, rejected, err := Validate(batch, now, Options{Retention: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(valid) != 1 || valid[0].ClientEventID != "b" || len(rejected) != 1 || rejected[0].Reason != ReasonTooOld {
		t.Errorf("valid %+v, rejected %+v", valid, rejected)
	}
}

func TestValidateWholeBatchErrors(t *testing.T) {
	tooMany := make([]RawEvent, MaxBatchEvents+1)
	for i := range tooMany {
		tooMany[i] = ev(fmt.Sprint(i), TypeFocus, now)
	}
	tests := []struct {
		name  string
		batch []RawEvent
		want  string
	}{
		{"empty", nil, "empty"},
		{"too many", tooMany, "at most 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			valid, rejected, err := Validate(tt.batch, now, Options{})
			if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(apperr.MessageOf(err), tt.want) {
				t.Errorf("err = %v, want BAD_USER_INPUT mentioning %q", err, tt.want)
			}
			if valid != nil || rejected != nil {
				t.Errorf("a rejected batch must return no events")
			}
		})
	}
	if _, _, err := Validate(tooMany[:MaxBatchEvents], now, Options{}); err != nil {
		t.Errorf("exactly %d events must be accepted: %v", MaxBatchEvents, err)
	}
}

func TestEveryTypeIsAccepted(t *testing.T) {
	if len(Types) != 14 || len(schemas) != 14 {
		t.Fatalf("%d types, %d schemas; want 14", len(Types), len(schemas))
	}
	for _, typ := range Types {
		valid, rejected, err := Validate([]RawEvent{ev("x", typ, now)}, now, Options{})
		if err != nil || len(valid) != 1 || len(rejected) != 0 {
			t.Errorf("type %q: valid %v, rejected %v, err %v", typ, valid, rejected, err)
		}
	}
}

func TestRejectedIDIsClipped(t *testing.T) {
	long := strings.Repeat("x", 10_000)
	_, rejected, err := Validate([]RawEvent{ev(long, TypeFocus, now)}, now, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rejected[0].ClientEventID) != MaxClientEventIDLen {
		t.Errorf("echoed ID of %d bytes", len(rejected[0].ClientEventID))
	}
}

func TestUTCOffset(t *testing.T) {
	ip := func(n int) *int { return &n }
	tests := []struct {
		name string
		raw  RawEvent
		want *int
	}{
		{"explicit", RawEvent{OccurredAt: "2026-11-01T10:00:00Z", UTCOffsetMinutes: ip(-480)}, ip(-480)},
		{"half hour", RawEvent{OccurredAt: "2026-11-01T10:00:00Z", UTCOffsetMinutes: ip(330)}, ip(330)},
		{"from the timestamp", RawEvent{OccurredAt: "2026-11-01T21:00:00+11:00"}, ip(660)},
		{"Z says nothing", RawEvent{OccurredAt: "2026-11-01T10:00:00Z"}, nil},
		{"explicit wins", RawEvent{OccurredAt: "2026-11-01T21:00:00+11:00", UTCOffsetMinutes: ip(600)}, ip(600)},
		{"beyond +14:00", RawEvent{OccurredAt: "2026-11-01T10:00:00Z", UTCOffsetMinutes: ip(900)}, nil},
		{"not a quarter hour", RawEvent{OccurredAt: "2026-11-01T10:00:00Z", UTCOffsetMinutes: ip(7)}, nil},
		{"bad explicit does not fall back", RawEvent{OccurredAt: "2026-11-01T21:00:00+11:00", UTCOffsetMinutes: ip(-9999)}, nil},
	}
	for _, tt := range tests {
		got := utcOffset(tt.raw)
		if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
