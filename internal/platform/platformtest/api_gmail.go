package platformtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GmailMessage is one message in the fake mailbox. Subject and Body exist
// so a test can show they never leave the fake.
type GmailMessage struct {
	ID, ThreadID      string
	From, To, Subject string
	Body              string
	Labels            []string
	At                time.Time
	historyID         int64
}

// GmailAPI serves the Gmail API endpoints the messages stream reads:
// users/me/profile, messages.list, messages.get and history.list. It fails
// the test when a message is asked for in any format but metadata.
type GmailAPI struct {
	recorder
	f         *Fake
	mu        sync.Mutex
	msgs      []GmailMessage // oldest first
	historyID int64          // the mailbox's current history id
	oldest    int64          // history ids before this one are expired
}

// GmailStart is when the seeded mail arrives, a message every ten minutes.
var GmailStart = time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC)

// ServeGmailAPI registers the endpoints on f with n messages.
func ServeGmailAPI(f *Fake, n int) *GmailAPI {
	a := &GmailAPI{f: f, historyID: 4409000, oldest: 4400000}
	a.Receive(n)
	// The identity handler answers /users/me/profile with a fixed
	// historyId; a pattern with the host takes precedence and answers with
	// this mailbox's.
	f.HandleAPI(http.MethodGet, overridePattern(f, "/gmail/v1/users/me/profile"), a.profile)
	f.HandleAPI(http.MethodGet, "/gmail/v1/users/me/messages", a.list)
	f.HandleAPI(http.MethodGet, "/gmail/v1/users/me/messages/{id}", a.get)
	f.HandleAPI(http.MethodGet, "/gmail/v1/users/me/history", a.history)
	return a
}

// Receive delivers n new messages and returns them.
func (a *GmailAPI) Receive(n int) []GmailMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []GmailMessage
	for range n {
		i := len(a.msgs)
		a.historyID += 7 // ids increase with gaps
		m := GmailMessage{
			ID: fmt.Sprintf("18c2a%011x", 0x5f00+i), ThreadID: fmt.Sprintf("18c2a%011x", 0x5f00+i-i%2),
			From: fmt.Sprintf("Sender %d <sender%d@example.org>", i%4, i%4), To: "Ada Lovelace <ada@example.com>",
			Subject: fmt.Sprintf("Secret subject %d", i), Body: fmt.Sprintf("secret body %d", i),
			Labels: []string{"INBOX", "UNREAD"}, At: GmailStart.Add(time.Duration(i) * 10 * time.Minute), historyID: a.historyID,
		}
		if i%5 == 4 {
			m.Labels = []string{"CATEGORY_PROMOTIONS", "INBOX"}
		}
		a.msgs = append(a.msgs, m)
		out = append(out, m)
	}
	return out
}

// ExpireHistory makes every history id up to now too old: history.list
// then answers 404 as after a week of not polling.
func (a *GmailAPI) ExpireHistory() {
	a.mu.Lock()
	a.oldest = a.historyID + 1
	a.mu.Unlock()
}

// HistoryID is the mailbox's current history id.
func (a *GmailAPI) HistoryID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strconv.FormatInt(a.historyID, 10)
}

func gmailError(w http.ResponseWriter, code int, status, reason, message string) {
	writeJSON(w, code, googleError(code, status, "global", reason, message))
}

// gmailToken pages with opaque tokens; ok false after a 400.
func gmailPage(w http.ResponseWriter, r *http.Request, n, def, max int) (from, to int, next string, ok bool) {
	q := r.URL.Query()
	size := def
	if v := q.Get("maxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 1 {
			gmailError(w, 400, "INVALID_ARGUMENT", "invalidArgument", "Invalid maxResults")
			return 0, 0, "", false
		}
		size = min(m, max)
	}
	if tok := q.Get("pageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		off, err2 := strconv.Atoi(string(raw))
		if err != nil || err2 != nil {
			gmailError(w, 400, "INVALID_ARGUMENT", "invalidArgument", "Invalid pageToken")
			return 0, 0, "", false
		}
		from = off
	}
	from = min(from, n)
	to = min(from+size, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(to)))
	}
	return from, to, next, true
}

// profile answers GET users/me/profile →
// {"emailAddress":"ada@example.com","messagesTotal":…,"threadsTotal":…,"historyId":"4409823"}.
func (a *GmailAPI) profile(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	a.mu.Lock()
	n, h := len(a.msgs), a.historyID
	a.mu.Unlock()
	writeJSON(w, 200, map[string]any{"emailAddress": a.f.Identity().Email, "messagesTotal": n, "threadsTotal": (n + 1) / 2, "historyId": strconv.FormatInt(h, 10)})
}

// list answers GET users/me/messages?maxResults(default 100, max 500)&pageToken:
//
//	{"messages":[{"id":"18c2a…","threadId":"18c2a…"}],"nextPageToken":"…","resultSizeEstimate":201}
//
// newest first. With gmail.metadata, q is refused:
// 403 "Metadata scope does not support 'q' parameter".
func (a *GmailAPI) list(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	if r.URL.Query().Has("q") {
		gmailError(w, 403, "PERMISSION_DENIED", "forbidden", "Metadata scope does not support 'q' parameter")
		return
	}
	a.mu.Lock()
	msgs := append([]GmailMessage(nil), a.msgs...)
	a.mu.Unlock()
	sort.SliceStable(msgs, func(i, j int) bool { return msgs[i].At.After(msgs[j].At) })
	from, to, next, ok := gmailPage(w, r, len(msgs), 100, 500)
	if !ok {
		return
	}
	list := []any{}
	for _, m := range msgs[from:to] {
		list = append(list, map[string]string{"id": m.ID, "threadId": m.ThreadID})
	}
	body := map[string]any{"messages": list, "resultSizeEstimate": len(msgs)}
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(w, 200, body)
}

// get answers GET users/me/messages/{id}?format=metadata&metadataHeaders=…:
//
//	{"id":"…","threadId":"…","labelIds":["INBOX","UNREAD"],"snippet":"…","historyId":"…",
//	 "internalDate":"1709302812000","sizeEstimate":5120,
//	 "payload":{"partId":"","mimeType":"multipart/alternative","filename":"",
//	 "headers":[{"name":"From","value":"…"},{"name":"To","value":"…"},{"name":"Date","value":"…"}]}}
//
// Only the listed headers come back (all of them without metadataHeaders).
// Any format but metadata fails the test: twinme never asks for bodies
// (with the gmail.metadata scope Google refuses them with a 403 too).
func (a *GmailAPI) get(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	q := r.URL.Query()
	if f := q.Get("format"); f != "metadata" {
		a.f.t.Errorf("platformtest: Gmail message requested with format=%q; only metadata is allowed", f)
		gmailError(w, 403, "PERMISSION_DENIED", "forbidden", "Metadata scope doesn't allow format "+strings.ToUpper(f))
		return
	}
	a.mu.Lock()
	var m *GmailMessage
	for i := range a.msgs {
		if a.msgs[i].ID == r.PathValue("id") {
			c := a.msgs[i]
			m = &c
		}
	}
	a.mu.Unlock()
	if m == nil {
		gmailError(w, 404, "NOT_FOUND", "notFound", "Requested entity was not found.")
		return
	}
	all := []map[string]string{
		{"name": "Delivered-To", "value": "ada@example.com"},
		{"name": "From", "value": m.From},
		{"name": "To", "value": m.To},
		{"name": "Subject", "value": m.Subject},
		{"name": "Date", "value": m.At.Format(time.RFC1123Z)},
	}
	headers := []any{}
	want := q["metadataHeaders"]
	for _, h := range all {
		keep := len(want) == 0
		for _, name := range want {
			keep = keep || strings.EqualFold(name, h["name"])
		}
		if keep {
			headers = append(headers, h)
		}
	}
	writeJSON(w, 200, map[string]any{
		"id": m.ID, "threadId": m.ThreadID, "labelIds": m.Labels, "snippet": "Preview: " + m.Body,
		"historyId": strconv.FormatInt(m.historyID, 10), "internalDate": strconv.FormatInt(m.At.UnixMilli(), 10),
		"sizeEstimate": 5120 + len(m.Body),
		"payload":      map[string]any{"partId": "", "mimeType": "multipart/alternative", "filename": "", "headers": headers},
	})
}

// history answers GET users/me/history?startHistoryId&historyTypes&maxResults(default 100, max 500)&pageToken:
//
//	{"history":[{"id":"4409830","messages":[{"id":"…","threadId":"…"}],
//	  "messagesAdded":[{"message":{"id":"…","threadId":"…","labelIds":["UNREAD","INBOX"]}}]}],
//	 "nextPageToken":"…","historyId":"4409877"}
//
// in increasing history id. A startHistoryId too old (or missing) gets
// 404 {"error":{"code":404,"message":"Requested entity was not found.",
// "errors":[{"message":"Requested entity was not found.","domain":"global","reason":"notFound"}],"status":"NOT_FOUND"}}.
func (a *GmailAPI) history(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	start, err := strconv.ParseInt(r.URL.Query().Get("startHistoryId"), 10, 64)
	a.mu.Lock()
	msgs := append([]GmailMessage(nil), a.msgs...)
	current, oldest := a.historyID, a.oldest
	a.mu.Unlock()
	if err != nil || start < oldest {
		gmailError(w, 404, "NOT_FOUND", "notFound", "Requested entity was not found.")
		return
	}
	var added []GmailMessage
	for _, m := range msgs {
		if m.historyID > start {
			added = append(added, m)
		}
	}
	from, to, next, ok := gmailPage(w, r, len(added), 100, 500)
	if !ok {
		return
	}
	hist := []any{}
	for _, m := range added[from:to] {
		ref := map[string]any{"id": m.ID, "threadId": m.ThreadID}
		hist = append(hist, map[string]any{
			"id": strconv.FormatInt(m.historyID, 10), "messages": []any{ref},
			"messagesAdded": []any{map[string]any{"message": map[string]any{"id": m.ID, "threadId": m.ThreadID, "labelIds": m.Labels}}},
		})
	}
	body := map[string]any{"history": hist, "historyId": strconv.FormatInt(current, 10)}
	if len(hist) == 0 {
		delete(body, "history") // an empty history is left out
	}
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(w, 200, body)
}
