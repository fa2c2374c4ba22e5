package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
)

// scopeNames maps the schema's Scope enum to auth scopes.
var scopeNames = map[string]string{"FULL": auth.ScopeFull, "OBSERVER_WRITE": auth.ScopeObserverWrite}

// authorizeRootField enforces the schema's access directives on every root
// field. It is fail-closed: a field without a directive needs a viewer with
// the FULL scope; @public opens it, @scopes widens the scopes, @admin needs
// an admin. Resolvers still scope every read and write to the viewer.
func authorizeRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	fc := graphql.GetRootFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return next(ctx)
	}
	if err := checkField(ctx, fc.Field.Name, fc.Field.Definition); err != nil {
		graphql.AddError(ctx, err)
		return graphql.Null
	}
	return next(ctx)
}

// authorizeSubscription applies the same rules to a subscription's root
// fields, which gqlgen resolves outside the root-field middleware. It runs
// once per operation (a field middleware would run on every field of every
// query): a refused subscription gets one error response, presented like
// any other, and never reaches its resolver.
func authorizeSubscription(present graphql.ErrorPresenterFunc) graphql.OperationMiddleware {
	return func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		oc := graphql.GetOperationContext(ctx)
		if oc == nil || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
			return next(ctx)
		}
		for _, f := range graphql.CollectFields(oc, oc.Operation.SelectionSet, []string{"Subscription"}) {
			if err := checkField(ctx, f.Name, f.Definition); err != nil {
				return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{present(ctx, err)}})
			}
		}
		return next(ctx)
	}
}

func checkField(ctx context.Context, name string, def *ast.FieldDefinition) error {
	if strings.HasPrefix(name, "__") { // __schema, __type: gated by the introspection extension
		return nil
	}
	if def == nil {
		return apperr.New(apperr.Forbidden, "unknown field")
	}
	if def.Directives.ForName("public") != nil {
		return nil
	}
	if def.Directives.ForName("admin") != nil {
		_, err := auth.RequireAdmin(ctx)
		return err
	}
	if d := def.Directives.ForName("scopes"); d != nil {
		v := auth.ViewerFrom(ctx)
		if v == nil {
			return apperr.New(apperr.Unauthenticated, "sign in or send an API token")
		}
		if arg := d.Arguments.ForName("any"); arg != nil && arg.Value != nil {
			for _, c := range arg.Value.Children {
				if s, ok := scopeNames[c.Value.Raw]; ok && v.Has(s) {
					return nil
				}
			}
		}
		return apperr.New(apperr.Forbidden, "this token's scopes do not allow %s", name)
	}
	_, err := auth.Require(ctx, auth.ScopeFull)
	return err
}

// viewer returns the request's viewer; the root-field check guarantees one
// exists for non-public fields, but resolvers never trust that blindly.
func viewer(ctx context.Context) (*auth.Viewer, error) {
	v := auth.ViewerFrom(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in or send an API token")
	}
	return v, nil
}
