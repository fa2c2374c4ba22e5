package platformtest

import (
	"net/http"
	"path"
	"strings"

	"github.com/twinme/twinme/internal/platform"
)

// Discord, from discord/discord-api-docs developers/topics/oauth2.mdx,
// rate-limits.mdx and resources/user.mdx, and
// https://discord.com/.well-known/oauth-authorization-server.
func discordDialect() *dialect {
	return &dialect{
		authPath: "/oauth2/authorize", tokenPath: "/api/oauth2/token",
		revokePath: "/api/oauth2/token/revoke", revokeMethod: http.MethodPost,
		apiBase: "/api/v10", identityPath: "/api/v10/users/@me", identityMethods: []string{http.MethodGet},
		// token_endpoint_auth_methods_supported: client_secret_basic, client_secret_post
		acceptsBasic: true, acceptsPost: true,
		// code_challenge_methods_supported: ["S256"]
		pkce: true, requireResponseType: true, scopeParam: "scope",
		codePrefix: "", accessPrefix: "", refreshPrefix: "",
		identity: platform.Identity{
			AccountID: "80351110224678912", Username: "nelly", DisplayName: "Nelly",
			AvatarURL: "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png",
		},
		lifetime:        constant(604800),
		refreshLifetime: constant(0),
		issuesRefresh:   always,
		// Every refresh answer carries a new refresh token; the old one is
		// then refused.
		rotates:      func(*Fake) bool { return true },
		grantedScope: sameScope,

		// {"access_token":"6qrZcUqja7812RVdnEKjpzOL4CvHBFG","token_type":"Bearer","expires_in":604800,
		//  "refresh_token":"D43f5y0ahjqew82jZ4NViEr2YafMKhue","scope":"identify"}
		writeToken: func(w http.ResponseWriter, _ *http.Request, t issued) { oauthToken(w, t, nil) },

		// 400 {"error":"invalid_grant","error_description":"Invalid \"refresh_token\" in request"}
		// 401 {"error":"invalid_client"}
		writeTokenError: func(w http.ResponseWriter, _ *http.Request, e tokenErr) {
			switch e {
			case errBadCode:
				oauthError(w, 400, "invalid_grant", `Invalid "code" in request.`)
			case errRedirect:
				oauthError(w, 400, "invalid_grant", `Invalid "redirect_uri" in request.`)
			case errPKCE:
				oauthError(w, 400, "invalid_grant", `Invalid "code_verifier" in request.`)
			case errBadRefresh:
				oauthError(w, 400, "invalid_grant", `Invalid "refresh_token" in request`)
			case errBadClient:
				oauthError(w, 401, "invalid_client", "")
			case errUnsupportedGrant:
				oauthError(w, 400, "unsupported_grant_type", "")
			default:
				oauthError(w, 400, "invalid_request", "")
			}
		},

		// 401 {"message":"401: Unauthorized","code":0}
		writeUnauthorized: func(w http.ResponseWriter, _ bool) {
			writeJSON(w, 401, map[string]any{"message": "401: Unauthorized", "code": 0})
		},

		// 429, Retry-After header (whole seconds) and
		// {"message":"You are being rate limited.","retry_after":64.57,"global":false}
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			h := w.Header()
			h.Set("X-RateLimit-Limit", "5")
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Reset-After", "6.457")
			h.Set("X-RateLimit-Bucket", "abcd1234")
			h.Set("X-RateLimit-Scope", "user")
			writeJSON(w, 429, map[string]any{"message": "You are being rate limited.", "retry_after": 6.457, "global": false})
		},

		// GET /users/@me → {"id":"80351110224678912","username":"nelly","discriminator":"0",
		//  "global_name":"Nelly","avatar":"8342729096ea3675442027381ff50dfe","mfa_enabled":true,
		//  "locale":"en-US","flags":64,"premium_type":1,"public_flags":64}
		writeIdentity: func(w http.ResponseWriter, id platform.Identity) {
			var avatar any
			if id.AvatarURL != "" {
				avatar = strings.TrimSuffix(path.Base(id.AvatarURL), ".png")
			}
			body := map[string]any{
				"id": id.AccountID, "username": id.Username, "discriminator": "0", "global_name": id.DisplayName,
				"avatar": avatar, "mfa_enabled": true, "locale": "en-US", "flags": 64, "premium_type": 1, "public_flags": 64,
			}
			if id.Email != "" {
				body["email"], body["verified"] = id.Email, true
			}
			writeJSON(w, 200, body)
		},

		// POST /api/oauth2/token/revoke (RFC 7009; form token and
		// token_type_hint, client authentication as at the token endpoint)
		// → 200 {}. Unknown tokens get 200 too, as RFC 7009 says.
		revoke: func(f *Fake, w http.ResponseWriter, r *http.Request) {
			r.ParseForm()
			if _, ok := f.authenticateClient(r); !ok {
				oauthError(w, 401, "invalid_client", "")
				return
			}
			f.mu.Lock()
			f.revokeLocked(r.PostForm.Get("token"))
			f.mu.Unlock()
			writeJSON(w, 200, map[string]any{})
		},
	}
}
