package platformtest

import (
	"net/http"

	"github.com/twinme/twinme/internal/platform"
)

// LinkedIn, from learn.microsoft.com/linkedin: authorization-code-flow,
// programmatic-refresh-tokens, sign-in-with-linkedin-v2, error-handling.
func linkedInDialect() *dialect {
	return &dialect{
		authPath: "/oauth/v2/authorization", tokenPath: "/oauth/v2/accessToken",
		apiBase: "/v2", identityPath: "/v2/userinfo", identityMethods: []string{http.MethodGet},
		// client_id and client_secret in the form body.
		acceptsPost: true,
		pkce:        false, requireResponseType: true, scopeParam: "scope",
		codePrefix: "AQT", accessPrefix: "AQU", refreshPrefix: "AQW",
		// Refresh answers repeat the same refresh token, whose 365-day life
		// is not extended.
		repeatsRefresh: true,
		identity: platform.Identity{
			AccountID: "782bbtaQ", DisplayName: "John Doe", Email: "doe@email.com",
			AvatarURL: "https://media.licdn-ei.com/dms/image/C5F03AQHqK8v7tB1HCQ/profile-displayphoto-shrink_100_100/0/",
		},
		lifetime:        constant(5184000),
		refreshLifetime: constant(31536000),
		// Refresh tokens exist only for approved partner apps; the fake
		// behaves like one.
		issuesRefresh: always,
		rotates:       never,
		grantedScope:  spaceToComma,

		// {"access_token":"AQUvlL_DYEzvT2wz1QJiEPeLioeA","expires_in":5184000,
		//  "refresh_token":"AQWAft_WjYZKwuWXLC5hQlghgTam-tuT8CvFej9-XxGyqeER_7jTr8HmjiGjqil13i7gMFjyDxh1g7C_G1gyTZmfcD0Bo2oEHofNAkr_76mSk84sppsGbygwW-5oLsb_OH_EXADPIFo0kppznrK55VMIBv_d7SINunt-7DtXCRAv0YnET5KroQOlmAhc1_HwW68EZniFw1YnB2dgDSxCkXnrfHYq7h63w0hjFXmgrdxeeAuOHBHnFFYHOWWjI8sLenBi",
		//  "refresh_token_expires_in":525600,"scope":"email,openid,profile","token_type":"Bearer","id_token":"…"}
		writeToken: func(w http.ResponseWriter, _ *http.Request, t issued) {
			extra := map[string]any{}
			if t.RefreshExpiresIn > 0 && t.Refresh != "" {
				extra["refresh_token_expires_in"] = t.RefreshExpiresIn
			}
			oauthToken(w, t, extra)
		},

		// {"error":"invalid_grant","error_description":"…"} (the exact
		// wording is not documented), 401 invalid_client.
		writeTokenError: func(w http.ResponseWriter, _ *http.Request, e tokenErr) {
			switch e {
			case errBadCode, errRedirect, errPKCE:
				oauthError(w, 400, "invalid_grant", "The provided authorization grant is invalid, expired or revoked")
			case errBadRefresh:
				oauthError(w, 400, "invalid_grant", "The provided refresh token is invalid, expired or revoked")
			case errBadClient:
				oauthError(w, 401, "invalid_client", "Client authentication failed")
			case errUnsupportedGrant:
				oauthError(w, 400, "unsupported_grant_type", "")
			default:
				oauthError(w, 400, "invalid_request", "A required parameter \"grant_type\" is missing")
			}
		},

		// 401 {"serviceErrorCode":65600,"message":"Invalid access token","status":401}
		// (65601 "The token used in the request has been revoked by the user")
		writeUnauthorized: func(w http.ResponseWriter, revoked bool) {
			code, msg := 65600, "Invalid access token"
			if revoked {
				code, msg = 65601, "The token used in the request has been revoked by the user"
			}
			writeJSON(w, 401, map[string]any{"serviceErrorCode": code, "message": msg, "status": 401})
		},

		// 429 {"status":429,"serviceErrorCode":101,"code":"TOO_MANY_REQUESTS",
		//  "message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}
		write429: func(w http.ResponseWriter) {
			retryAfter(w)
			writeJSON(w, 429, map[string]any{"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS",
				"message": "Resource level throttle APPLICATION DAY limit for calls to this resource is reached."})
		},

		// GET /v2/userinfo → {"sub":"782bbtaQ","email_verified":true,"name":"John Doe",
		//  "locale":{"country":"US","language":"en"},"given_name":"John","family_name":"Doe",
		//  "email":"doe@email.com","picture":"https://media.licdn-ei.com/dms/image/…"}
		writeIdentity: func(w http.ResponseWriter, id platform.Identity) {
			writeJSON(w, 200, map[string]any{
				"sub": id.AccountID, "email_verified": true, "name": id.DisplayName,
				"locale":     map[string]string{"country": "US", "language": "en"},
				"given_name": "John", "family_name": "Doe", "email": id.Email, "picture": id.AvatarURL,
			})
		},
	}
}
