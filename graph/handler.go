package graph

import (
	"context"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/twinme/twinme/graph/generated"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/soul"
)

// HandlerOptions configure the GraphQL handler.
type HandlerOptions struct {
	// MaxComplexity rejects operations above this complexity.
	MaxComplexity int
	// OpenIntrospection allows introspection to everyone (development);
	// otherwise only admins may introspect.
	OpenIntrospection bool
	// Websocket is the websocket transport (gorilla implementation, origin
	// check, init authentication); nil disables websockets.
	Websocket *transport.Websocket
	// MaxUploadBytes bounds multipart uploads.
	MaxUploadBytes int64
	// Extensions are added to the handler (e.g. metrics).
	Extensions []graphql.HandlerExtension
	// ResponseCache serves a viewer's repeated dashboard queries while
	// their data version holds (nil: none).
	ResponseCache *ResponseCache
}

// NewHandler returns the GraphQL HTTP handler (POST, GET for queries,
// multipart uploads, websocket) for r.
func NewHandler(r *Resolver, o HandlerOptions) http.Handler {
	return guardTransport(queriesOnlyOverGET(o.ResponseCache.wrap(newServer(r, o))), o.MaxUploadBytes > 0)
}

// queriesOnlyOverGET answers 405 to a mutation or subscription sent with GET,
// as the GraphQL-over-HTTP spec requires (gqlgen itself answers 406).
func queriesOnlyOverGET(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.Header.Get("Upgrade") == "" {
			if doc, err := parser.ParseQuery(&ast.Source{Input: r.URL.Query().Get("query")}); err == nil {
				name := r.URL.Query().Get("operationName")
				for _, op := range doc.Operations {
					if (name == "" || op.Name == name) && op.Operation != ast.Query {
						w.Header().Set("Allow", "POST")
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(http.StatusMethodNotAllowed)
						_, _ = w.Write([]byte(`{"errors":[{"message":"only queries may be sent with GET; send mutations with POST","extensions":{"code":"BAD_USER_INPUT"}}]}`))
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

func newServer(r *Resolver, o HandlerOptions) *handler.Server {
	// Every list and connection is priced by its page size (complexity.go).
	es := pricedSchema{generated.NewExecutableSchema(generated.Config{Resolvers: r})}
	srv := handler.New(es)
	if o.Websocket != nil {
		srv.AddTransport(*o.Websocket)
	}
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	if o.MaxUploadBytes > 0 {
		srv.AddTransport(transport.MultipartForm{MaxUploadSize: o.MaxUploadBytes, MaxMemory: 8 << 20})
	}
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(introspection{open: o.OpenIntrospection})
	srv.Use(noSubscriptionsOverHTTP{})
	srv.Use(suggestions{open: o.OpenIntrospection})
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](100)})
	if o.MaxComplexity > 0 {
		srv.Use(extension.FixedComplexityLimit(o.MaxComplexity))
	}
	srv.AroundRootFields(authorizeRootField)
	srv.AroundOperations(memoizeQueries)
	srv.AroundOperations(markCacheable)
	srv.AroundOperations(authorizeSubscription(errorPresenter(r.Log)))
	for _, ext := range o.Extensions {
		srv.Use(ext)
	}
	srv.SetErrorPresenter(errorPresenter(r.Log))
	srv.SetRecoverFunc(recoverFunc(r.Log))
	return srv
}

// introspection allows introspection to everyone in development and to
// admins only in production.
type introspection struct{ open bool }

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = introspection{}

func (introspection) ExtensionName() string                          { return "TwinmeIntrospection" }
func (introspection) Validate(schema graphql.ExecutableSchema) error { return nil }

func (i introspection) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	v := auth.ViewerFrom(ctx)
	oc.DisableIntrospection = !(i.open || (v != nil && v.Has(auth.ScopeFull) && v.User.IsAdmin()))
	return nil
}

// memoizeQueries gives each query (never a mutation, whose later fields
// must see its earlier writes) a per-request memo, so root fields reading
// the same settings or signature read them once.
func memoizeQueries(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Query {
		ctx = soul.WithRequestMemo(ctx)
	}
	return next(ctx)
}
