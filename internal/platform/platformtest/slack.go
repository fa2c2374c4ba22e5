package platformtest

import (
	"net/http"
	"strings"

	"github.com/twinme/twinme/internal/platform"
)

// Slack, from docs.slack.dev: reference/methods/oauth.v2.access, auth.test,
// auth.revoke, authentication/using-token-rotation, apis/web-api/rate-limits.
// Web API errors come with HTTP 200 and "ok": false.
func slackDialect() *dialect {
	return &dialect{
		authPath: "/oauth/v2/authorize", tokenPath: "/api/oauth.v2.access",
		revokePath: "/api/auth.revoke", revokeMethod: http.MethodPost,
		apiBase: "/api", identityPath: "/api/auth.test", identityMethods: []string{http.MethodGet, http.MethodPost},
		// HTTP Basic preferred; client_id/client_secret parameters allowed.
		acceptsBasic: true, acceptsPost: true,
		pkce: false, scopeParam: "user_scope",
		codePrefix: "4724469134.", accessPrefix: "xoxp-", refreshPrefix: "xoxe-1-",
		identity: platform.Identity{
			AccountID: "T12345678:W12345678", Username: "grace", DisplayName: "grace (Subarachnoid Workspace)",
			ProfileURL: "https://subarachnoid.slack.com/",
		},
		// Token rotation on: 12 h tokens and xoxe- refresh tokens that are
		// revoked once used. Off: tokens never expire, no refresh token.
		lifetime: func(f *Fake) int64 {
			if f.rotation {
				return 43200
			}
			return 0
		},
		refreshLifetime: constant(0),
		issuesRefresh:   func(f *Fake, _ *codeRec) bool { return f.rotation },
		rotates:         rotationSetting,
		grantedScope:    sameScope,

		// Exchange (user scopes only): no top-level access_token,
		// {"ok":true,"app_id":"A0KRD7HC3","authed_user":{"id":"U1234","scope":"channels:read,users:read",
		//  "access_token":"xoxp-1234","token_type":"user","refresh_token":"xoxe-1-…","expires_in":43200},
		//  "team":{"id":"T9TK3CUKW","name":"Slack Softworks"},"enterprise":null,"is_enterprise_install":false}
		// Refresh: the new pair at top level,
		// {"ok":true,"app_id":"A0KRD7HC3","access_token":"xoxe.xoxp-1-…","token_type":"user","scope":"…",
		//  "refresh_token":"xoxe-1-…","expires_in":43200,"user_id":"U1234","team":{…},"enterprise":null}
		writeToken: func(w http.ResponseWriter, _ *http.Request, t issued) {
			team := map[string]string{"id": "T12345678", "name": "Subarachnoid Workspace"}
			if t.Refreshing {
				body := map[string]any{
					"ok": true, "app_id": "A0KRD7HC3", "access_token": t.Access, "token_type": "user",
					"scope": t.Scope, "user_id": "W12345678", "team": team, "enterprise": nil, "is_enterprise_install": false,
				}
				if t.Refresh != "" {
					body["refresh_token"] = t.Refresh
				}
				if t.ExpiresIn > 0 {
					body["expires_in"] = t.ExpiresIn
				}
				writeJSON(w, 200, body)
				return
			}
			user := map[string]any{"id": "W12345678", "scope": t.Scope, "access_token": t.Access, "token_type": "user"}
			if t.Refresh != "" {
				user["refresh_token"] = t.Refresh
			}
			if t.ExpiresIn > 0 {
				user["expires_in"] = t.ExpiresIn
			}
			writeJSON(w, 200, map[string]any{
				"ok": true, "app_id": "A0KRD7HC3", "authed_user": user, "team": team,
				"enterprise": nil, "is_enterprise_install": false,
			})
		},

		// 200 {"ok":false,"error":"invalid_code"}; documented errors include
		// bad_client_secret, bad_redirect_uri, invalid_client_id,
		// invalid_code, invalid_grant_type; a used or revoked refresh token
		// gets invalid_refresh_token.
		writeTokenError: func(w http.ResponseWriter, _ *http.Request, e tokenErr) {
			code := map[tokenErr]string{
				errBadCode: "invalid_code", errRedirect: "bad_redirect_uri", errPKCE: "invalid_code_verifier",
				errBadRefresh: "invalid_refresh_token", errBadClient: "bad_client_secret",
				errUnsupportedGrant: "invalid_grant_type", errInvalidRequest: "invalid_arguments",
			}[e]
			writeJSON(w, 200, map[string]any{"ok": false, "error": code})
		},

		// 200 {"ok":false,"error":"invalid_auth"} (or token_revoked)
		writeUnauthorized: func(w http.ResponseWriter, revoked bool) {
			code := "invalid_auth"
			if revoked {
				code = "token_revoked"
			}
			writeJSON(w, 200, map[string]any{"ok": false, "error": code})
		},

		// 429 with Retry-After (seconds) and {"ok":false,"error":"ratelimited"}
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			writeJSON(w, 429, map[string]any{"ok": false, "error": "ratelimited"})
		},

		// auth.test → {"ok":true,"url":"https://subarachnoid.slack.com/","team":"Subarachnoid Workspace",
		//  "user":"grace","team_id":"T12345678","user_id":"W12345678"}
		writeIdentity: func(w http.ResponseWriter, id platform.Identity) {
			teamID, userID, _ := strings.Cut(id.AccountID, ":")
			_, team, _ := strings.Cut(id.DisplayName, " (")
			writeJSON(w, 200, map[string]any{
				"ok": true, "url": id.ProfileURL, "team": strings.TrimSuffix(team, ")"),
				"user": id.Username, "team_id": teamID, "user_id": userID,
			})
		},

		// auth.revoke with the token as bearer → {"ok":true,"revoked":true};
		// an unusable token → {"ok":false,"error":"invalid_auth"}.
		revoke: func(f *Fake, w http.ResponseWriter, r *http.Request) {
			tok := bearer(r)
			f.mu.Lock()
			ok := f.accessValidLocked(tok)
			if ok {
				f.revokeLocked(tok)
			}
			f.mu.Unlock()
			if !ok {
				writeJSON(w, 200, map[string]any{"ok": false, "error": "invalid_auth"})
				return
			}
			writeJSON(w, 200, map[string]any{"ok": true, "revoked": true})
		},
	}
}
