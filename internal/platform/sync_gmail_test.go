package platform_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestGmailFullSyncThenHistory(t *testing.T) {
	c := connect(t, platform.Gmail)
	api := platformtest.ServeGmailAPI(c.f, 120)
	s := stream(t, c.p, "messages")
	startHistory := api.HistoryID()

	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if first.pages != 3 || len(first.items) != 120 {
		t.Fatalf("full sync: %d messages in %d pages, want 120 in 3", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	if want := `{"history_id":"` + startHistory + `"}`; string(first.cursor) != want {
		t.Errorf("cursor after the full sync = %s, want %s", first.cursor, want)
	}

	added := api.Receive(3)
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	got := ids(second.items)
	if len(got) != 3 {
		t.Errorf("history run: %d messages, want the 3 new ones", len(got))
	}
	for _, m := range added {
		if !got[m.ID] {
			t.Errorf("new message %s missing", m.ID)
		}
	}
	if want := `{"history_id":"` + api.HistoryID() + `"}`; string(second.cursor) != want {
		t.Errorf("cursor after the history run = %s, want %s", second.cursor, want)
	}
	var usedHistory bool
	for _, u := range api.RequestURIs() {
		if strings.HasPrefix(u, "/gmail/v1/users/me/history?") && strings.Contains(u, "startHistoryId="+startHistory) {
			usedHistory = true
		}
	}
	if !usedHistory {
		t.Error("second run did not read history from the stored historyId")
	}
}

// Metadata only: every message is asked for with format=metadata and the
// From, To and Date headers, and no payload holds a body, snippet or subject.
// (The fake also fails the test on any other format.)
func TestGmailNeverAsksForBodies(t *testing.T) {
	c := connect(t, platform.Gmail)
	api := platformtest.ServeGmailAPI(c.f, 7)
	res := runStream(t, c, stream(t, c.p, "messages"), nil)
	if res.err != nil || len(res.items) != 7 {
		t.Fatalf("items %d, err %v", len(res.items), res.err)
	}
	gets := 0
	for _, r := range api.Requests() {
		if !strings.HasPrefix(r.URL.Path, "/gmail/v1/users/me/messages/") {
			continue
		}
		gets++
		q := r.URL.Query()
		if q.Get("format") != "metadata" || strings.Join(q["metadataHeaders"], ",") != "From,To,Date" {
			t.Errorf("message requested with %s", r.URL.RawQuery)
		}
	}
	if gets != 7 {
		t.Errorf("%d messages.get calls, want 7", gets)
	}
	for _, it := range res.items {
		p := strings.ToLower(string(it.Payload))
		for _, bad := range []string{"snippet", "secret", "preview", "subject", "body"} {
			if strings.Contains(p, bad) {
				t.Errorf("payload %s contains %q", it.Payload, bad)
			}
		}
		var pl struct {
			From, To, Date, InternalDate string
			LabelIDs                     []string `json:"label_ids"`
		}
		json.Unmarshal(it.Payload, &pl)
		if pl.From == "" || pl.To == "" || pl.Date == "" || len(pl.LabelIDs) == 0 {
			t.Errorf("payload %s lacks headers or labels", it.Payload)
		}
		if it.OccurredAt.Before(platformtest.GmailStart) {
			t.Errorf("OccurredAt %v is not internalDate", it.OccurredAt)
		}
	}
}

// An expired historyId (404) resets the cursor, says so, and the same run
// continues with a full sync.
func TestGmailExpiredHistoryResyncs(t *testing.T) {
	c := connect(t, platform.Gmail)
	api := platformtest.ServeGmailAPI(c.f, 10)
	s := stream(t, c.p, "messages")
	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	api.Receive(2)
	api.ExpireHistory()

	reset, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, first.cursor)
	if err != nil {
		t.Fatalf("404 on history should be a resync, not an error: %v", err)
	}
	if !reset.Reset || !reset.More || len(reset.Items) != 0 || string(reset.Cursor) != "{}" {
		t.Fatalf("reset page %+v (cursor %s), want Reset, More, no items, cursor {}", reset, reset.Cursor)
	}
	full := runStream(t, c, s, reset.Cursor)
	if full.err != nil {
		t.Fatal(full.err)
	}
	if len(full.items) != 12 {
		t.Errorf("full resync: %d messages, want all 12", len(full.items))
	}
	if want := `{"history_id":"` + api.HistoryID() + `"}`; string(full.cursor) != want {
		t.Errorf("cursor after resync %s, want %s", full.cursor, want)
	}
}

func TestGmail5xxMidFullSyncResumes(t *testing.T) {
	c := connect(t, platform.Gmail)
	platformtest.ServeGmailAPI(c.f, 120)
	s := stream(t, c.p, "messages")
	page1, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	if err != nil || !page1.More || len(page1.Items) != platform.GmailPageSize {
		t.Fatalf("page 1: %d items, More %v, err %v", len(page1.Items), page1.More, err)
	}
	c.f.FailNextAPI(1, platformtest.Fail503)
	if _, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, page1.Cursor); apiError(t, err).Kind != platform.APITransient {
		t.Fatalf("page 2 with a 503: %v", err)
	}
	rest := runStream(t, c, s, page1.Cursor)
	if rest.err != nil {
		t.Fatal(rest.err)
	}
	all := append(append([]platform.Item(nil), page1.Items...), rest.items...)
	noDuplicates(t, all)
	if len(all) != 120 {
		t.Errorf("%d messages over both runs, want 120", len(all))
	}
}
