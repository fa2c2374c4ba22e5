package platform_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestYouTubeChannel(t *testing.T) {
	c := connect(t, platform.YouTube)
	api := platformtest.ServeYouTubeAPI(c.f, 0, 0)
	res := runStream(t, c, stream(t, c.p, "channel"), nil)
	if res.err != nil || len(res.items) != 1 {
		t.Fatalf("items %d, err %v", len(res.items), res.err)
	}
	it := res.items[0]
	if it.ExternalID != c.f.Identity().AccountID || it.DataType != platform.DataYouTubeChannel {
		t.Errorf("item %s/%s", it.DataType, it.ExternalID)
	}
	var pl map[string]any
	json.Unmarshal(it.Payload, &pl)
	if pl["likes_playlist"] != "LL" || pl["handle"] != "@googledevelopers" {
		t.Errorf("payload %s lacks contentDetails or snippet", it.Payload)
	}
	u, _ := url.Parse(api.RequestURIs()[0])
	if u.Query().Get("part") != "snippet,contentDetails" || u.Query().Get("mine") != "true" {
		t.Errorf("request %s", u)
	}
}

func TestYouTubeSubscriptionsPaginate(t *testing.T) {
	c := connect(t, platform.YouTube)
	api := platformtest.ServeYouTubeAPI(c.f, 120, 0)
	s := stream(t, c.p, "subscriptions")
	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if first.pages != 3 || len(first.items) != 120 {
		t.Fatalf("first run: %d items in %d pages, want 120 in 3", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	if string(first.cursor) != "{}" {
		t.Errorf("cursor after a complete listing = %s, want {} (next run starts over)", first.cursor)
	}
	for _, u := range api.RequestURIs() {
		q, _ := url.ParseQuery(strings.SplitN(u, "?", 2)[1])
		if q.Get("maxResults") != "50" || q.Get("mine") != "true" {
			t.Errorf("request %s", u)
		}
	}

	// Subscriptions cannot be listed by date, so a run lists all again;
	// the unchanged ones come back byte for byte (same content hash, no
	// rewrite) and the new one is among them.
	api.Subscribe(platformtest.YouTubeSub(500))
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	before := map[string]string{}
	for _, it := range first.items {
		before[it.ExternalID] = string(it.Payload)
	}
	var added []string
	for _, it := range second.items {
		old, ok := before[it.ExternalID]
		if !ok {
			added = append(added, it.ExternalID)
		} else if old != string(it.Payload) {
			t.Errorf("unchanged subscription %s has a new payload:\n%s\n%s", it.ExternalID, old, it.Payload)
		}
	}
	if len(added) != 1 || added[0] != platformtest.YouTubeSub(500).ChannelID {
		t.Errorf("new items %v, want the one new subscription", added)
	}
}

func TestYouTubeLikedVideosOnlyNew(t *testing.T) {
	c := connect(t, platform.YouTube)
	api := platformtest.ServeYouTubeAPI(c.f, 0, 75)
	s := stream(t, c.p, "liked_videos")
	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if first.pages != 2 || len(first.items) != 75 {
		t.Fatalf("first run: %d items in %d pages, want 75 in 2", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	categories := map[string]bool{}
	for _, it := range first.items {
		var pl struct {
			CategoryID string `json:"category_id"`
		}
		json.Unmarshal(it.Payload, &pl)
		categories[pl.CategoryID] = true
	}
	if !categories["10"] || !categories["28"] || !categories["27"] {
		t.Errorf("categories %v, want the videos' categoryIds", categories)
	}

	api.Like(platformtest.YouTubeLike(900))
	api.Like(platformtest.YouTubeLike(901))
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	if got := ids(second.items); len(got) != 2 || !got[platformtest.YouTubeLike(900).ID] || !got[platformtest.YouTubeLike(901).ID] {
		t.Errorf("second run items %v, want only the two new likes", got)
	}
	if second.pages != 1 {
		t.Errorf("second run read %d pages, want 1 (it stops at the last known like)", second.pages)
	}
}

// A 5xx on page 2 fails the run; page 1's items and cursor were already
// handed over, and the next run resumes at page 2 without duplicates.
func TestYouTubeLikedVideosResumeAfter5xx(t *testing.T) {
	c := connect(t, platform.YouTube)
	platformtest.ServeYouTubeAPI(c.f, 0, 120)
	s := stream(t, c.p, "liked_videos")
	page1, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	if err != nil || !page1.More || len(page1.Items) != 50 {
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
		t.Errorf("%d items over both runs, want 120", len(all))
	}
}

func TestYouTubeQuotaExceeded(t *testing.T) {
	c := connect(t, platform.YouTube)
	api := platformtest.ServeYouTubeAPI(c.f, 3, 3)
	api.ExhaustQuota()
	for _, s := range c.p.Streams() {
		_, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
		ae := apiError(t, err)
		if ae.Kind != platform.APIQuotaExceeded {
			t.Errorf("%s: kind %s, want quota_exceeded", s.Name, ae.Kind)
		}
		// The daily quota resets at midnight Pacific time.
		now := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)
		if want := time.Date(2026, 3, 15, 7, 0, 0, 0, time.UTC); !ae.RetryAt(now).Equal(want) {
			t.Errorf("%s: RetryAt %v, want %v", s.Name, ae.RetryAt(now), want)
		}
	}
}
