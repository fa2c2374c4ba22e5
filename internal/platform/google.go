package platform

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// googleProvider holds what YouTube and Gmail share: Google's OAuth
// endpoints and token behaviour.
func googleProvider(id ID, name, apiBase string, scope string, reads []string) Provider {
	return Provider{
		ID:   id,
		Name: name,
		Endpoints: Endpoints{
			// x/oauth2's google.Endpoint still uses the legacy /o/oauth2/auth.
			AuthURL:    "https://accounts.google.com/o/oauth2/v2/auth",
			TokenURL:   "https://oauth2.googleapis.com/token",
			RevokeURL:  "https://oauth2.googleapis.com/revoke",
			APIBaseURL: apiBase,
		},
		Scopes: []string{scope},
		PKCE:   true,
		// Google never returns a new refresh token on refresh.
		RotatesRefreshTokens: false,
		ExpiringTokens:       true,
		// Google answers expires_in 3599.
		DefaultTokenLifetime: time.Hour,
		Reads:                reads,
		// client_secret_post, as x/oauth2's google.Endpoint pins.
		authStyle: oauth2.AuthStyleInParams,
		// A refresh token only comes with access_type=offline, and only on
		// first consent unless prompt=consent asks again.
		authParams: map[string]string{"access_type": "offline", "prompt": "consent"},
	}
}

// googleRevoke posts the token to Google's revoke endpoint. Revoking the
// refresh token ends the whole grant; the access token is used only when no
// refresh token is known. Google answers 200 on success and
// 400 {"error":"invalid_token","error_description":"Token expired or revoked"}
// for a token that is already gone, which counts as revoked.
//
// Google's grant is per user and OAuth client, not per token: revoking
// "revokes all of the scopes that the user granted to the app"
// (developers.google.com/identity/oauth2/web/reference/js-reference). When
// YouTube, Gmail (and Google sign-in) share one client id, revoking the
// YouTube connection also kills the Gmail one; callers should revoke only
// when no other connection uses the same Google client, and otherwise just
// delete the stored tokens.
func googleRevoke(ctx context.Context, p Provider, client *http.Client, tok *oauth2.Token) error {
	token := tok.RefreshToken
	if token == "" {
		token = tok.AccessToken
	}
	form := url.Values{"token": {token}}
	status, body, err := p.do(ctx, client, apiRequest{
		method: http.MethodPost, url: p.Endpoints.RevokeURL,
		body: strings.NewReader(form.Encode()), bodyCT: "application/x-www-form-urlencoded",
	})
	var apiErr *APIError
	if errors.As(err, &apiErr) && status == http.StatusBadRequest && oauthErrorCode(body) == "invalid_token" {
		return nil
	}
	return err
}

// oauthErrorCode reads the RFC 6749 {"error":"…"} field, if any.
func oauthErrorCode(body []byte) string {
	var b struct {
		Error any `json:"error"`
	}
	if json.Unmarshal(body, &b) != nil {
		return ""
	}
	s, _ := b.Error.(string)
	return s
}
