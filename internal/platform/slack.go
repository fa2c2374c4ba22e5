package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

func slackProvider() Provider {
	return Provider{
		ID:   Slack,
		Name: "Slack",
		Endpoints: Endpoints{
			AuthURL:    "https://slack.com/oauth/v2/authorize",
			TokenURL:   "https://slack.com/api/oauth.v2.access",
			RevokeURL:  "https://slack.com/api/auth.revoke",
			APIBaseURL: "https://slack.com/api",
		},
		// User scopes (sent as user_scope): the person's channels and the
		// workspace's people, no message history.
		Scopes: []string{"channels:read", "users:read"},
		// oauth.v2.access documents no code_verifier (only
		// oauth.v2.user.access and openid.connect.token do).
		PKCE: false,
		// With token rotation on, each refresh returns a new refresh token
		// and revokes the old one.
		RotatesRefreshTokens: true,
		// User tokens never expire unless the app turned token rotation on;
		// then expires_in (43200) is always present.
		ExpiringTokens:       false,
		DefaultTokenLifetime: 0,
		Reads:                []string{"your workspace identity", "channels you belong to"},
		// "If possible, avoid sending client_id and client_secret as
		// parameters … supply them using the HTTP Basic authentication
		// scheme."
		authStyle:  oauth2.AuthStyleInHeader,
		userScopes: true,
	}
}

// slackTokenResponse is oauth.v2.access's answer. For an install with only
// user scopes, the user token is in authed_user and there is no top-level
// access_token (x/oauth2 rejects that, hence this code):
//
//	{"ok":true,"app_id":"A0KRD7HC3","authed_user":{"id":"U1234","scope":"channels:read,users:read",
//	 "access_token":"xoxp-…","token_type":"user","refresh_token":"xoxe-1-…","expires_in":43200},
//	 "team":{"id":"T9TK3CUKW","name":"Slack Softworks"},"enterprise":null,"is_enterprise_install":false}
//
// A refresh (grant_type=refresh_token) answers at top level:
//
//	{"ok":true,"access_token":"xoxe.xoxp-…","token_type":"user","refresh_token":"xoxe-1-…","expires_in":43200,…}
//
// Errors come with HTTP 200: {"ok":false,"error":"invalid_code"}.
type slackTokenResponse struct {
	OK           bool   `json:"ok"`
	Error        string `json:"error"`
	AppID        string `json:"app_id"`
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	UserID       string `json:"user_id"`
	AuthedUser   struct {
		ID           string `json:"id"`
		Scope        string `json:"scope"`
		AccessToken  string `json:"access_token"`
		TokenType    string `json:"token_type"`
		RefreshToken string `json:"refresh_token"`
		ExpiresIn    int64  `json:"expires_in"`
	} `json:"authed_user"`
	Team struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"team"`
}

// slackToken performs an oauth.v2.access call over plain HTTP, with the
// client from ctx like x/oauth2.
func (p Provider) slackToken(ctx context.Context, cfg *oauth2.Config, params map[string]string) (*oauth2.Token, error) {
	op := "exchange"
	if params["grant_type"] == "refresh_token" {
		op = "refresh"
	}
	fail := func(te *TokenError) error {
		te.Platform, te.Op = p.ID, op
		return p.wrapTokenError(te)
	}

	form := url.Values{}
	for k, v := range params {
		if v != "" {
			form.Set(k, v)
		}
	}
	if cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", cfg.ClientID)
		form.Set("client_secret", cfg.ClientSecret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Endpoint.TokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fail(&TokenError{Class: ClientConfig, Err: err})
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cfg.Endpoint.AuthStyle != oauth2.AuthStyleInParams {
		req.SetBasicAuth(url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret))
	}
	client := http.DefaultClient
	if c, ok := ctx.Value(oauth2.HTTPClient).(*http.Client); ok && c != nil {
		client = c
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fail(&TokenError{Class: Transient, Err: err})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fail(&TokenError{Class: Transient, StatusCode: resp.StatusCode, Err: err})
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		te := &TokenError{StatusCode: resp.StatusCode, Code: genericCode(resp.StatusCode)}
		var r slackTokenResponse
		if json.Unmarshal(body, &r) == nil && r.Error != "" {
			te.Code = r.Error
		}
		te.Class = classifyToken(te.Code, resp.StatusCode)
		te.RetryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"))
		te.Err = fmt.Errorf("HTTP %d", resp.StatusCode)
		return nil, fail(te)
	}
	var r slackTokenResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fail(&TokenError{Class: Transient, StatusCode: resp.StatusCode, Err: fmt.Errorf("decode response: %w", err)})
	}
	if !r.OK {
		return nil, fail(&TokenError{Class: classifyToken(r.Error, 0), Code: r.Error, StatusCode: resp.StatusCode})
	}

	tok := &oauth2.Token{}
	scope := r.Scope
	userID := r.UserID
	if r.AuthedUser.AccessToken != "" {
		tok.AccessToken, tok.RefreshToken, tok.ExpiresIn = r.AuthedUser.AccessToken, r.AuthedUser.RefreshToken, r.AuthedUser.ExpiresIn
		scope, userID = r.AuthedUser.Scope, r.AuthedUser.ID
	} else if r.TokenType == "user" || op == "refresh" {
		tok.AccessToken, tok.RefreshToken, tok.ExpiresIn = r.AccessToken, r.RefreshToken, r.ExpiresIn
	}
	if tok.AccessToken == "" {
		// A bot-only install: twinme needs the person's own token.
		return nil, fail(&TokenError{Class: ClientConfig, Code: "missing_user_token", StatusCode: resp.StatusCode,
			Description: "response has no user token; the Slack app must request user scopes"})
	}
	// Slack says token_type "user"; requests still use Bearer.
	tok.TokenType = "Bearer"
	tok = tok.WithExtra(map[string]any{
		"scope":     scope,
		"user_id":   userID,
		"team_id":   r.Team.ID,
		"team_name": r.Team.Name,
		"app_id":    r.AppID,
	})
	return p.normalize(tok), nil
}

// slackIdentity calls auth.test (no scope needed) →
// {"ok":true,"url":"https://subarachnoid.slack.com/","team":"Subarachnoid Workspace","user":"grace",
//
//	"team_id":"T12345678","user_id":"W12345678"}
//
// User ids are only unique within a workspace, so the account id is
// team_id:user_id.
func slackIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var r struct {
		URL    string `json:"url"`
		Team   string `json:"team"`
		User   string `json:"user"`
		TeamID string `json:"team_id"`
		UserID string `json:"user_id"`
	}
	_, body, err := p.do(ctx, client, apiRequest{
		method: http.MethodPost, url: p.Endpoints.APIBaseURL + "/auth.test", token: token,
		body: strings.NewReader(""), bodyCT: "application/x-www-form-urlencoded",
	})
	if err != nil {
		return Identity{}, err
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return Identity{}, fmt.Errorf("decode Slack response: %w", err)
	}
	if r.TeamID == "" || r.UserID == "" {
		return Identity{}, nil
	}
	name := r.User
	if r.Team != "" {
		name += " (" + r.Team + ")"
	}
	return Identity{AccountID: r.TeamID + ":" + r.UserID, Username: r.User, DisplayName: name, ProfileURL: r.URL}, nil
}

// slackRevoke calls auth.revoke with the token to revoke as bearer →
// {"ok":true,"revoked":true}. invalid_auth or token_revoked mean the token
// is already unusable, which counts as revoked.
func slackRevoke(ctx context.Context, p Provider, client *http.Client, tok *oauth2.Token) error {
	if tok.AccessToken == "" {
		return fmt.Errorf("auth.revoke needs the access token")
	}
	_, _, err := p.do(ctx, client, apiRequest{
		method: http.MethodPost, url: p.Endpoints.RevokeURL, token: tok.AccessToken,
		body: strings.NewReader(""), bodyCT: "application/x-www-form-urlencoded",
	})
	if apiErr, ok := err.(*APIError); ok && (apiErr.Code == "invalid_auth" || apiErr.Code == "token_revoked") {
		return nil
	}
	return err
}
