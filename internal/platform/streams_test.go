package platform_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func stream(t *testing.T, p platform.Provider, name string) platform.Stream {
	t.Helper()
	s, ok := p.Stream(name)
	if !ok {
		t.Fatalf("%s has no stream %q", p.ID, name)
	}
	return s
}

// runResult is what one run of a stream produced, as the engine would have
// stored it: the items of every page that succeeded and the cursor stored
// with the last of them.
type runResult struct {
	items  []platform.Item
	cursor json.RawMessage
	pages  int
	last   platform.Page
	err    error
}

// runStream fetches pages until one says More is false or a fetch fails,
// storing each page's cursor as the engine does.
func runStream(t *testing.T, c conn, s platform.Stream, cursor json.RawMessage) runResult {
	t.Helper()
	res := runResult{cursor: cursor}
	for i := 0; ; i++ {
		if i > 50 {
			t.Fatalf("%s: more than 50 pages in one run", s.Name)
		}
		page, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, res.cursor)
		if err != nil {
			if page.Items != nil || page.Cursor != nil || page.More {
				t.Errorf("%s: failed fetch also returned a page %+v", s.Name, page)
			}
			res.err = err
			return res
		}
		res.pages++
		res.last = page
		res.items = append(res.items, page.Items...)
		res.cursor = page.Cursor
		if !page.More {
			return res
		}
	}
}

func noDuplicates(t *testing.T, items []platform.Item) {
	t.Helper()
	seen := map[string]bool{}
	for _, it := range items {
		k := string(it.DataType) + "/" + it.ExternalID
		if seen[k] {
			t.Errorf("item %s returned twice in one run", k)
		}
		seen[k] = true
		if it.ExternalID == "" || it.DataType == "" {
			t.Errorf("item without key: %+v", it)
		}
		if !json.Valid(it.Payload) || len(it.Payload) == 0 || it.Payload[0] != '{' {
			t.Errorf("item %s payload is not a JSON object: %s", k, it.Payload)
		}
		if it.OccurredAt.IsZero() {
			t.Errorf("item %s has no OccurredAt", k)
		}
		var src struct {
			Source string `json:"source"`
		}
		if json.Unmarshal(it.Payload, &src); src.Source != "api" {
			t.Errorf("item %s payload has source %q, want api", k, src.Source)
		}
	}
}

func ids(items []platform.Item) map[string]bool {
	out := map[string]bool{}
	for _, it := range items {
		out[it.ExternalID] = true
	}
	return out
}

func apiError(t *testing.T, err error) *platform.APIError {
	t.Helper()
	var ae *platform.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) carries no *APIError", err, err)
	}
	return ae
}

// serveAPI registers every platform's API fake with a little data.
var serveAPI = map[platform.ID]func(f *platformtest.Fake){
	platform.Spotify:  func(f *platformtest.Fake) { platformtest.ServeSpotifyAPI(f, 3) },
	platform.YouTube:  func(f *platformtest.Fake) { platformtest.ServeYouTubeAPI(f, 3, 3) },
	platform.GitHub:   func(f *platformtest.Fake) { platformtest.ServeGitHubAPI(f, 3, 3, 3) },
	platform.Discord:  func(f *platformtest.Fake) { platformtest.ServeDiscordAPI(f, 3) },
	platform.Gmail:    func(f *platformtest.Fake) { platformtest.ServeGmailAPI(f, 3) },
	platform.LinkedIn: func(*platformtest.Fake) {},
	platform.Slack:    func(*platformtest.Fake) {},
}

func TestEveryPlatformHasStreams(t *testing.T) {
	for id, p := range platform.Providers() {
		ss := p.Streams()
		if len(ss) == 0 {
			t.Errorf("%s has no streams", id)
		}
		names := map[string]bool{}
		for _, s := range ss {
			if s.Name == "" || s.DataType == "" || s.Fetch == nil || names[s.Name] {
				t.Errorf("%s stream %+v: empty field or duplicate name", id, s)
			}
			names[s.Name] = true
		}
	}
}

// A failed fetch is an error carrying the classified *APIError, never an
// empty page that an engine could take for "no new data".
func TestFailedFetchIsAnError(t *testing.T) {
	for _, tc := range []struct {
		mode       platformtest.FailMode
		kind       platform.APIErrorKind
		retryAfter map[platform.ID]time.Duration // default 7 s
	}{
		{mode: platformtest.Fail503, kind: platform.APITransient},
		{mode: platformtest.Fail429, kind: platform.APIRateLimited,
			// Discord's body says retry_after 6.457 (more precise than the header).
			retryAfter: map[platform.ID]time.Duration{platform.Discord: 6457 * time.Millisecond}},
		{mode: platformtest.FailInvalidGrant, kind: platform.APIAuth},
	} {
		for _, id := range platform.All {
			t.Run(tc.mode.String()+"/"+string(id), func(t *testing.T) {
				t.Parallel()
				c := connect(t, id)
				serveAPI[id](c.f)
				for _, s := range c.p.Streams() {
					c.f.FailNextAPI(1, tc.mode)
					page, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
					if err == nil {
						t.Fatalf("%s: fetch succeeded with %d items despite %s", s.Name, len(page.Items), tc.mode)
					}
					ae := apiError(t, err)
					if ae.Kind != tc.kind {
						t.Errorf("%s: kind %s, want %s (%v)", s.Name, ae.Kind, tc.kind, err)
					}
					if tc.mode == platformtest.Fail429 {
						want, ok := tc.retryAfter[id]
						if !ok {
							want = platformtest.RetryAfterSeconds * time.Second
						}
						if ae.RetryAfter != want {
							t.Errorf("%s: RetryAfter %v, want %v", s.Name, ae.RetryAfter, want)
						}
					}
				}
			})
		}
	}
}

func TestUnknownTokenIsAnAuthError(t *testing.T) {
	for _, id := range platform.All {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := connect(t, id)
			serveAPI[id](c.f)
			s := c.p.Streams()[0]
			_, err := s.Fetch(ctxT(t), nil, c.p, "not-a-token", nil)
			if ae := apiError(t, err); ae.Kind != platform.APIAuth {
				t.Errorf("kind %s, want auth (%v)", ae.Kind, err)
			}
		})
	}
}

func TestNetworkErrorIsReturnedAsIs(t *testing.T) {
	c := connect(t, platform.Discord)
	c.f.Close()
	_, err := c.p.Streams()[0].Fetch(ctxT(t), &http.Client{}, c.p, c.tok.AccessToken, nil)
	if err == nil {
		t.Fatal("fetch against a closed server succeeded")
	}
	var ae *platform.APIError
	if errors.As(err, &ae) {
		t.Errorf("network error classified as %v", ae)
	}
}

// A cursor that does not parse (written by an older version, or damaged)
// starts the stream over and says so; it never wedges the stream.
func TestUnreadableCursorStartsOver(t *testing.T) {
	for _, id := range platform.All {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := connect(t, id)
			serveAPI[id](c.f)
			for _, s := range c.p.Streams() {
				page, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, json.RawMessage(`{"page":"three"`))
				if err != nil {
					t.Errorf("%s: %v", s.Name, err)
					continue
				}
				if page.Cursor != nil && !json.Valid(page.Cursor) {
					t.Errorf("%s: new cursor %q is not JSON", s.Name, page.Cursor)
				}
				if page.Cursor != nil && !page.Reset {
					t.Errorf("%s: started over without saying so", s.Name)
				}
				if len(page.Items) == 0 {
					t.Errorf("%s: no items after starting over", s.Name)
				}
			}
		})
	}
}
