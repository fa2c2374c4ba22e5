package apperr

import (
	"encoding/json"
	"errors"
	"net/http"
)

// WriteJSON answers an HTTP request with status and
// {"errors":[{"message","extensions":{"code"}}]}, the GraphQL error shape,
// so clients parse one shape everywhere. It is never cached.
func WriteJSON(w http.ResponseWriter, status int, code Code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"errors": []map[string]any{{"message": msg, "extensions": map[string]any{"code": string(code)}}},
	})
}

// HTTPStatus is the HTTP status of an error code (500 for Internal and
// codes without one).
func HTTPStatus(code Code) int {
	switch code {
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case BadUserInput:
		return http.StatusBadRequest
	case Conflict:
		return http.StatusConflict
	case RateLimited:
		return http.StatusTooManyRequests
	case NotConfigured:
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// WriteHTTP answers with the HTTP status of err's code and its safe
// message (WriteJSON); the offending input field, if any, goes in the
// X-Error-Field header.
func WriteHTTP(w http.ResponseWriter, err error) {
	var ae *Error
	if errors.As(err, &ae) && ae.Field != "" {
		w.Header().Set("X-Error-Field", ae.Field)
	}
	WriteJSON(w, HTTPStatus(CodeOf(err)), CodeOf(err), MessageOf(err))
}
