package platformtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinme/twinme/internal/platform"
)

// GitHub, from docs.github.com: authorizing-oauth-apps,
// refreshing-user-access-tokens, troubleshooting token request errors, the
// users and oauth-applications REST references.
func gitHubDialect() *dialect {
	d := &dialect{
		authPath: "/login/oauth/authorize", tokenPath: "/login/oauth/access_token",
		revokePath: "/applications/{client_id}/grant", revokeMethod: http.MethodDelete,
		apiBase: "", identityPath: "/user", identityMethods: []string{http.MethodGet},
		// client_id and client_secret as parameters.
		acceptsPost: true,
		pkce:        true, scopeParam: "scope",
		codePrefix: "", accessPrefix: "gho_", refreshPrefix: "ghr_",
		killsAccessOnRotation: true,
		identity: platform.Identity{
			AccountID: "583231", Username: "octocat", DisplayName: "The Octocat",
			AvatarURL:  "https://avatars.githubusercontent.com/u/583231?v=4",
			ProfileURL: "https://github.com/octocat",
		},
		// WithRotation(true) is a GitHub App (or an OAuth app that opted in
		// to expiring tokens): 8 h access tokens, 6 month refresh tokens
		// that rotate. Otherwise an OAuth app: no expiry, no refresh token.
		lifetime: func(f *Fake) int64 {
			if f.rotation {
				return 28800
			}
			return 0
		},
		refreshLifetime: func(f *Fake) int64 {
			if f.rotation {
				return 15811200
			}
			return 0
		},
		issuesRefresh: func(f *Fake, _ *codeRec) bool { return f.rotation },
		rotates:       rotationSetting,
		grantedScope:  spaceToComma,

		// 401 {"message":"Bad credentials","documentation_url":"https://docs.github.com/rest","status":"401"}
		writeUnauthorized: func(w http.ResponseWriter, _ bool) {
			writeJSON(w, 401, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest", "status": "401"})
		},

		// Secondary rate limit: 429 with retry-after and
		// {"message":"You have exceeded a secondary rate limit. …","documentation_url":"…"}
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			writeJSON(w, 429, map[string]string{
				"message":           "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
				"documentation_url": "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits",
			})
		},

		// GET /user → {"login":"octocat","id":583231,"node_id":"MDQ6VXNlcjU4MzIzMQ==",
		//  "avatar_url":"https://avatars.githubusercontent.com/u/583231?v=4","html_url":"https://github.com/octocat",
		//  "type":"User","site_admin":false,"name":"The Octocat","company":"@github","blog":"https://github.blog",
		//  "location":"San Francisco","email":null,"bio":null,"public_repos":8,"followers":9000,"following":9,
		//  "created_at":"2011-01-25T18:44:36Z","updated_at":"2024-01-22T12:00:00Z"}
		writeIdentity: func(w http.ResponseWriter, id platform.Identity) {
			numeric, _ := strconv.ParseInt(id.AccountID, 10, 64)
			var email any
			if id.Email != "" {
				email = id.Email
			}
			writeJSON(w, 200, map[string]any{
				"login": id.Username, "id": numeric, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
				"avatar_url": id.AvatarURL, "html_url": id.ProfileURL, "url": "https://api.github.com/users/" + id.Username,
				"type": "User", "site_admin": false, "name": id.DisplayName, "company": "@github",
				"blog": "https://github.blog", "location": "San Francisco", "email": email, "bio": nil,
				"public_repos": 8, "followers": 9000, "following": 9,
				"created_at": "2011-01-25T18:44:36Z", "updated_at": "2024-01-22T12:00:00Z",
			})
		},
	}

	// Without "Accept: application/json" GitHub answers form-encoded:
	//   access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&scope=repo%2Cgist&token_type=bearer
	// with it: {"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","scope":"repo,gist","token_type":"bearer"}
	// GitHub App user tokens add "expires_in":28800,"refresh_token":"ghr_…","refresh_token_expires_in":15811200.
	d.writeToken = func(w http.ResponseWriter, r *http.Request, t issued) {
		v := url.Values{"access_token": {t.Access}, "scope": {t.Scope}, "token_type": {"bearer"}}
		if t.ExpiresIn > 0 {
			v.Set("expires_in", strconv.FormatInt(t.ExpiresIn, 10))
		}
		if t.Refresh != "" {
			v.Set("refresh_token", t.Refresh)
			v.Set("refresh_token_expires_in", strconv.FormatInt(t.RefreshExpiresIn, 10))
		}
		gitHubReply(w, r, v)
	}

	// Errors come with HTTP 200:
	// {"error":"bad_verification_code","error_description":"The code passed is incorrect or expired.",
	//  "error_uri":"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code"}
	// also incorrect_client_credentials, redirect_uri_mismatch, bad_refresh_token.
	d.writeTokenError = func(w http.ResponseWriter, r *http.Request, e tokenErr) {
		code, desc := "", ""
		switch e {
		case errBadCode:
			code, desc = "bad_verification_code", "The code passed is incorrect or expired."
		case errRedirect:
			code, desc = "redirect_uri_mismatch", "The redirect_uri MUST match the registered callback URL for this application."
		case errPKCE:
			// GitHub does not document its PKCE failure; assumed to look
			// like any other bad code.
			code, desc = "bad_verification_code", "The code_verifier does not match the code_challenge."
		case errBadRefresh:
			code, desc = "bad_refresh_token", "The refresh token passed is incorrect or expired."
		case errBadClient:
			code, desc = "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."
		case errUnsupportedGrant:
			code, desc = "unsupported_grant_type", "The grant type is not supported."
		default:
			code, desc = "invalid_request", "The request is missing a required parameter."
		}
		gitHubReply(w, r, url.Values{
			"error": {code}, "error_description": {desc},
			"error_uri": {"https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#" + strings.ReplaceAll(code, "_", "-")},
		})
	}

	// DELETE /applications/{client_id}/grant, Basic client_id:client_secret,
	// body {"access_token":"…"} → 204 No Content. Wrong app credentials or
	// an unknown token → 404 {"message":"Not Found",…}.
	d.revoke = func(f *Fake, w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		if !ok || id != f.ClientID || secret != f.ClientSecret || r.PathValue("client_id") != f.ClientID {
			gitHubNotFound(w)
			return
		}
		var body struct {
			AccessToken string `json:"access_token"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.AccessToken == "" {
			writeJSON(w, 422, map[string]string{"message": "Invalid request.\n\n\"access_token\" wasn't supplied.", "documentation_url": "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization", "status": "422"})
			return
		}
		f.mu.Lock()
		found := f.revokeLocked(body.AccessToken)
		f.mu.Unlock()
		if !found {
			gitHubNotFound(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	return d
}

func gitHubReply(w http.ResponseWriter, r *http.Request, v url.Values) {
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		body := map[string]any{}
		for k := range v {
			val := v.Get(k)
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && strings.HasSuffix(k, "expires_in") {
				body[k] = n
			} else {
				body[k] = val
			}
		}
		writeJSON(w, 200, body)
		return
	}
	w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	w.WriteHeader(200)
	fmt.Fprint(w, v.Encode())
}

func gitHubNotFound(w http.ResponseWriter) {
	writeJSON(w, 404, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/apps/oauth-applications#delete-an-app-authorization", "status": "404"})
}
