package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// GraphQLExtension returns a gqlgen handler extension (srv.Use(...)) that
// counts queries and mutations by operation name and outcome with their
// latency, and keeps the active-subscriptions gauge. Each subscription is
// counted once when it starts, not once per event.
func (m *Metrics) GraphQLExtension() graphql.HandlerExtension { return gqlTracer{m} }

type gqlTracer struct{ m *Metrics }

var (
	_ graphql.HandlerExtension     = gqlTracer{}
	_ graphql.OperationInterceptor = gqlTracer{}
	_ graphql.ResponseInterceptor  = gqlTracer{}
)

func (gqlTracer) ExtensionName() string                          { return "TwinmeMetrics" }
func (gqlTracer) Validate(schema graphql.ExecutableSchema) error { return nil }

func operationOf(ctx context.Context) (name, opType string, start time.Time, ok bool) {
	if !graphql.HasOperationContext(ctx) {
		return "", "", time.Time{}, false
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return "", "", time.Time{}, false
	}
	name = oc.OperationName
	if name == "" {
		name = oc.Operation.Name
	}
	return name, string(oc.Operation.Operation), oc.Stats.OperationStart, true
}

// InterceptOperation tracks subscriptions: the gauge goes up when one
// starts and down once when its stream ends or its context is cancelled
// (the client stopped it or went away).
func (t gqlTracer) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	name, opType, _, ok := operationOf(ctx)
	if t.m == nil || !ok || opType != string(ast.Subscription) {
		return next(ctx)
	}
	t.m.SubscriptionStarted()
	t.m.GraphQLOperation(name, opType, OutcomeOK, 0)
	var once sync.Once
	end := func() { once.Do(t.m.SubscriptionEnded) }
	stop := context.AfterFunc(ctx, end)
	rh := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := rh(ctx)
		if resp == nil {
			stop()
			end()
		}
		return resp
	}
}

// InterceptResponse counts a query or mutation with its outcome and
// latency (from the start of the operation).
func (t gqlTracer) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	name, opType, start, ok := operationOf(ctx)
	if t.m == nil || !ok || opType == string(ast.Subscription) {
		return resp
	}
	outcome := OutcomeOK
	if resp == nil || len(resp.Errors) > 0 {
		outcome = OutcomeError
	}
	var d time.Duration
	if !start.IsZero() {
		d = time.Since(start)
	}
	t.m.GraphQLOperation(name, opType, outcome, d)
	return resp
}
