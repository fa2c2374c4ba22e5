package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Item is one thing a platform reports, ready for the deduplicating upsert
// into user_platform_data, keyed on (user, platform, DataType, ExternalID).
// Payload holds only the fields analysis needs, as a JSON object whose bytes
// are the same for an unchanged item (so its content hash is too); it names
// its "source" ("api").
type Item struct {
	DataType   DataType
	ExternalID string
	// OccurredAt is when the item happened as far as the platform says
	// (played_at, starred_at, internalDate …); for things without a time of
	// their own (a guild, a profile, a dated snapshot) it is the fetch time.
	OccurredAt time.Time
	Payload    json.RawMessage
}

// Page is what one fetch returns. Cursor is the checkpoint to store with
// this page's items, in one transaction, and to pass to the next fetch
// (nil means "start from the beginning"). More means another page follows
// in this run: fetch again with Cursor right away. A run ends with a page
// whose More is false; its Cursor is where the next run starts.
type Page struct {
	Items  []Item
	Cursor json.RawMessage
	More   bool
	// NotModified: the platform said nothing changed (GitHub 304); there
	// are no items and Cursor is the one passed in. Not a failure.
	NotModified bool
	// PollAfter is the shortest wait before the next run that the platform
	// asked for (GitHub X-Poll-Interval); zero when it said nothing.
	PollAfter time.Duration
	// Reset: the stored cursor could not be used any more (Gmail's history
	// id expired, or the cursor did not parse) and Cursor starts a full
	// sync over. Items already stored stay; the full sync dedupes against
	// them.
	Reset bool
}

// Fetcher reads one page of a stream. client may be nil
// (http.DefaultClient). A failed fetch returns an error, never an empty
// page: HTTP failures carry an *APIError (errors.As) telling 401, 403, 404,
// 429 with RetryAfter, quota and 5xx apart; network errors come as they are.
type Fetcher func(ctx context.Context, client *http.Client, p Provider, accessToken string, cursor json.RawMessage) (Page, error)

// Stream is one incremental feed of a platform, with its own cursor.
type Stream struct {
	// Name is unique within the platform and names the stored cursor
	// (e.g. "recently_played").
	Name string
	// DataType is the Item.DataType of most of its items; a stream may emit
	// a second, related type (Slack's identity also emits the team).
	DataType DataType
	Fetch    Fetcher
}

// Streams lists p's streams in the order a poll should run them.
func (p Provider) Streams() []Stream {
	var ss []Stream
	switch p.ID {
	case Spotify:
		ss = spotifyStreams()
	case YouTube:
		ss = youTubeStreams()
	case GitHub:
		ss = gitHubStreams()
	case Discord:
		ss = discordStreams()
	case Gmail:
		ss = gmailStreams()
	case LinkedIn:
		ss = linkedInStreams()
	case Slack:
		ss = slackStreams()
	}
	for i := range ss {
		ss[i].Fetch = guardFetch(ss[i].Name, ss[i].Fetch)
	}
	return ss
}

// Stream returns p's stream called name.
func (p Provider) Stream(name string) (Stream, bool) {
	for _, s := range p.Streams() {
		if s.Name == name {
			return s, true
		}
	}
	return Stream{}, false
}

// guardFetch adds what every fetch needs: a default client and timeout, and
// an error that names the platform and stream (the *APIError stays
// reachable with errors.As).
func guardFetch(name string, f Fetcher) Fetcher {
	return func(ctx context.Context, client *http.Client, p Provider, token string, cursor json.RawMessage) (Page, error) {
		if client == nil {
			client = http.DefaultClient
		}
		ctx, cancel := withDefaultTimeout(ctx)
		defer cancel()
		page, err := f(ctx, client, p, token, cursor)
		if err != nil {
			return Page{}, fmt.Errorf("platform: %s %s: %w", p.ID, name, err)
		}
		return page, nil
	}
}

// apiResponse is a successful (2xx or 304) answer with its headers.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
}

// get performs an authenticated GET and returns the answer, or an
// *APIError for any failure the platform reports.
func (p Provider) get(ctx context.Context, client *http.Client, u, token string, header map[string]string) (apiResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return apiResponse{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		return apiResponse{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return apiResponse{}, fmt.Errorf("read %s response: %w", p.Name, err)
	}
	if apiErr := ClassifyAPIError(p.ID, resp.StatusCode, resp.Header, body); apiErr != nil {
		return apiResponse{}, apiErr
	}
	return apiResponse{status: resp.StatusCode, header: resp.Header, body: body}, nil
}

// getInto GETs u and decodes the JSON answer into out.
func (p Provider) getInto(ctx context.Context, client *http.Client, u, token string, header map[string]string, out any) (apiResponse, error) {
	r, err := p.get(ctx, client, u, token, header)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(r.body, out); err != nil {
		return r, fmt.Errorf("decode %s response: %w", p.Name, err)
	}
	return r, nil
}

// readCursor decodes a stored cursor into v. An empty cursor leaves v at
// its zero value; one that does not parse (written by an older version)
// also does, and reports false so the fetch can say it started over.
func readCursor(raw json.RawMessage, v any) bool {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return true
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false
	}
	return true
}

// cursorOf encodes a cursor; a zero cursor struct encodes as {}.
func cursorOf(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Cursor types are plain structs of strings and numbers.
		panic(fmt.Sprintf("platform: encode cursor: %v", err))
	}
	return b
}

// payloadOf encodes an item payload. encoding/json writes struct fields in
// declaration order and map keys sorted, so equal values give equal bytes.
func payloadOf(v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode payload: %w", err)
	}
	return b, nil
}

// withQuery returns base + path with the query parameters set (empty values
// are left out).
func withQuery(base, path string, q url.Values) string {
	for k, vs := range q {
		if len(vs) == 1 && vs[0] == "" {
			delete(q, k)
		}
	}
	if len(q) == 0 {
		return base + path
	}
	return base + path + "?" + q.Encode()
}

// secondsHeader reads a header holding whole seconds (X-Poll-Interval).
func secondsHeader(h http.Header, name string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get(name)))
	if err != nil || n <= 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

// hasScope reports whether p is configured to ask for scope.
func (p Provider) hasScope(scope string) bool {
	for _, s := range p.Scopes {
		if s == scope {
			return true
		}
	}
	return false
}
