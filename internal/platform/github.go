package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// gitHubAPIHeaders are sent on every REST call, as GitHub recommends.
var gitHubAPIHeaders = map[string]string{
	"Accept":               "application/vnd.github+json",
	"X-GitHub-Api-Version": "2022-11-28",
}

func gitHubProvider() Provider {
	return Provider{
		ID:   GitHub,
		Name: "GitHub",
		Endpoints: Endpoints{
			AuthURL:  "https://github.com/login/oauth/authorize",
			TokenURL: "https://github.com/login/oauth/access_token",
			// DELETE with Basic client_id:client_secret removes the grant
			// and every token of it.
			RevokeURL:  "https://api.github.com/applications/{client_id}/grant",
			APIBaseURL: "https://api.github.com",
		},
		// Public profile; events and public repositories need no scope.
		// There is no read-only scope for private repositories.
		Scopes: []string{"read:user"},
		PKCE:   true, // S256, since 2025-07-14
		// OAuth app tokens do not expire. GitHub App user tokens (and OAuth
		// apps that opt in) expire after 8 h and come with a refresh token
		// that rotates: the old refresh and access tokens die.
		RotatesRefreshTokens: true,
		ExpiringTokens:       false,
		// No expires_in means an OAuth app token that lasts until revoked.
		DefaultTokenLifetime: 0,
		Reads:                []string{"public profile", "public activity events", "repositories and stars"},
		authStyle:            oauth2.AuthStyleInParams,
		// Without Accept: application/json the token endpoint answers
		// form-encoded, and errors come with HTTP 200 either way.
		acceptJSON: true,
	}
}

// gitHubIdentity reads GET /user →
// {"login":"octocat","id":1,"node_id":"MDQ6VXNlcjE=","avatar_url":"…","html_url":"https://github.com/octocat",
//
//	"name":"The Octocat","email":null,…}
func gitHubIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var u struct {
		Login     string `json:"login"`
		ID        int64  `json:"id"`
		Name      string `json:"name"`
		Email     string `json:"email"`
		AvatarURL string `json:"avatar_url"`
		HTMLURL   string `json:"html_url"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/user", token, gitHubAPIHeaders, &u); err != nil {
		return Identity{}, err
	}
	if u.ID == 0 {
		return Identity{}, nil
	}
	id := Identity{
		AccountID: strconv.FormatInt(u.ID, 10), Username: u.Login, DisplayName: u.Name,
		Email: u.Email, AvatarURL: u.AvatarURL, ProfileURL: u.HTMLURL,
	}
	if id.DisplayName == "" {
		id.DisplayName = u.Login
	}
	return id, nil
}

// gitHubRevoke deletes the app authorization: DELETE
// /applications/{client_id}/grant, Basic client_id:client_secret, body
// {"access_token":"…"} → 204 No Content (422 on validation failure, 404 for
// a token GitHub no longer knows).
func gitHubRevoke(ctx context.Context, p Provider, client *http.Client, cfg *oauth2.Config, tok *oauth2.Token) error {
	body, _ := json.Marshal(map[string]string{"access_token": tok.AccessToken})
	u := strings.ReplaceAll(p.Endpoints.RevokeURL, "{client_id}", url.PathEscape(cfg.ClientID))
	status, _, err := p.do(ctx, client, apiRequest{
		method: http.MethodDelete, url: u, header: gitHubAPIHeaders,
		body: bytes.NewReader(body), bodyCT: "application/json",
		basicID: cfg.ClientID, basicPW: cfg.ClientSecret,
	})
	// 404: GitHub no longer knows the token (disconnected twice, or the
	// person removed the app on GitHub). The grant is gone, which is what
	// revoking wants, as with Google's invalid_token and Slack's invalid_auth.
	var apiErr *APIError
	if errors.As(err, &apiErr) && status == http.StatusNotFound {
		return nil
	}
	return err
}
