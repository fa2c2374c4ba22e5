package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
)

func retrieveErr(status int, code string) *oauth2.RetrieveError {
	return &oauth2.RetrieveError{Response: &http.Response{StatusCode: status, Header: http.Header{}}, ErrorCode: code}
}

func TestClassifyTokenError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ErrorClass
	}{
		{"nil", nil, Transient},
		{"invalid_grant", retrieveErr(400, "invalid_grant"), Reauth},
		{"github bad_refresh_token with 200", retrieveErr(200, "bad_refresh_token"), Reauth},
		{"github bad_verification_code", retrieveErr(200, "bad_verification_code"), Reauth},
		{"slack invalid_refresh_token", retrieveErr(200, "invalid_refresh_token"), Reauth},
		{"slack token_revoked", retrieveErr(200, "token_revoked"), Reauth},
		{"upper case code", retrieveErr(400, "INVALID_GRANT"), Reauth},
		{"invalid_client 401", retrieveErr(401, "invalid_client"), ClientConfig},
		{"invalid_client 400", retrieveErr(400, "invalid_client"), ClientConfig},
		{"unauthorized_client", retrieveErr(400, "unauthorized_client"), ClientConfig},
		{"github incorrect_client_credentials", retrieveErr(200, "incorrect_client_credentials"), ClientConfig},
		{"redirect_uri_mismatch", retrieveErr(400, "redirect_uri_mismatch"), ClientConfig},
		{"slack bad_client_secret", retrieveErr(200, "bad_client_secret"), ClientConfig},
		{"401 without code", retrieveErr(401, ""), ClientConfig},
		{"503 without code", retrieveErr(503, ""), Transient},
		{"500 server_error", retrieveErr(500, "server_error"), Transient},
		{"429", retrieveErr(429, ""), Transient},
		{"temporarily_unavailable", retrieveErr(503, "temporarily_unavailable"), Transient},
		{"unknown code", retrieveErr(400, "something_new"), Transient},
		{"wrapped retrieve error", fmt.Errorf("connect: %w", retrieveErr(400, "invalid_grant")), Reauth},
		{"deadline", context.DeadlineExceeded, Transient},
		{"canceled", context.Canceled, Transient},
		{"dial error", &url.Error{Op: "Post", URL: "https://x", Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, Transient},
		{"dns error", &net.DNSError{Err: "no such host", Name: "accounts.spotify.com", IsNotFound: true}, Transient},
		{"plain error", errors.New("oauth2: server response missing access_token"), Transient},
		{"TokenError keeps its class", &TokenError{Class: ClientConfig}, ClientConfig},
		{"TokenError inside apperr", apperr.Wrap(&TokenError{Class: Reauth}, apperr.BadUserInput, "x"), Reauth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ClassifyTokenError(tt.err); got != tt.want {
				t.Errorf("ClassifyTokenError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestClassifyAPIError(t *testing.T) {
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	now := time.Date(2026, 7, 1, 20, 0, 0, 0, time.UTC) // 13:00 in Los Angeles (PDT)
	tests := []struct {
		name      string
		p         ID
		status    int
		header    http.Header
		body      string
		wantNil   bool
		kind      APIErrorKind
		code      string
		retryable bool
		retryAt   time.Time
	}{
		{name: "200 ok", p: Spotify, status: 200, body: `{"id":"x"}`, wantNil: true},
		{name: "304 not modified", p: GitHub, status: 304, wantNil: true},
		{name: "slack ok true", p: Slack, status: 200, body: `{"ok":true,"user_id":"U1"}`, wantNil: true},
		{name: "slack invalid_auth with 200", p: Slack, status: 200, body: `{"ok":false,"error":"invalid_auth"}`, kind: APIAuth, code: "invalid_auth"},
		{name: "slack token_revoked with 200", p: Slack, status: 200, body: `{"ok":false,"error":"token_revoked"}`, kind: APIAuth, code: "token_revoked"},
		{name: "slack missing_scope", p: Slack, status: 200, body: `{"ok":false,"error":"missing_scope","needed":"channels:read","provided":"users:read"}`, kind: APIForbidden, code: "missing_scope"},
		{name: "slack 429", p: Slack, status: 429, header: h("Retry-After", "30"), body: `{"ok":false,"error":"ratelimited"}`,
			kind: APIRateLimited, code: "ratelimited", retryable: true, retryAt: now.Add(30 * time.Second)},
		{name: "spotify 401", p: Spotify, status: 401, body: `{"error":{"status":401,"message":"The access token expired"}}`, kind: APIAuth},
		{name: "spotify 429 retry-after", p: Spotify, status: 429, header: h("Retry-After", "12"), body: `{"error":{"status":429,"message":"API rate limit exceeded"}}`,
			kind: APIRateLimited, retryable: true, retryAt: now.Add(12 * time.Second)},
		{name: "spotify dev quota", p: Spotify, status: 429, header: h("Retry-After", "3600"), body: `{"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}`,
			kind: APIRateLimited, code: "QUOTA_EXCEEDED", retryable: true, retryAt: now.Add(time.Hour)},
		{name: "spotify 403", p: Spotify, status: 403, body: `{"error":{"status":403,"message":"Forbidden"}}`, kind: APIForbidden},
		{name: "spotify 502", p: Spotify, status: 502, body: `<html>bad gateway</html>`, kind: APITransient, retryable: true, retryAt: now},
		{name: "youtube quota exceeded waits for midnight pacific", p: YouTube, status: 403,
			body: `{"error":{"code":403,"message":"The request cannot be completed because you have exceeded your quota.","errors":[{"message":"…","domain":"youtube.quota","reason":"quotaExceeded"}]}}`,
			kind: APIQuotaExceeded, code: "quotaExceeded", retryable: true, retryAt: time.Date(2026, 7, 2, 7, 0, 0, 0, time.UTC)},
		{name: "gmail user rate limit", p: Gmail, status: 429,
			body: `{"error":{"code":429,"message":"User-rate limit exceeded","errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded"}]}}`,
			kind: APIRateLimited, code: "userRateLimitExceeded", retryable: true, retryAt: now},
		{name: "gmail 403 rateLimitExceeded", p: Gmail, status: 403,
			body: `{"error":{"code":403,"message":"Rate Limit Exceeded","errors":[{"domain":"usageLimits","reason":"rateLimitExceeded"}]}}`,
			kind: APIRateLimited, code: "rateLimitExceeded", retryable: true, retryAt: now},
		{name: "gmail history id too old", p: Gmail, status: 404, body: `{"error":{"code":404,"message":"Requested entity was not found.","errors":[{"domain":"global","reason":"notFound"}]}}`,
			kind: APINotFound, code: "notFound"},
		{name: "google 401", p: YouTube, status: 401, body: `{"error":{"code":401,"errors":[{"reason":"authError"}]}}`, kind: APIAuth, code: "authError"},
		{name: "google insufficient permissions", p: Gmail, status: 403, body: `{"error":{"code":403,"errors":[{"reason":"insufficientPermissions"}]}}`, kind: APIForbidden, code: "insufficientPermissions"},
		{name: "github primary limit waits until reset", p: GitHub, status: 403,
			header: h("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "1782939600"),
			body:   `{"message":"API rate limit exceeded for user ID 1."}`,
			kind:   APIRateLimited, retryable: true, retryAt: time.Unix(1782939600, 0)},
		{name: "github secondary limit with retry-after", p: GitHub, status: 403, header: h("Retry-After", "90"),
			body: `{"message":"You have exceeded a secondary rate limit."}`, kind: APIRateLimited, retryable: true, retryAt: now.Add(90 * time.Second)},
		{name: "github secondary limit without retry-after", p: GitHub, status: 403,
			body: `{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}`,
			kind: APIRateLimited, retryable: true, retryAt: now.Add(time.Minute)},
		{name: "github 403 forbidden", p: GitHub, status: 403, header: h("X-Ratelimit-Remaining", "4999"),
			body: `{"message":"Resource not accessible by integration"}`, kind: APIForbidden},
		{name: "github 401", p: GitHub, status: 401, body: `{"message":"Bad credentials"}`, kind: APIAuth},
		{name: "discord 429 body retry_after", p: Discord, status: 429, header: h("Retry-After", "65"),
			body: `{"message":"You are being rate limited.","retry_after":64.57,"global":false}`,
			kind: APIRateLimited, retryable: true, retryAt: now.Add(64570 * time.Millisecond)},
		{name: "discord 401", p: Discord, status: 401, body: `{"message":"401: Unauthorized","code":0}`, kind: APIAuth},
		{name: "linkedin 401", p: LinkedIn, status: 401, body: `{"serviceErrorCode":65600,"message":"Invalid access token","status":401}`, kind: APIAuth, code: "65600"},
		{name: "linkedin daily limit resets at midnight UTC", p: LinkedIn, status: 429,
			body: `{"status":429,"serviceErrorCode":101,"message":"Resource level throttle APPLICATION DAY limit for calls to this resource is reached."}`,
			kind: APIQuotaExceeded, code: "101", retryable: true, retryAt: time.Date(2026, 7, 2, 0, 0, 0, 0, time.UTC)},
		{name: "retry-after as HTTP date", p: Spotify, status: 503, header: h("Retry-After", "Wed, 01 Jul 2026 20:05:00 GMT"),
			kind: APITransient, retryable: true, retryAt: now.Add(5 * time.Minute)},
		{name: "400 bad request", p: Spotify, status: 400, body: `{"error":{"status":400,"message":"Invalid limit"}}`, kind: APIBadRequest},
		{name: "nil header", p: GitHub, status: 500, header: nil, kind: APITransient, retryable: true, retryAt: now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ClassifyAPIError(tt.p, tt.status, tt.header, []byte(tt.body))
			if tt.wantNil {
				if got != nil {
					t.Fatalf("got %v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatal("got nil, want an error")
			}
			if got.Kind != tt.kind {
				t.Errorf("kind = %v, want %v", got.Kind, tt.kind)
			}
			if got.Code != tt.code {
				t.Errorf("code = %q, want %q", got.Code, tt.code)
			}
			if got.Retryable() != tt.retryable {
				t.Errorf("retryable = %v, want %v", got.Retryable(), tt.retryable)
			}
			if at := got.RetryAt(now); !at.Equal(tt.retryAt) {
				t.Errorf("RetryAt = %v, want %v", at, tt.retryAt)
			}
			if got.Platform != tt.p || got.Error() == "" {
				t.Errorf("platform %q, message %q", got.Platform, got.Error())
			}
		})
	}
}

func TestQuotaResetAcrossDST(t *testing.T) {
	e := ClassifyAPIError(YouTube, 403, nil, []byte(`{"error":{"errors":[{"reason":"quotaExceeded"}]}}`))
	// 2026-01-15 10:00 UTC is 02:00 PST; the next reset is 08:00 UTC.
	if got, want := e.RetryAt(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)), time.Date(2026, 1, 16, 8, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("winter RetryAt = %v, want %v", got, want)
	}
}
