package auth

import (
	"context"
	"net/http"
)

type cookieWriterKey struct{}

// WithCookieWriter lets code deeper in the request (a resolver) set cookies
// on w, the response of the request in ctx; the HTTP edge adds it to every
// request that is not a websocket upgrade.
func WithCookieWriter(ctx context.Context, w http.ResponseWriter) context.Context {
	return context.WithValue(ctx, cookieWriterKey{}, w)
}

// SetCookie sets c on the response of the request in ctx and reports
// whether it could: a websocket operation has no response to carry it.
func SetCookie(ctx context.Context, c *http.Cookie) bool {
	w, ok := ctx.Value(cookieWriterKey{}).(http.ResponseWriter)
	if !ok || w == nil {
		return false
	}
	http.SetCookie(w, c)
	return true
}
