package graph

import (
	"context"
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
// apperr code show their safe message; anything else is logged with the
// request id and shown as a generic INTERNAL error.
func errorPresenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		var ae *apperr.Error
		if errors.As(err, &ae) && ae.Code != apperr.Internal {
			gerr.Message = ae.Message
			gerr.Extensions = map[string]any{"code": string(ae.Code)}
			if ae.Field != "" {
				gerr.Extensions["field"] = ae.Field
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
		id := logx.RequestID(ctx)
		log.ErrorContext(ctx, "graphql: internal error", slog.Any("error", err), slog.Any("path", gerr.Path))
		gerr.Message = "internal error"
		if id != "" {
			gerr.Message = fmt.Sprintf("internal error (request %s)", id)
		}
		gerr.Extensions = map[string]any{"code": string(apperr.Internal)}
		return gerr
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
