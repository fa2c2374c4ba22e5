package platformtest

import (
	"net/http"

	"github.com/twinme/twinme/internal/platform"
)

// Spotify, from developer.spotify.com/documentation/web-api (authorization
// code flow with PKCE, refreshing tokens, /me reference, error object).
func spotifyDialect() *dialect {
	return &dialect{
		authPath: "/authorize", tokenPath: "/api/token", apiBase: "/v1",
		identityPath: "/v1/me", identityMethods: []string{http.MethodGet},
		// Confidential clients authenticate with Authorization: Basic.
		acceptsBasic: true,
		pkce:         true, requireResponseType: true, scopeParam: "scope",
		codePrefix: "AQD", accessPrefix: "BQA", refreshPrefix: "AQC",
		identity: platform.Identity{
			AccountID: "wizzler", Username: "wizzler", DisplayName: "JM Wizzler",
			AvatarURL:  "https://i.scdn.co/image/ab6775700000ee85a4f2b1c3d5e6f708192a3b4c",
			ProfileURL: "https://open.spotify.com/user/wizzler",
		},
		lifetime:        constant(3600),
		refreshLifetime: constant(0),
		issuesRefresh:   always,
		// "A new refresh token might be returned too": the fake returns
		// one (and retires the old) only with WithRotation(true).
		rotates:      rotationSetting,
		grantedScope: sameScope,

		// {"access_token":"NgCXRK…MzYjw","token_type":"Bearer","scope":"user-read-private user-read-email",
		//  "expires_in":3600,"refresh_token":"NgAagA…Um_SHo"}
		writeToken: func(w http.ResponseWriter, _ *http.Request, t issued) { oauthToken(w, t, nil) },

		// 400 {"error":"invalid_grant","error_description":"Invalid authorization code"},
		// 400 {"error":"invalid_client","error_description":"Invalid client secret"}
		writeTokenError: func(w http.ResponseWriter, _ *http.Request, e tokenErr) {
			switch e {
			case errBadCode:
				oauthError(w, 400, "invalid_grant", "Invalid authorization code")
			case errRedirect:
				oauthError(w, 400, "invalid_grant", "Invalid redirect URI")
			case errPKCE:
				oauthError(w, 400, "invalid_grant", "code_verifier was incorrect")
			case errBadRefresh:
				oauthError(w, 400, "invalid_grant", "Refresh token revoked")
			case errBadClient:
				oauthError(w, 400, "invalid_client", "Invalid client secret")
			case errUnsupportedGrant:
				oauthError(w, 400, "unsupported_grant_type", "grant_type parameter is missing")
			default:
				oauthError(w, 400, "invalid_request", "")
			}
		},

		// 401 {"error":{"status":401,"message":"Invalid access token"}}
		writeUnauthorized: func(w http.ResponseWriter, revoked bool) {
			msg := "Invalid access token"
			if revoked {
				msg = "The access token expired"
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="spotify", error="invalid_token", error_description="`+msg+`"`)
			writeJSON(w, 401, map[string]any{"error": map[string]any{"status": 401, "message": msg}})
		},

		// GET /me → {"display_name":"JM Wizzler","external_urls":{"spotify":"https://open.spotify.com/user/wizzler"},
		//  "followers":{"href":null,"total":3829},"href":"https://api.spotify.com/v1/users/wizzler","id":"wizzler",
		//  "images":[{"height":300,"url":"https://i.scdn.co/image/…","width":300}],"type":"user","uri":"spotify:user:wizzler"}
		writeIdentity: func(w http.ResponseWriter, id platform.Identity) {
			images := []any{}
			if id.AvatarURL != "" {
				images = append(images, map[string]any{"url": id.AvatarURL, "height": 300, "width": 300})
			}
			body := map[string]any{
				"display_name":  id.DisplayName,
				"external_urls": map[string]string{"spotify": id.ProfileURL},
				"followers":     map[string]any{"href": nil, "total": 3829},
				"href":          "https://api.spotify.com/v1/users/" + id.AccountID,
				"id":            id.AccountID,
				"images":        images,
				"type":          "user",
				"uri":           "spotify:user:" + id.AccountID,
			}
			if id.Email != "" {
				body["email"] = id.Email
			}
			writeJSON(w, 200, body)
		},

		// 429 with Retry-After (seconds) and the regular error object.
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			writeJSON(w, 429, map[string]any{"error": map[string]any{"status": 429, "message": "API rate limit exceeded"}})
		},
	}
}
