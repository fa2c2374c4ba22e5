package platform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GmailPageSize bounds the messages one fetch reads (one messages.get
// each): the page size of messages.list and history.list.
const GmailPageSize = 50

// gmailMetadataHeaders are the only headers asked for and kept.
var gmailMetadataHeaders = []string{"From", "To", "Date"}

func gmailStreams() []Stream {
	return []Stream{{Name: "messages", DataType: DataGmailMessage, Fetch: gmailMessages}}
}

// gmailCursor: HistoryID is where history.list starts. During a full sync
// (Full) it is the mailbox's historyId from before the listing began, so
// nothing that arrives meanwhile is missed. PageToken is the next page of
// the listing in progress.
type gmailCursor struct {
	HistoryID string `json:"history_id,omitempty"`
	Full      bool   `json:"full,omitempty"`
	PageToken string `json:"page_token,omitempty"`
}

// gmailMessages syncs message metadata. The first run is a full sync:
// users/me/profile for the historyId, then users/me/messages pages. Later
// runs read users/me/history from the stored historyId; a 404 there means
// the id is too old ("your app should perform a full sync"), and the fetch
// says so with Page.Reset and a cursor that starts one. Each message is read
// with format=metadata and only From, To and Date.
func gmailMessages(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur gmailCursor
	ok := readCursor(raw, &cur)
	var (
		page Page
		ids  []string
		err  error
	)
	switch {
	case cur.HistoryID == "":
		// Start a full sync.
		var prof struct {
			HistoryID string `json:"historyId"`
		}
		if _, err := p.getInto(ctx, client, p.Endpoints.APIBaseURL+"/users/me/profile", token, nil, &prof); err != nil {
			return Page{}, err
		}
		if prof.HistoryID == "" {
			return Page{}, errors.New("Gmail profile has no historyId")
		}
		ids, page, err = gmailList(ctx, client, p, token, gmailCursor{HistoryID: prof.HistoryID, Full: true})
	case cur.Full:
		ids, page, err = gmailList(ctx, client, p, token, cur)
	default:
		ids, page, err = gmailHistory(ctx, client, p, token, cur)
		var apiErr *APIError
		if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
			return Page{Reset: true, More: true, Cursor: cursorOf(gmailCursor{})}, nil
		}
	}
	if err != nil {
		return Page{}, err
	}
	page.Reset = page.Reset || !ok
	for _, id := range ids {
		it, found, err := gmailMessage(ctx, client, p, token, id)
		if err != nil {
			return Page{}, err
		}
		if found {
			page.Items = append(page.Items, it)
		}
	}
	return page, nil
}

// gmailList reads GET users/me/messages?maxResults&pageToken →
// {"messages":[{"id":"18c2a…","threadId":"18c2a…"}],"nextPageToken":"0923…","resultSizeEstimate":201}
// (newest first; SPAM and TRASH left out; q is not allowed with
// gmail.metadata).
func gmailList(ctx context.Context, client *http.Client, p Provider, token string, cur gmailCursor) ([]string, Page, error) {
	var resp struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
		NextPageToken string `json:"nextPageToken"`
	}
	q := url.Values{"maxResults": {strconv.Itoa(GmailPageSize)}, "pageToken": {cur.PageToken}}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/users/me/messages", q), token, nil, &resp); err != nil {
		return nil, Page{}, err
	}
	ids := make([]string, 0, len(resp.Messages))
	for _, m := range resp.Messages {
		ids = append(ids, m.ID)
	}
	if resp.NextPageToken == "" {
		// Done: the next run reads the history from before the listing.
		return ids, Page{Cursor: cursorOf(gmailCursor{HistoryID: cur.HistoryID})}, nil
	}
	return ids, Page{More: true, Cursor: cursorOf(gmailCursor{HistoryID: cur.HistoryID, Full: true, PageToken: resp.NextPageToken})}, nil
}

// gmailHistory reads GET users/me/history?startHistoryId&historyTypes=messageAdded&maxResults&pageToken:
//
//	{"history":[{"id":"4409830","messages":[{"id":"…","threadId":"…"}],
//	  "messagesAdded":[{"message":{"id":"…","threadId":"…","labelIds":["UNREAD","INBOX"]}}]}],
//	 "nextPageToken":"…","historyId":"4409877"}
//
// "If you receive no nextPageToken in the response, there are no updates to
// retrieve and you can store the returned historyId for a future request."
func gmailHistory(ctx context.Context, client *http.Client, p Provider, token string, cur gmailCursor) ([]string, Page, error) {
	var resp struct {
		History []struct {
			MessagesAdded []struct {
				Message struct {
					ID       string   `json:"id"`
					LabelIDs []string `json:"labelIds"`
				} `json:"message"`
			} `json:"messagesAdded"`
		} `json:"history"`
		NextPageToken string `json:"nextPageToken"`
		HistoryID     string `json:"historyId"`
	}
	q := url.Values{"startHistoryId": {cur.HistoryID}, "historyTypes": {"messageAdded"},
		"maxResults": {strconv.Itoa(GmailPageSize)}, "pageToken": {cur.PageToken}}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/users/me/history", q), token, nil, &resp); err != nil {
		return nil, Page{}, err
	}
	seen := map[string]bool{}
	var ids []string
	for _, h := range resp.History {
		for _, a := range h.MessagesAdded {
			m := a.Message
			if m.ID == "" || seen[m.ID] || hasLabel(m.LabelIDs, "SPAM") || hasLabel(m.LabelIDs, "TRASH") {
				continue
			}
			seen[m.ID] = true
			ids = append(ids, m.ID)
		}
	}
	if resp.NextPageToken != "" {
		return ids, Page{More: true, Cursor: cursorOf(gmailCursor{HistoryID: cur.HistoryID, PageToken: resp.NextPageToken})}, nil
	}
	next := resp.HistoryID
	if next == "" {
		next = cur.HistoryID
	}
	return ids, Page{Cursor: cursorOf(gmailCursor{HistoryID: next})}, nil
}

func hasLabel(labels []string, l string) bool {
	for _, x := range labels {
		if x == l {
			return true
		}
	}
	return false
}

// gmailMessage reads GET users/me/messages/{id}?format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Date:
//
//	{"id":"18c2a…","threadId":"18c2a…","labelIds":["INBOX","UNREAD"],"snippet":"…","historyId":"4409823",
//	 "internalDate":"1709302812000","sizeEstimate":5120,
//	 "payload":{"partId":"","mimeType":"multipart/alternative","headers":[{"name":"From","value":"…"},…]}}
//
// The snippet is dropped: the payload keeps the listed headers, labels and
// internalDate only. A message deleted since it was listed (404) is skipped.
func gmailMessage(ctx context.Context, client *http.Client, p Provider, token, id string) (Item, bool, error) {
	q := url.Values{"format": {"metadata"}, "metadataHeaders": gmailMetadataHeaders}
	var m struct {
		ID           string   `json:"id"`
		ThreadID     string   `json:"threadId"`
		LabelIDs     []string `json:"labelIds"`
		InternalDate string   `json:"internalDate"`
		Payload      struct {
			Headers []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"headers"`
		} `json:"payload"`
	}
	_, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/users/me/messages/"+url.PathEscape(id), q), token, nil, &m)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound {
		return Item{}, false, nil
	}
	if err != nil {
		return Item{}, false, err
	}
	if m.ID == "" {
		m.ID = id
	}
	headers := map[string]string{}
	for _, h := range m.Payload.Headers {
		for _, want := range gmailMetadataHeaders {
			if strings.EqualFold(h.Name, want) {
				if _, dup := headers[want]; !dup {
					headers[want] = h.Value
				}
			}
		}
	}
	var at time.Time
	if ms, err := strconv.ParseInt(m.InternalDate, 10, 64); err == nil {
		at = time.UnixMilli(ms).UTC()
	}
	payload, err := payloadOf(GmailMessagePayload{SourceAPI, m.ID, m.ThreadID, nonNil(m.LabelIDs), m.InternalDate, headers["From"], headers["To"], headers["Date"]})
	if err != nil {
		return Item{}, false, err
	}
	return Item{DataType: DataGmailMessage, ExternalID: m.ID, OccurredAt: occurred(at, p), Payload: payload}, true, nil
}
