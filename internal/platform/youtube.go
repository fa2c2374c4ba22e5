package platform

import (
	"context"
	"net/http"

	"github.com/twinme/twinme/internal/apperr"
)

func youTubeProvider() Provider {
	return googleProvider(YouTube, "YouTube", "https://www.googleapis.com/youtube/v3",
		"https://www.googleapis.com/auth/youtube.readonly",
		// The API has no watch history (since 2016); that comes from a
		// Google Takeout import.
		[]string{"your channel", "subscriptions", "liked videos and their categories"})
}

// youTubeIdentity reads the person's channel, which youtube.readonly allows:
// GET /channels?part=snippet&mine=true →
// {"kind":"youtube#channelListResponse","pageInfo":{"totalResults":1},
//
//	"items":[{"kind":"youtube#channel","id":"UC…","snippet":{"title":"…","customUrl":"@handle",
//	"thumbnails":{"default":{"url":"…"}}}}]}
//
// A Google account without a channel gets an empty items list.
func youTubeIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var resp struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				Title      string `json:"title"`
				CustomURL  string `json:"customUrl"`
				Thumbnails map[string]struct {
					URL string `json:"url"`
				} `json:"thumbnails"`
			} `json:"snippet"`
		} `json:"items"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/channels?part=snippet&mine=true", token, nil, &resp); err != nil {
		return Identity{}, err
	}
	if len(resp.Items) == 0 {
		return Identity{}, apperr.New(apperr.NotFound, "this Google account has no YouTube channel; create one or connect another account")
	}
	ch := resp.Items[0]
	id := Identity{
		AccountID:   ch.ID,
		Username:    ch.Snippet.CustomURL,
		DisplayName: ch.Snippet.Title,
		ProfileURL:  "https://www.youtube.com/channel/" + ch.ID,
	}
	for _, size := range []string{"default", "medium", "high"} {
		if t, ok := ch.Snippet.Thumbnails[size]; ok && t.URL != "" {
			id.AvatarURL = t.URL
			break
		}
	}
	return id, nil
}
