package platform

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

func spotifyProvider() Provider {
	return Provider{
		ID:   Spotify,
		Name: "Spotify",
		Endpoints: Endpoints{
			AuthURL:    "https://accounts.spotify.com/authorize",
			TokenURL:   "https://accounts.spotify.com/api/token",
			APIBaseURL: "https://api.spotify.com/v1",
			// No revocation endpoint: people remove apps in their account.
		},
		// /me's id, display_name and images need no scope.
		Scopes: []string{"user-read-recently-played", "user-top-read"},
		PKCE:   true,
		// The refresh response may carry a new refresh token (always for
		// PKCE clients); when it does the old one stops working.
		RotatesRefreshTokens: true,
		ExpiringTokens:       true,
		// Documented expires_in is 3600; it has never been observed missing.
		DefaultTokenLifetime: time.Hour,
		Reads:                []string{"recently played tracks", "top artists and tracks"},
		// The token endpoint wants Authorization: Basic for confidential
		// clients.
		authStyle: oauth2.AuthStyleInHeader,
	}
}

// spotifyIdentity reads GET /me:
// {"id":"wizzler","display_name":"JM Wizzler","images":[{"url":"…","height":64,"width":64}],
//
//	"external_urls":{"spotify":"https://open.spotify.com/user/wizzler"},"email":"…"}
//
// email is absent without user-read-email (and for development-mode apps).
func spotifyIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var me struct {
		ID           string `json:"id"`
		DisplayName  string `json:"display_name"`
		Email        string `json:"email"`
		ExternalURLs struct {
			Spotify string `json:"spotify"`
		} `json:"external_urls"`
		Images []struct {
			URL string `json:"url"`
		} `json:"images"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/me", token, nil, &me); err != nil {
		return Identity{}, err
	}
	id := Identity{AccountID: me.ID, Username: me.ID, DisplayName: me.DisplayName, Email: me.Email, ProfileURL: me.ExternalURLs.Spotify}
	if len(me.Images) > 0 {
		id.AvatarURL = me.Images[0].URL
	}
	if id.DisplayName == "" {
		id.DisplayName = me.ID
	}
	return id, nil
}
