package platform

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

func discordProvider() Provider {
	return Provider{
		ID:   Discord,
		Name: "Discord",
		Endpoints: Endpoints{
			AuthURL:    "https://discord.com/oauth2/authorize",
			TokenURL:   "https://discord.com/api/oauth2/token",
			RevokeURL:  "https://discord.com/api/oauth2/token/revoke",
			APIBaseURL: "https://discord.com/api/v10",
		},
		Scopes: []string{"identify", "guilds"},
		// https://discord.com/.well-known/oauth-authorization-server lists
		// code_challenge_methods_supported ["S256"].
		PKCE: true,
		// Each refresh response carries a new refresh token; store it.
		RotatesRefreshTokens: true,
		ExpiringTokens:       true,
		// Discord answers expires_in 604800 (7 days).
		DefaultTokenLifetime: 7 * 24 * time.Hour,
		Reads:                []string{"profile", "servers you belong to"},
		// The discovery document lists client_secret_basic and _post.
		authStyle: oauth2.AuthStyleInHeader,
	}
}

// discordIdentity reads GET /users/@me →
// {"id":"80351110224678912","username":"nelly","discriminator":"0","global_name":"Nelly",
//
//	"avatar":"8342729096ea3675442027381ff50dfe","email":"nelly@discord.com"}
//
// email only with the email scope, which twinme does not ask for.
func discordIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var u struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GlobalName string `json:"global_name"`
		Avatar     string `json:"avatar"`
		Email      string `json:"email"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/users/@me", token, nil, &u); err != nil {
		return Identity{}, err
	}
	id := Identity{AccountID: u.ID, Username: u.Username, DisplayName: u.GlobalName, Email: u.Email}
	if id.DisplayName == "" {
		id.DisplayName = u.Username
	}
	if u.Avatar != "" {
		id.AvatarURL = "https://cdn.discordapp.com/avatars/" + u.ID + "/" + u.Avatar + ".png"
	}
	return id, nil
}

// discordRevoke posts to the RFC 7009 endpoint (form token,
// token_type_hint; client auth as at the token endpoint) → 200 {}.
// Revoking the refresh token ends the whole authorization.
func discordRevoke(ctx context.Context, p Provider, client *http.Client, cfg *oauth2.Config, tok *oauth2.Token) error {
	form := url.Values{}
	if tok.RefreshToken != "" {
		form.Set("token", tok.RefreshToken)
		form.Set("token_type_hint", "refresh_token")
	} else {
		form.Set("token", tok.AccessToken)
		form.Set("token_type_hint", "access_token")
	}
	r := apiRequest{method: http.MethodPost, url: p.Endpoints.RevokeURL, bodyCT: "application/x-www-form-urlencoded"}
	if cfg.Endpoint.AuthStyle == oauth2.AuthStyleInParams {
		form.Set("client_id", cfg.ClientID)
		form.Set("client_secret", cfg.ClientSecret)
	} else {
		r.basicID, r.basicPW = url.QueryEscape(cfg.ClientID), url.QueryEscape(cfg.ClientSecret)
	}
	r.body = strings.NewReader(form.Encode())
	_, _, err := p.do(ctx, client, r)
	return err
}
