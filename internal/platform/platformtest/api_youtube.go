package platformtest

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// YouTubeVideo is a liked video in the fake.
type YouTubeVideo struct {
	ID, Title, ChannelID, ChannelTitle, CategoryID string
	PublishedAt                                    time.Time
}

// YouTubeSubscription is a channel the person subscribed to.
type YouTubeSubscription struct {
	ChannelID, Title string
	SubscribedAt     time.Time
}

// YouTubeAPI serves the Data API v3 list calls the YouTube streams read:
// channels (mine), subscriptions (mine) and videos (myRating=like).
type YouTubeAPI struct {
	recorder
	f         *Fake
	mu        sync.Mutex
	subs      []YouTubeSubscription // in the API's (relevance) order
	likes     []YouTubeVideo        // most recently liked first
	quotaGone bool
}

// ServeYouTubeAPI registers the endpoints on f with nSubs subscriptions and
// nLikes liked videos.
func ServeYouTubeAPI(f *Fake, nSubs, nLikes int) *YouTubeAPI {
	a := &YouTubeAPI{f: f}
	for i := range nSubs {
		a.subs = append(a.subs, YouTubeSub(i))
	}
	for i := range nLikes {
		a.likes = append(a.likes, YouTubeLike(nLikes-1-i))
	}
	// The identity handler already serves GET /youtube/v3/channels (snippet
	// only); a pattern with the server's host takes precedence over one
	// without, so this handler answers the streams' part=snippet,contentDetails.
	f.HandleAPI(http.MethodGet, overridePattern(f, "/youtube/v3/channels"), a.quota(a.channels))
	f.HandleAPI(http.MethodGet, "/youtube/v3/subscriptions", a.quota(a.subscriptions))
	f.HandleAPI(http.MethodGet, "/youtube/v3/videos", a.quota(a.videos))
	return a
}

// YouTubeSub is subscription number i of a made-up list.
func YouTubeSub(i int) YouTubeSubscription {
	return YouTubeSubscription{
		ChannelID: fmt.Sprintf("UCsXVk37bltHxD1rDPw%05d", i), Title: fmt.Sprintf("Channel %d", i),
		SubscribedAt: time.Date(2019, 5, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour),
	}
}

// YouTubeLike is liked video number i of a made-up list; categories cycle
// through Music (10), Science & Technology (28) and Education (27).
func YouTubeLike(i int) YouTubeVideo {
	return YouTubeVideo{
		ID: fmt.Sprintf("dQw4w9W%04d", i), Title: fmt.Sprintf("Video %d", i),
		ChannelID: "UCuAXFkgsw1L7xaCfnd5JJOw", ChannelTitle: "Some Channel",
		CategoryID:  []string{"10", "28", "27"}[i%3],
		PublishedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour),
	}
}

// Subscribe adds a subscription (at the front of the relevance order).
func (a *YouTubeAPI) Subscribe(s YouTubeSubscription) {
	a.mu.Lock()
	a.subs = append([]YouTubeSubscription{s}, a.subs...)
	a.mu.Unlock()
}

// Like likes a video: it becomes the first of the liked list.
func (a *YouTubeAPI) Like(v YouTubeVideo) {
	a.mu.Lock()
	a.likes = append([]YouTubeVideo{v}, a.likes...)
	a.mu.Unlock()
}

// ExhaustQuota makes every later call fail as when the project's daily
// quota is used up, until RestoreQuota.
func (a *YouTubeAPI) ExhaustQuota() { a.mu.Lock(); a.quotaGone = true; a.mu.Unlock() }

// RestoreQuota ends ExhaustQuota.
func (a *YouTubeAPI) RestoreQuota() { a.mu.Lock(); a.quotaGone = false; a.mu.Unlock() }

// quota answers the documented quota error when the quota is gone:
//
//	403 {"error":{"code":403,"message":"The request cannot be completed because you have exceeded your <a href=\"/youtube/v3/getting-started#quota\">quota</a>.",
//	 "errors":[{"message":"…","domain":"youtube.quota","reason":"quotaExceeded"}]}}
func (a *YouTubeAPI) quota(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.record(r)
		a.mu.Lock()
		gone := a.quotaGone
		a.mu.Unlock()
		if gone {
			msg := `The request cannot be completed because you have exceeded your <a href="/youtube/v3/getting-started#quota">quota</a>.`
			writeJSON(w, 403, map[string]any{"error": map[string]any{"code": 403, "message": msg,
				"errors": []any{map[string]any{"message": msg, "domain": "youtube.quota", "reason": "quotaExceeded"}}}})
			return
		}
		h(w, r)
	}
}

// youTubeBadRequest is the Data API's 400 for a missing or bad parameter.
func youTubeBadRequest(w http.ResponseWriter, reason, message string) {
	writeJSON(w, 400, googleError(400, "INVALID_ARGUMENT", "youtube.parameter", reason, message))
}

// youTubePage cuts a list into pages of maxResults (default 5, 0..50) with
// opaque page tokens; ok is false after a 400 was written.
func youTubePage(w http.ResponseWriter, r *http.Request, n int) (from, to int, next string, ok bool) {
	q := r.URL.Query()
	size := 5
	if v := q.Get("maxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 0 || m > 50 {
			youTubeBadRequest(w, "invalidParameter", "Invalid value for maxResults")
			return 0, 0, "", false
		}
		size = m
	}
	if tok := q.Get("pageToken"); tok != "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		off, err2 := strconv.Atoi(strings.TrimPrefix(string(raw), "offset:"))
		if err != nil || err2 != nil || off < 0 {
			youTubeBadRequest(w, "invalidPageToken", "The request specifies an invalid page token.")
			return 0, 0, "", false
		}
		from = off
	}
	from = min(from, n)
	to = min(from+size, n)
	if to < n {
		next = base64.RawURLEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(to)))
	}
	return from, to, next, true
}

// channels answers GET /youtube/v3/channels?part=snippet,contentDetails&mine=true:
//
//	{"kind":"youtube#channelListResponse","etag":"…","pageInfo":{"totalResults":1,"resultsPerPage":5},
//	 "items":[{"kind":"youtube#channel","etag":"…","id":"UC…","snippet":{"title":"…","description":"…",
//	 "customUrl":"@handle","publishedAt":"2007-08-23T00:34:43Z","thumbnails":{…},"country":"US"},
//	 "contentDetails":{"relatedPlaylists":{"likes":"LL","uploads":"UU…"}}}]}
//
// Since 2016 the likes playlist of the API is "LL" for everyone.
func (a *YouTubeAPI) channels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("mine") != "true" {
		youTubeBadRequest(w, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, forHandle, forUsername")
		return
	}
	id := a.f.Identity()
	item := map[string]any{"kind": "youtube#channel", "etag": "Xc1b3h9v", "id": id.AccountID}
	for _, part := range strings.Split(q.Get("part"), ",") {
		switch part {
		case "snippet":
			item["snippet"] = map[string]any{
				"title": id.DisplayName, "description": "Tutorials and talks", "customUrl": id.Username,
				"publishedAt": "2007-08-23T00:34:43Z", "country": "US",
				"thumbnails": map[string]any{"default": map[string]any{"url": id.AvatarURL, "width": 88, "height": 88}},
			}
		case "contentDetails":
			item["contentDetails"] = map[string]any{"relatedPlaylists": map[string]any{"likes": "LL", "uploads": "UU" + strings.TrimPrefix(id.AccountID, "UC")}}
		}
	}
	writeJSON(w, 200, map[string]any{"kind": "youtube#channelListResponse", "etag": "pWPDqLq",
		"pageInfo": map[string]any{"totalResults": 1, "resultsPerPage": 5}, "items": []any{item}})
}

// subscriptions answers GET /youtube/v3/subscriptions?part=snippet&mine=true&maxResults&pageToken:
//
//	{"kind":"youtube#subscriptionListResponse","etag":"…","nextPageToken":"CAUQAA",
//	 "pageInfo":{"totalResults":137,"resultsPerPage":5},
//	 "items":[{"kind":"youtube#subscription","etag":"…","id":"…","snippet":{"publishedAt":"…","title":"…",
//	 "description":"…","resourceId":{"kind":"youtube#channel","channelId":"UC…"},"channelId":"UC…","thumbnails":{…}}}]}
func (a *YouTubeAPI) subscriptions(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("mine") != "true" || r.URL.Query().Get("part") != "snippet" {
		youTubeBadRequest(w, "missingRequiredParameter", "No filter selected. Expected one of: mine, id, channelId, myRecentSubscribers, mySubscribers")
		return
	}
	a.mu.Lock()
	subs := append([]YouTubeSubscription(nil), a.subs...)
	a.mu.Unlock()
	from, to, next, ok := youTubePage(w, r, len(subs))
	if !ok {
		return
	}
	items := []any{}
	for _, s := range subs[from:to] {
		items = append(items, map[string]any{
			"kind": "youtube#subscription", "etag": "e" + s.ChannelID[len(s.ChannelID)-5:], "id": "sub" + s.ChannelID,
			"snippet": map[string]any{
				"publishedAt": s.SubscribedAt.Format(time.RFC3339), "title": s.Title, "description": "About " + s.Title,
				"resourceId": map[string]any{"kind": "youtube#channel", "channelId": s.ChannelID},
				"channelId":  a.f.Identity().AccountID,
			},
		})
	}
	body := map[string]any{"kind": "youtube#subscriptionListResponse", "etag": "s1",
		"pageInfo": map[string]any{"totalResults": len(subs), "resultsPerPage": to - from}, "items": items}
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(w, 200, body)
}

// videos answers GET /youtube/v3/videos?part=snippet&myRating=like&maxResults&pageToken:
//
//	{"kind":"youtube#videoListResponse","etag":"…","nextPageToken":"CAUQAA","pageInfo":{"totalResults":412,"resultsPerPage":5},
//	 "items":[{"kind":"youtube#video","etag":"…","id":"…","snippet":{"publishedAt":"…","channelId":"UC…",
//	 "title":"…","description":"…","thumbnails":{…},"channelTitle":"…","tags":["…"],"categoryId":"10",
//	 "liveBroadcastContent":"none"}}]}
func (a *YouTubeAPI) videos(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("myRating") != "like" {
		youTubeBadRequest(w, "missingRequiredParameter", "No filter selected. Expected one of: chart, id, myRating")
		return
	}
	a.mu.Lock()
	likes := append([]YouTubeVideo(nil), a.likes...)
	a.mu.Unlock()
	from, to, next, ok := youTubePage(w, r, len(likes))
	if !ok {
		return
	}
	items := []any{}
	for _, v := range likes[from:to] {
		items = append(items, map[string]any{
			"kind": "youtube#video", "etag": "v" + v.ID, "id": v.ID,
			"snippet": map[string]any{
				"publishedAt": v.PublishedAt.Format(time.RFC3339), "channelId": v.ChannelID, "title": v.Title,
				"description": "…", "channelTitle": v.ChannelTitle, "tags": []string{"tag"}, "categoryId": v.CategoryID,
				"liveBroadcastContent": "none",
			},
		})
	}
	body := map[string]any{"kind": "youtube#videoListResponse", "etag": "l1",
		"pageInfo": map[string]any{"totalResults": len(likes), "resultsPerPage": to - from}, "items": items}
	if next != "" {
		body["nextPageToken"] = next
	}
	writeJSON(w, 200, body)
}
