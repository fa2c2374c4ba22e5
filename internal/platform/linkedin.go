package platform

import (
	"context"
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

func linkedInProvider() Provider {
	return Provider{
		ID:   LinkedIn,
		Name: "LinkedIn",
		Endpoints: Endpoints{
			AuthURL:    "https://www.linkedin.com/oauth/v2/authorization",
			TokenURL:   "https://www.linkedin.com/oauth/v2/accessToken",
			APIBaseURL: "https://api.linkedin.com/v2",
			// A revoke endpoint is not confirmed in LinkedIn's docs; people
			// remove the app in their LinkedIn settings.
		},
		Scopes: []string{"openid", "profile", "email"},
		// PKCE is not advertised in LinkedIn's OIDC discovery for web apps.
		PKCE: false,
		// Refresh tokens exist only for approved partners, keep a fixed
		// 365-day life and are returned unchanged by a refresh.
		RotatesRefreshTokens: false,
		ExpiringTokens:       true,
		// Access tokens last 60 days (expires_in 5184000).
		DefaultTokenLifetime: 60 * 24 * time.Hour,
		Reads:                []string{"name, email address and profile picture"},
		// Documented: client_id and client_secret in the form body.
		authStyle: oauth2.AuthStyleInParams,
	}
}

// linkedInIdentity reads the OIDC userinfo, GET /v2/userinfo →
// {"sub":"782bbtaQ","name":"John Doe","given_name":"John","family_name":"Doe",
//
//	"picture":"https://media.licdn-ei.com/…","locale":"en-US","email":"doe@email.com","email_verified":true}
//
// sub is pairwise: stable for this app, not a public LinkedIn id.
func linkedInIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var u struct {
		Sub     string `json:"sub"`
		Name    string `json:"name"`
		Email   string `json:"email"`
		Picture string `json:"picture"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/userinfo", token, nil, &u); err != nil {
		return Identity{}, err
	}
	return Identity{AccountID: u.Sub, DisplayName: u.Name, Email: u.Email, AvatarURL: u.Picture}, nil
}
