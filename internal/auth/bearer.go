package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
)

// BearerToken returns the token of an Authorization header value
// "Bearer <token>": the scheme in any case, spaces around the token
// ignored. ok is false for another scheme, no scheme or an empty token.
// Every Bearer header twinme reads (API requests, websocket
// connection_init, /metrics, cron triggers) is parsed here.
func BearerToken(header string) (token string, ok bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// BearerMatches reports whether header carries secret as its bearer token,
// in constant time; comparing hashes also hides the secret's length.
// An empty secret matches nothing.
func BearerMatches(header, secret string) bool {
	token, ok := BearerToken(header)
	if !ok || secret == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(secret))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
