package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

func youTubeStreams() []Stream {
	return []Stream{
		{Name: "channel", DataType: DataYouTubeChannel, Fetch: youTubeChannel},
		{Name: "subscriptions", DataType: DataYouTubeSubscription, Fetch: youTubeSubscriptions},
		{Name: "liked_videos", DataType: DataYouTubeLikedVideo, Fetch: youTubeLikedVideos},
	}
}

// youTubeChannel reads GET /channels?part=snippet,contentDetails&mine=true:
//
//	{"kind":"youtube#channelListResponse","pageInfo":{"totalResults":1,"resultsPerPage":5},
//	 "items":[{"kind":"youtube#channel","id":"UC…","snippet":{"title":"…","description":"…",
//	 "customUrl":"@handle","publishedAt":"2007-08-23T00:34:43Z","country":"US"},
//	 "contentDetails":{"relatedPlaylists":{"likes":"LL","uploads":"UU…"}}}]}
//
// An account without a channel has no items, which is no item and no error.
func youTubeChannel(ctx context.Context, client *http.Client, p Provider, token string, _ json.RawMessage) (Page, error) {
	var resp struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title       string    `json:"title"`
				Description string    `json:"description"`
				CustomURL   string    `json:"customUrl"`
				PublishedAt time.Time `json:"publishedAt"`
				Country     string    `json:"country"`
			} `json:"snippet"`
			ContentDetails struct {
				RelatedPlaylists struct {
					Likes   string `json:"likes"`
					Uploads string `json:"uploads"`
				} `json:"relatedPlaylists"`
			} `json:"contentDetails"`
		} `json:"items"`
	}
	q := url.Values{"part": {"snippet,contentDetails"}, "mine": {"true"}}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/channels", q), token, nil, &resp); err != nil {
		return Page{}, err
	}
	var page Page
	for _, ch := range resp.Items {
		payload, err := payloadOf(YouTubeChannelPayload{SourceAPI, ch.ID, ch.Snippet.Title, ch.Snippet.Description, ch.Snippet.CustomURL, ch.Snippet.Country,
			ch.Snippet.PublishedAt.UTC().Format(time.RFC3339), ch.ContentDetails.RelatedPlaylists.Likes, ch.ContentDetails.RelatedPlaylists.Uploads})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataYouTubeChannel, ExternalID: ch.ID, OccurredAt: occurred(ch.Snippet.PublishedAt, p), Payload: payload})
	}
	return page, nil
}

// youTubePageCursor: PageToken is the next page of the listing in progress;
// empty when the next run starts from the first page.
type youTubePageCursor struct {
	PageToken string `json:"page_token,omitempty"`
}

// youTubeSubscriptions reads GET /subscriptions?part=snippet&mine=true&maxResults=50&pageToken=:
//
//	{"kind":"youtube#subscriptionListResponse","nextPageToken":"CDIQAA","pageInfo":{"totalResults":137,"resultsPerPage":50},
//	 "items":[{"kind":"youtube#subscription","id":"…","snippet":{"publishedAt":"2019-05-01T10:00:00Z",
//	 "title":"Kurzgesagt – In a Nutshell","description":"…","resourceId":{"kind":"youtube#channel","channelId":"UCsXVk37bltHxD1rDPwtNM8Q"},
//	 "channelId":"UC<subscriber>"}}]}
//
// The API lists subscriptions by relevance or alphabetically, never by
// date, so every run lists them all (a page per fetch); unchanged ones have
// the same payload and the upsert leaves them alone.
func youTubeSubscriptions(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur youTubePageCursor
	ok := readCursor(raw, &cur)
	var resp struct {
		NextPageToken string `json:"nextPageToken"`
		Items         []struct {
			ID      string `json:"id"`
			Snippet struct {
				PublishedAt time.Time `json:"publishedAt"`
				Title       string    `json:"title"`
				Description string    `json:"description"`
				ResourceID  struct {
					ChannelID string `json:"channelId"`
				} `json:"resourceId"`
			} `json:"snippet"`
		} `json:"items"`
	}
	q := url.Values{"part": {"snippet"}, "mine": {"true"}, "maxResults": {"50"}, "pageToken": {cur.PageToken}}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/subscriptions", q), token, nil, &resp); err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok, More: resp.NextPageToken != "", Cursor: cursorOf(youTubePageCursor{PageToken: resp.NextPageToken})}
	for _, s := range resp.Items {
		ch := s.Snippet.ResourceID.ChannelID
		if ch == "" {
			continue
		}
		payload, err := payloadOf(YouTubeSubscriptionPayload{SourceAPI, ch, s.Snippet.Title, s.Snippet.PublishedAt.UTC().Format(time.RFC3339)})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataYouTubeSubscription, ExternalID: ch, OccurredAt: occurred(s.Snippet.PublishedAt, p), Payload: payload})
	}
	return page, nil
}

// youTubeLikesCursor: Known is the most recently liked video of the last
// complete run; a run stops when it reaches it. During a run PageToken is
// the next page and First the newest like of this run (Known once it ends).
type youTubeLikesCursor struct {
	PageToken string `json:"page_token,omitempty"`
	First     string `json:"first,omitempty"`
	Known     string `json:"known,omitempty"`
}

// youTubeLikedVideos reads GET /videos?part=snippet&myRating=like&maxResults=50&pageToken=:
//
//	{"kind":"youtube#videoListResponse","nextPageToken":"CDIQAA","pageInfo":{"totalResults":412,"resultsPerPage":50},
//	 "items":[{"kind":"youtube#video","id":"dQw4w9WgXcQ","snippet":{"publishedAt":"2009-10-25T06:57:33Z",
//	 "channelId":"UCuAXFkgsw1L7xaCfnd5JJOw","title":"…","description":"…","channelTitle":"Rick Astley",
//	 "tags":["…"],"categoryId":"10","defaultAudioLanguage":"en"}}]}
//
// The list comes most recently liked first (the order of the person's
// "Liked videos" playlist; observed, not documented), so a run stops at the
// newest like of the previous run. Should that order not hold, a run lists
// everything, which the upsert dedupes. The API does not say when a video
// was liked: OccurredAt is the video's publication.
func youTubeLikedVideos(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur youTubeLikesCursor
	ok := readCursor(raw, &cur)
	var resp struct {
		NextPageToken string `json:"nextPageToken"`
		Items         []struct {
			ID      string `json:"id"`
			Snippet struct {
				PublishedAt  time.Time `json:"publishedAt"`
				ChannelID    string    `json:"channelId"`
				ChannelTitle string    `json:"channelTitle"`
				Title        string    `json:"title"`
				CategoryID   string    `json:"categoryId"`
				Tags         []string  `json:"tags"`
			} `json:"snippet"`
		} `json:"items"`
	}
	q := url.Values{"part": {"snippet"}, "myRating": {"like"}, "maxResults": {"50"}, "pageToken": {cur.PageToken}}
	if _, err := p.getInto(ctx, client, withQuery(p.Endpoints.APIBaseURL, "/videos", q), token, nil, &resp); err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok}
	first := cur.First
	reachedKnown := false
	for _, v := range resp.Items {
		if v.ID == "" {
			continue
		}
		if cur.Known != "" && v.ID == cur.Known {
			reachedKnown = true
			break
		}
		if first == "" {
			first = v.ID
		}
		payload, err := payloadOf(YouTubeLikedVideoPayload{SourceAPI, v.ID, v.Snippet.Title, v.Snippet.ChannelID, v.Snippet.ChannelTitle, v.Snippet.CategoryID,
			nonNil(v.Snippet.Tags), v.Snippet.PublishedAt.UTC().Format(time.RFC3339)})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataYouTubeLikedVideo, ExternalID: v.ID, OccurredAt: occurred(v.Snippet.PublishedAt, p), Payload: payload})
	}
	if reachedKnown || resp.NextPageToken == "" {
		known := first
		if known == "" {
			known = cur.Known
		}
		page.Cursor = cursorOf(youTubeLikesCursor{Known: known})
		return page, nil
	}
	page.More = true
	page.Cursor = cursorOf(youTubeLikesCursor{PageToken: resp.NextPageToken, First: first, Known: cur.Known})
	return page, nil
}

// occurred is t, or the fetch time when the platform gave none.
func occurred(t time.Time, p Provider) time.Time {
	if t.IsZero() {
		return p.now().UTC()
	}
	return t.UTC()
}
