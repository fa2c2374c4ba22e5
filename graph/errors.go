package graph

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/logx"
)

// errorPresenter gives every error an extensions.code. Errors with an
// apperr code show their safe message; a client's mistake gqlgen reports
// without a code gets one; anything else is logged with the request id
// (never a body, a variable's value or the query text: the operation's
// name, its document's hash and sizes) and shown as a generic INTERNAL
// error.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code != apperr.Internal {
			gerr.Message = ae.Message
			gerr.Extensions = map[string]any{"code": string(ae.Code)}
			field := ae.Field
			if field == "" && ae.Code == apperr.BadUserInput && len(gerr.Path) >= 2 {
				// A scalar that refused an argument's value (graph/model
				// scalars): the path ends at the argument or input field.
				if name, ok := gerr.Path[len(gerr.Path)-1].(ast.PathName); ok {
					field = string(name)
				}
			}
			if field != "" {
				gerr.Extensions["field"] = field
			}
			return gerr
		}
		var ge *gqlerror.Error
		if errors.As(err, &ge) && ge.Extensions != nil && ge.Extensions["code"] != nil && errors.Unwrap(ge) == nil {
			// A variable's value that does not fit its type (an unknown
			// platform, a string for an Int) is the client's input, not a
			// broken document.
			if len(gerr.Path) == 2 && gerr.Path[0] == ast.PathName("variable") {
				gerr.Extensions = map[string]any{"code": string(apperr.BadUserInput), "field": fmt.Sprint(gerr.Path[1])}
				return gerr
			}
			// Parse and validation errors from gqlgen carry their own code
			// (GRAPHQL_PARSE_FAILED, GRAPHQL_VALIDATION_FAILED).
			return gerr
		}
		if field, ok := argumentError(ctx, gerr); ok {
			// An argument's value gqlgen could not unmarshal (an enum
			// value it does not know, from a literal or a variable).
			gerr.Extensions = map[string]any{"code": string(apperr.BadUserInput), "field": field}
			return gerr
		}
		if code, msg, ok := clientMistake(err); ok {
			gerr.Message = msg
			gerr.Extensions = map[string]any{"code": string(code)}
			return gerr
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			log.InfoContext(ctx, "graphql: operation cancelled", operationAttrs(ctx)...)
			gerr.Message = "the request was cancelled"
			gerr.Extensions = map[string]any{"code": string(apperr.Cancelled)}
			return gerr
		}
		id := logx.RequestID(ctx)
		attrs := append(operationAttrs(ctx), slog.Any("error", err), slog.Any("path", gerr.Path))
		log.ErrorContext(ctx, "graphql: internal error", attrs...)
		gerr.Message = "internal error"
		if id != "" {
			gerr.Message = fmt.Sprintf("internal error (request %s)", id)
		}
		gerr.Extensions = map[string]any{"code": string(apperr.Internal)}
		return gerr
	}
}

// argumentError reports whether gerr came from unmarshalling one of the
// arguments of the field in ctx (its path goes below the field's own path
// and the field never got its arguments), and names the argument.
func argumentError(ctx context.Context, gerr *gqlerror.Error) (string, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Args != nil || len(gerr.Path) <= len(fc.Path()) {
		return "", false
	}
	// The innermost name: a value inside a list argument ends its path with
	// an index (scopes, 0), which names the argument just as well.
	for i := len(gerr.Path) - 1; i >= len(fc.Path()); i-- {
		if name, ok := gerr.Path[i].(ast.PathName); ok {
			return string(name), true
		}
	}
	return "", false
}

// clientMistake recognises the errors gqlgen raises without a code for
// something the client did.
func clientMistake(err error) (apperr.Code, string, bool) {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) || errors.Unwrap(ge) != nil {
		if err.Error() == "introspection disabled" {
			return apperr.Forbidden, "introspection is for admins in production", true
		}
		return "", "", false
	}
	switch ge.Message {
	case "provided APQ hash does not match query":
		return apperr.BadUserInput, "extensions.persistedQuery.sha256Hash does not match the query", true
	case "introspection disabled":
		return apperr.Forbidden, "introspection is for admins in production", true
	}
	return "", "", false
}

// operationAttrs describe the operation for a log line without its text or
// values: its name, the SHA-256 of its document (to match it against a
// client's persisted queries), and sizes.
func operationAttrs(ctx context.Context) []any {
	if !graphql.HasOperationContext(ctx) {
		return nil
	}
	oc := graphql.GetOperationContext(ctx)
	sum := sha256.Sum256([]byte(oc.RawQuery))
	return []any{
		slog.String("operation", oc.OperationName),
		slog.String("document_sha256", hex.EncodeToString(sum[:8])),
		slog.Int("document_bytes", len(oc.RawQuery)),
		slog.Int("variables", len(oc.Variables)),
	}
}

// recoverFunc turns a resolver panic into an INTERNAL error; the panic and
// its stack are logged, never shown.
func recoverFunc(log *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "graphql: panic in resolver", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		return apperr.New(apperr.Internal, "internal error")
	}
}
