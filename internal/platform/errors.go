package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // quota resets are at midnight Pacific time, also in containers without tzdata

	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/apperr"
)

var (
	_ error = (*TokenError)(nil)
	_ error = (*APIError)(nil)
)

// ErrorClass says what a failed token request means for a connection.
type ErrorClass int

const (
	// Transient: try again later (network error, timeout, 5xx, 429, or
	// anything not recognised). Never marks a connection dead.
	Transient ErrorClass = iota
	// Reauth: the grant is gone (invalid_grant, bad_refresh_token,
	// token_revoked …); the person must connect again.
	Reauth
	// ClientConfig: our client id, secret or redirect URI is wrong; an
	// operator must fix configuration. Retrying will not help.
	ClientConfig
)

func (c ErrorClass) String() string {
	switch c {
	case Reauth:
		return "reauth"
	case ClientConfig:
		return "client_config"
	default:
		return "transient"
	}
}

// TokenError is what Exchange and Refresh return on failure, inside an
// apperr.Error. It wraps the *oauth2.RetrieveError or network error.
type TokenError struct {
	Platform ID
	// Op is "exchange" or "refresh".
	Op          string
	Class       ErrorClass
	Code        string // the provider's error code, e.g. invalid_grant
	Description string
	StatusCode  int // 0 when no HTTP response arrived
	RetryAfter  time.Duration
	Err         error
}

func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "platform: %s %s failed (%s)", e.Platform, e.Op, e.Class)
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
		if e.Description != "" {
			fmt.Fprintf(&b, " (%s)", e.Description)
		}
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ", HTTP %d", e.StatusCode)
	}
	if e.Err != nil && e.Code == "" {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	return b.String()
}

func (e *TokenError) Unwrap() error { return e.Err }

var reauthCodes = map[string]bool{
	"invalid_grant":         true, // RFC 6749: expired, revoked, used or mismatched grant
	"bad_refresh_token":     true, // GitHub
	"bad_verification_code": true, // GitHub: code wrong or expired
	"invalid_refresh_token": true, // Slack
	"invalid_code":          true, // Slack
	"code_already_used":     true, // Slack
	"token_revoked":         true, // Slack
	"token_expired":         true, // Slack
	"invalid_auth":          true, // Slack
	"account_inactive":      true, // Slack
	"invalid_token":         true, // RFC 6750 / Google revoke
	"access_denied":         true, // the person declined
	"missing_refresh_token": true, // nothing stored to refresh with
}

var clientConfigCodes = map[string]bool{
	"invalid_client":                   true,
	"unauthorized_client":              true,
	"incorrect_client_credentials":     true, // GitHub
	"redirect_uri_mismatch":            true, // GitHub, Google
	"unsupported_grant_type":           true,
	"invalid_scope":                    true,
	"invalid_request":                  true, // our request is malformed
	"bad_client_secret":                true, // Slack
	"invalid_client_id":                true, // Slack
	"bad_redirect_uri":                 true, // Slack
	"invalid_grant_type":               true, // Slack
	"oauth_authorization_url_mismatch": true, // Slack: v1 authorize URL with v2 token call
	"missing_user_token":               true, // Slack app asked for no user scopes
}

// ClassifyTokenError decides what a token failure means. Unknown errors are
// Transient, so a surprise never marks a connection dead.
func ClassifyTokenError(err error) ErrorClass {
	if err == nil {
		return Transient
	}
	var te *TokenError
	if errors.As(err, &te) {
		return te.Class
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		return classifyToken(re.ErrorCode, status)
	}
	return Transient
}

func classifyToken(code string, status int) ErrorClass {
	code = strings.ToLower(strings.TrimSpace(code))
	switch {
	case reauthCodes[code]:
		return Reauth
	case clientConfigCodes[code]:
		return ClientConfig
	case code == "" && status == http.StatusUnauthorized:
		// RFC 6749 §5.2: a token endpoint answers 401 when client
		// authentication fails.
		return ClientConfig
	default:
		return Transient
	}
}

// tokenError turns an x/oauth2 or transport error into a classified
// TokenError inside an apperr.
func (p Provider) tokenError(op string, err error) error {
	te := &TokenError{Platform: p.ID, Op: op, Err: err}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te.Code = re.ErrorCode
		te.Description = re.ErrorDescription
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
			te.RetryAfter, _ = parseRetryAfter(re.Response.Header.Get("Retry-After"))
		}
		if te.Code == "" && te.StatusCode >= 300 {
			te.Code = genericCode(te.StatusCode)
			te.Class = classifyToken("", te.StatusCode)
		} else {
			te.Class = classifyToken(te.Code, te.StatusCode)
		}
	} else {
		te.Class = Transient
	}
	return p.wrapTokenError(te)
}

func genericCode(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return "rate_limited"
	case status >= 500:
		return "server_error"
	case status == http.StatusUnauthorized:
		return "unauthorized"
	default:
		return ""
	}
}

// wrapTokenError gives the error a client-safe message and code; the
// TokenError stays reachable with errors.As.
func (p Provider) wrapTokenError(te *TokenError) error {
	switch te.Class {
	case Reauth:
		return apperr.Wrap(te, apperr.BadUserInput, "%s did not accept the authorization; connect %s again", p.Name, p.Name)
	case ClientConfig:
		return apperr.Wrap(te, apperr.NotConfigured, "%s is not configured correctly on this server", p.Name)
	default:
		if te.StatusCode == http.StatusTooManyRequests {
			return apperr.Wrap(te, apperr.RateLimited, "%s is rate limiting requests; try again later", p.Name)
		}
		return apperr.Wrap(te, apperr.Internal, "%s could not be reached; try again later", p.Name)
	}
}

// APIErrorKind says what a failed API call means for polling.
type APIErrorKind int

const (
	// APITransient: a server error or timeout; retry with backoff.
	APITransient APIErrorKind = iota
	// APIAuth: the access token was rejected; refresh it (and if that
	// fails with Reauth, the person must connect again).
	APIAuth
	// APIForbidden: the token lacks a scope or the account lacks access;
	// retrying will not help.
	APIForbidden
	// APINotFound: the resource is gone (Gmail: history id too old, do a
	// full sync).
	APINotFound
	// APIRateLimited: wait until RetryAt, then retry.
	APIRateLimited
	// APIQuotaExceeded: a daily quota is used up; nothing works until it
	// resets (RetryAt).
	APIQuotaExceeded
	// APIBadRequest: our request is wrong; retrying will not help.
	APIBadRequest
)

func (k APIErrorKind) String() string {
	return [...]string{"transient", "auth", "forbidden", "not_found", "rate_limited", "quota_exceeded", "bad_request"}[k]
}

// APIError is a classified failure of a platform REST call.
type APIError struct {
	Platform   ID
	Kind       APIErrorKind
	StatusCode int
	// Code is the provider's machine-readable reason when it gives one
	// (Google reason, Slack error, Spotify reason, Discord code).
	Code    string
	Message string
	// RetryAfter is the wait the provider asked for (Retry-After header,
	// Discord's retry_after).
	RetryAfter time.Duration
	// ResetAt is an absolute time the limit resets (GitHub
	// x-ratelimit-reset, Retry-After as HTTP date).
	ResetAt time.Time
	// dailyReset is the time zone whose midnight resets a daily quota.
	dailyReset *time.Location
}

func (e *APIError) Error() string {
	s := fmt.Sprintf("platform: %s API %s", e.Platform, e.Kind)
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d", e.StatusCode)
		if e.Code != "" {
			s += " " + e.Code
		}
		s += ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Retryable reports whether the same call can succeed later without anyone
// changing anything.
func (e *APIError) Retryable() bool {
	switch e.Kind {
	case APITransient, APIRateLimited, APIQuotaExceeded:
		return true
	}
	return false
}

// RetryAt is the earliest time worth retrying: the reset time or wait the
// provider gave, the next daily reset for an exhausted quota, or now when
// the provider gave nothing (apply your own backoff). Zero when the error is
// not retryable.
func (e *APIError) RetryAt(now time.Time) time.Time {
	if !e.Retryable() {
		return time.Time{}
	}
	if !e.ResetAt.IsZero() {
		return e.ResetAt
	}
	if e.RetryAfter > 0 {
		return now.Add(e.RetryAfter)
	}
	if e.Kind == APIQuotaExceeded && e.dailyReset != nil {
		return nextMidnight(now, e.dailyReset)
	}
	return now
}

func nextMidnight(now time.Time, loc *time.Location) time.Time {
	t := now.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
}

var pacific = func() *time.Location {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		return time.FixedZone("PST", -8*3600)
	}
	return loc
}()

// ClassifyAPIError classifies a platform API response. It returns nil when
// the response is a success (Slack: HTTP 200 with "ok": true). It is pure:
// times come from the headers and body only.
func ClassifyAPIError(p ID, status int, header http.Header, body []byte) *APIError {
	if header == nil {
		header = http.Header{}
	}
	if p == Slack && status >= 200 && status < 300 {
		var sr struct {
			OK    *bool  `json:"ok"`
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &sr) != nil || sr.OK == nil || *sr.OK {
			return nil
		}
		return &APIError{Platform: p, Kind: slackErrorKind(sr.Error), StatusCode: status, Code: sr.Error, Message: sr.Error}
	}
	if status >= 200 && status < 400 {
		return nil
	}

	e := &APIError{Platform: p, StatusCode: status}
	e.Code, e.Message = apiErrorDetail(p, body)
	e.RetryAfter, e.ResetAt = parseRetryAfter(header.Get("Retry-After"))

	switch {
	case status == http.StatusUnauthorized:
		e.Kind = APIAuth
	case status == http.StatusTooManyRequests:
		e.Kind = APIRateLimited
	case status == http.StatusForbidden:
		e.Kind = APIForbidden
	case status == http.StatusNotFound || status == http.StatusGone:
		e.Kind = APINotFound
	case status == http.StatusRequestTimeout || status == http.StatusTooEarly || status >= 500:
		e.Kind = APITransient
	default:
		e.Kind = APIBadRequest
	}

	switch p {
	case YouTube, Gmail:
		switch e.Code {
		case "quotaExceeded", "dailyLimitExceeded":
			// YouTube's daily quota resets at midnight Pacific time.
			e.Kind, e.dailyReset = APIQuotaExceeded, pacific
		case "rateLimitExceeded", "userRateLimitExceeded", "concurrentLimitExceeded":
			e.Kind = APIRateLimited
		case "authError":
			e.Kind = APIAuth
		case "backendError", "internalError":
			e.Kind = APITransient
		}
	case GitHub:
		if status == http.StatusForbidden || status == http.StatusTooManyRequests {
			if header.Get("X-Ratelimit-Remaining") == "0" {
				e.Kind = APIRateLimited
				if reset, err := strconv.ParseInt(header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
					e.ResetAt = time.Unix(reset, 0)
				}
			} else if e.RetryAfter > 0 || !e.ResetAt.IsZero() {
				e.Kind = APIRateLimited
			} else if status == http.StatusTooManyRequests || strings.Contains(strings.ToLower(e.Message), "secondary rate limit") {
				// Secondary limit without retry-after: wait at least a minute.
				e.Kind, e.RetryAfter = APIRateLimited, time.Minute
			}
		}
	case Discord:
		if status == http.StatusTooManyRequests {
			var rl struct {
				RetryAfter float64 `json:"retry_after"`
			}
			if json.Unmarshal(body, &rl) == nil && rl.RetryAfter > 0 {
				e.RetryAfter = seconds(rl.RetryAfter)
				e.ResetAt = time.Time{}
			}
		}
	case LinkedIn:
		if status == http.StatusTooManyRequests && e.RetryAfter == 0 && e.ResetAt.IsZero() {
			// LinkedIn's limits are daily and reset at midnight UTC.
			e.Kind, e.dailyReset = APIQuotaExceeded, time.UTC
		}
	}
	return e
}

func slackErrorKind(code string) APIErrorKind {
	switch code {
	case "invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive":
		return APIAuth
	case "missing_scope", "no_permission", "not_allowed_token_type", "ekm_access_denied":
		return APIForbidden
	case "ratelimited":
		return APIRateLimited
	case "internal_error", "fatal_error", "service_unavailable", "request_timeout":
		return APITransient
	case "channel_not_found", "user_not_found", "not_found":
		return APINotFound
	default:
		return APIBadRequest
	}
}

// apiErrorDetail extracts the reason and message from each provider's
// error body shape. Bodies that do not parse leave both empty.
func apiErrorDetail(p ID, body []byte) (code, message string) {
	switch p {
	case Spotify:
		// {"error":{"status":429,"message":"Too many requests","reason":"QUOTA_EXCEEDED"}}
		var b struct {
			Error struct {
				Message string `json:"message"`
				Reason  string `json:"reason"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &b) == nil {
			return b.Error.Reason, b.Error.Message
		}
	case YouTube, Gmail:
		// {"error":{"code":403,"message":"…","errors":[{"domain":"youtube.quota","reason":"quotaExceeded"}]}}
		var b struct {
			Error struct {
				Message string `json:"message"`
				Errors  []struct {
					Reason string `json:"reason"`
				} `json:"errors"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &b) == nil {
			if len(b.Error.Errors) > 0 {
				code = b.Error.Errors[0].Reason
			}
			return code, b.Error.Message
		}
	case GitHub:
		// {"message":"API rate limit exceeded for user ID 1.","documentation_url":"…"}
		var b struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &b) == nil {
			return "", b.Message
		}
	case Discord:
		// {"message":"401: Unauthorized","code":0} / {"message":"You are being rate limited.","retry_after":64.57,"global":false}
		var b struct {
			Message string `json:"message"`
			Code    *int   `json:"code"`
		}
		if json.Unmarshal(body, &b) == nil {
			if b.Code != nil && *b.Code != 0 {
				code = strconv.Itoa(*b.Code)
			}
			return code, b.Message
		}
	case LinkedIn:
		// {"message":"…","serviceErrorCode":65600,"status":401}
		var b struct {
			Message          string `json:"message"`
			ServiceErrorCode int    `json:"serviceErrorCode"`
		}
		if json.Unmarshal(body, &b) == nil {
			if b.ServiceErrorCode != 0 {
				code = strconv.Itoa(b.ServiceErrorCode)
			}
			return code, b.Message
		}
	case Slack:
		var b struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &b) == nil {
			return b.Error, b.Error
		}
	}
	return "", ""
}

// seconds converts fractional seconds, rounded to the millisecond (Discord
// gives three decimals; float noise must not show up as 64.569999999 s).
func seconds(s float64) time.Duration {
	return time.Duration(math.Round(s*1000)) * time.Millisecond
}

// parseRetryAfter reads a Retry-After value: delay seconds, or an HTTP date
// (returned as an absolute time).
func parseRetryAfter(v string) (time.Duration, time.Time) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, time.Time{}
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 {
			return 0, time.Time{}
		}
		return seconds(secs), time.Time{}
	}
	if t, err := http.ParseTime(v); err == nil {
		return 0, t
	}
	return 0, time.Time{}
}
