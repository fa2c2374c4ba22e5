package gorillaws

import (
	"context"

	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/internal/apperr"
)

// CloseForbidden is the close code graphql-transport-ws assigns to a refused
// connection_init ("4403: Forbidden"); clients such as graphql-ws treat it as
// final and do not retry with the same credentials.
const CloseForbidden = 4403

// closeReasonForbidden is the close reason sent with CloseForbidden. It never
// carries the error: graphql-transport-ws has no connection_error message, so
// the reason is all such a client sees, and it must not leak anything.
const closeReasonForbidden = "Forbidden"

// closeReasonTooMany is the close reason sent with CloseTooMany.
const closeReasonTooMany = "Too Many Requests"

// RejectInit is what a transport.WebsocketInitFunc returns to refuse a
// connection_init:
//
//	if err := authenticate(ctx, payload); err != nil {
//		return gorillaws.RejectInit(ctx, err)
//	}
//
// gqlgen closes a refused connection with the code and reason it finds in the
// context the InitFunc returns (transport.WithWebsocketCloseCode,
// transport.AppendCloseReason) and with 1000 when there is none, which
// clients read as a normal end and reconnect. RejectInit sets 4403 and
// "Forbidden". A graphql-ws (legacy) client also receives a connection_error
// whose message is err's client-safe message (apperr.MessageOf: "internal
// error" for an error without a code); the cause is never sent. The returned
// error still wraps err.
func RejectInit(ctx context.Context, err error) (context.Context, *transport.InitPayload, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	// A RATE_LIMITED refusal (too many sockets, too many failed logins)
	// closes with 4429 instead, so the client backs off.
	code, reason := CloseForbidden, closeReasonForbidden
	if apperr.CodeOf(err) == apperr.RateLimited {
		code, reason = CloseTooMany, closeReasonTooMany
	}
	ctx = transport.WithWebsocketCloseCode(ctx, code)
	ctx = transport.AppendCloseReason(ctx, reason)
	return ctx, nil, initRejectedError{err: err}
}

// GuardInit wraps an InitFunc so that every error it returns refuses the
// connection through RejectInit (4403, client-safe message), whatever close
// code the inner function may have put in its context. A nil context from
// the inner function is replaced by ctx (gqlgen would panic on it). A nil init is
// returned as nil: no InitFunc means every connection_init is accepted.
func GuardInit(init transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	if init == nil {
		return nil
	}
	return func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		newCtx, ack, err := init(ctx, payload)
		if newCtx == nil {
			newCtx = ctx
		}
		if err != nil {
			return RejectInit(newCtx, err)
		}
		return newCtx, ack, nil
	}
}

// initRejectedError shows the client only the client-safe message of err:
// gqlgen sends Error() verbatim in graphql-ws's connection_error.
type initRejectedError struct{ err error }

func (e initRejectedError) Error() string { return apperr.MessageOf(e.err) }

func (e initRejectedError) Unwrap() error { return e.err }
