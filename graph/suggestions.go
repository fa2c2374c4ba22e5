package graph

import (
	"context"
	"regexp"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/internal/auth"
)

// suggestions removes validation's "Did you mean …?" hints for everyone
// but admins when introspection is closed (production): they would name
// admin-only fields to anyone who guesses near them.
type suggestions struct{ open bool }

var _ interface {
	graphql.ResponseInterceptor
	graphql.HandlerExtension
} = suggestions{}

var didYouMean = regexp.MustCompile(`\s*Did you mean [^?]*\?`)

func (suggestions) ExtensionName() string                          { return "TwinmeSuggestions" }
func (suggestions) Validate(schema graphql.ExecutableSchema) error { return nil }

func (s suggestions) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	if s.open || resp == nil || len(resp.Errors) == 0 {
		return resp
	}
	if v := auth.ViewerFrom(ctx); v != nil && v.Has(auth.ScopeFull) && v.User.IsAdmin() {
		return resp
	}
	for _, e := range resp.Errors {
		e.Message = didYouMean.ReplaceAllString(e.Message, "")
	}
	return resp
}
