package platformtest

import (
	"net/http"

	"github.com/twinme/twinme/internal/platform"
)

// Google's OAuth server, shared by YouTube and Gmail, from
// developers.google.com/identity/protocols/oauth2/web-server and the
// discovery document at accounts.google.com/.well-known/openid-configuration.
func googleDialect(apiBase string) *dialect {
	return &dialect{
		authPath: "/o/oauth2/v2/auth", tokenPath: "/token",
		revokePath: "/revoke", revokeMethod: http.MethodPost,
		apiBase: apiBase,
		// token_endpoint_auth_methods_supported: client_secret_post, client_secret_basic
		acceptsBasic: true, acceptsPost: true,
		pkce: true, requireResponseType: true, scopeParam: "scope",
		codePrefix: "4/0A", accessPrefix: "ya29.", refreshPrefix: "1//0g",
		lifetime:        constant(3599),
		refreshLifetime: constant(0),
		// A refresh token only with access_type=offline, and only on the
		// first consent unless prompt=consent asks again.
		issuesRefresh: func(f *Fake, c *codeRec) bool {
			if !c.offline || (f.consented && !c.consent) {
				return false
			}
			f.consented = true
			return true
		},
		// Google never rotates: the refresh answer has no refresh_token.
		rotates:      never,
		grantedScope: sameScope,

		// {"access_token":"1/fFAGRNJru1FTz70BzhT3Zg","expires_in":3920,"token_type":"Bearer",
		//  "scope":"https://www.googleapis.com/auth/youtube.readonly","refresh_token":"1//xEoDL4iW3cxlI7yDbSRFYNG01kVKM2C-259HOF2aQbI"}
		writeToken: func(w http.ResponseWriter, _ *http.Request, t issued) { oauthToken(w, t, nil) },

		// 400 {"error":"invalid_grant","error_description":"Token has been expired or revoked."},
		// 400 {"error":"redirect_uri_mismatch","error_description":"Bad Request"},
		// 401 {"error":"invalid_client","error_description":"Unauthorized"}
		writeTokenError: func(w http.ResponseWriter, _ *http.Request, e tokenErr) {
			switch e {
			case errBadCode:
				oauthError(w, 400, "invalid_grant", "Bad Request")
			case errRedirect:
				oauthError(w, 400, "redirect_uri_mismatch", "Bad Request")
			case errPKCE:
				oauthError(w, 400, "invalid_grant", "Invalid code verifier.")
			case errBadRefresh:
				oauthError(w, 400, "invalid_grant", "Token has been expired or revoked.")
			case errBadClient:
				oauthError(w, 401, "invalid_client", "Unauthorized")
			case errUnsupportedGrant:
				oauthError(w, 400, "unsupported_grant_type", "Invalid grant_type: ")
			default:
				oauthError(w, 400, "invalid_request", "Required parameter is missing: grant_type")
			}
		},

		// 401 {"error":{"code":401,"message":"Request had invalid authentication credentials. …",
		//  "errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError",
		//  "location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}
		writeUnauthorized: func(w http.ResponseWriter, _ bool) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="https://accounts.google.com/", error="invalid_token"`)
			writeJSON(w, 401, googleError(401, "UNAUTHENTICATED", "global", "authError",
				"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."))
		},

		// 429 {"error":{"code":429,"message":"…","errors":[{"domain":"global","reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			writeJSON(w, 429, googleError(429, "RESOURCE_EXHAUSTED", "global", "rateLimitExceeded", "Too many concurrent requests for user."))
		},

		// POST /revoke (form token=…) → 200; a token already gone →
		// 400 {"error":"invalid_token","error_description":"Token expired or revoked"}.
		// Revoking either token ends the whole grant.
		revoke: func(f *Fake, w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			f.mu.Lock()
			ok := f.revokeLocked(r.Form.Get("token"))
			f.mu.Unlock()
			if !ok {
				oauthError(w, 400, "invalid_token", "Token expired or revoked")
				return
			}
			writeJSON(w, 200, map[string]any{})
		},
	}
}

func googleError(code int, status, domain, reason, message string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code": code, "message": message, "status": status,
		"errors": []any{map[string]any{"message": message, "domain": domain, "reason": reason}},
	}}
}

func youTubeDialect() *dialect {
	d := googleDialect("/youtube/v3")
	d.identityPath, d.identityMethods = "/youtube/v3/channels", []string{http.MethodGet}
	d.identity = platform.Identity{
		AccountID: "UC_x5XG1OV2P6uZZ5FSM9Ttw", Username: "@googledevelopers", DisplayName: "Google for Developers",
		AvatarURL:  "https://yt3.ggpht.com/ytc/AIdro_default=s88-c-k-c0x00ffffff-no-rj",
		ProfileURL: "https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw",
	}
	// GET /channels?part=snippet&mine=true →
	// {"kind":"youtube#channelListResponse","etag":"…","pageInfo":{"totalResults":1,"resultsPerPage":5},
	//  "items":[{"kind":"youtube#channel","etag":"…","id":"UC_x5XG1OV2P6uZZ5FSM9Ttw",
	//  "snippet":{"title":"Google for Developers","description":"…","customUrl":"@googledevelopers",
	//  "publishedAt":"2007-08-23T00:34:43Z","thumbnails":{"default":{"url":"…","width":88,"height":88}}}}]}
	// An account without a channel gets "items": [] (identity WithIdentity(platform.Identity{})).
	d.writeIdentity = func(w http.ResponseWriter, id platform.Identity) {
		items := []any{}
		if id.AccountID != "" {
			items = append(items, map[string]any{
				"kind": "youtube#channel", "etag": "Xc1b3h9v", "id": id.AccountID,
				"snippet": map[string]any{
					"title": id.DisplayName, "description": "", "customUrl": id.Username,
					"publishedAt": "2007-08-23T00:34:43Z",
					"thumbnails":  map[string]any{"default": map[string]any{"url": id.AvatarURL, "width": 88, "height": 88}},
				},
			})
		}
		writeJSON(w, 200, map[string]any{
			"kind": "youtube#channelListResponse", "etag": "pWPDqLq",
			"pageInfo": map[string]any{"totalResults": len(items), "resultsPerPage": 5},
			"items":    items,
		})
	}
	return d
}

func gmailDialect() *dialect {
	d := googleDialect("/gmail/v1")
	d.identityPath, d.identityMethods = "/gmail/v1/users/me/profile", []string{http.MethodGet}
	d.identity = platform.Identity{AccountID: "ada@example.com", Username: "ada@example.com", DisplayName: "ada@example.com", Email: "ada@example.com"}
	// GET /users/me/profile → {"emailAddress":"…","messagesTotal":…,"threadsTotal":…,"historyId":"…"}
	d.writeIdentity = func(w http.ResponseWriter, id platform.Identity) {
		writeJSON(w, 200, map[string]any{
			"emailAddress": id.Email, "messagesTotal": 18342, "threadsTotal": 12001, "historyId": "4409823",
		})
	}
	return d
}
