// Package apperr carries an error code from the place an error happens to the
// edge (GraphQL presenter, HTTP handlers), where it is translated once.
package apperr

import (
	"errors"
	"fmt"
)

// Code is a machine-readable error class. Its string value is what clients
// see in GraphQL extensions.code.
type Code string

const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	NotFound        Code = "NOT_FOUND"
	BadUserInput    Code = "BAD_USER_INPUT"
	Conflict        Code = "CONFLICT"
	RateLimited     Code = "RATE_LIMITED"
	NotConfigured   Code = "NOT_CONFIGURED"
	Internal        Code = "INTERNAL"
	// Cancelled: the client went away or the server is shutting down;
	// not a fault of either side's data.
	Cancelled Code = "CANCELLED"
	// BadRequest: the request itself is malformed (a body that is not
	// JSON, not an object); the GraphQL document was never read.
	BadRequest Code = "BAD_REQUEST"
)

// Error is an error with a code and a message that is safe to show a client.
type Error struct {
	Code    Code
	Message string
	// Field names the offending input field, if any.
	Field string
	// Err is the underlying cause; it is logged, never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code and a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches code and a client-safe message to err.
func Wrap(err error, code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Invalid is a BAD_USER_INPUT error about one input field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or Internal.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// MessageOf returns the client-safe message of err, or a generic one for
// errors that carry no code.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code != Internal {
		return e.Message
	}
	return "internal error"
}

// Is reports whether err carries code.
func Is(err error, code Code) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
