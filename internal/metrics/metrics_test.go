package metrics_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/twinme/twinme/internal/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d", rec.Code)
	}
	b, _ := io.ReadAll(rec.Body)
	return string(b)
}

func wantLines(t *testing.T, body string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(body, l) {
			t.Errorf("/metrics lacks %q", l)
		}
	}
}

func TestHandlerExposesWhatWasRecorded(t *testing.T) {
	m := metrics.New()
	m.CronRun("token-refresh", "success", 2*time.Second)
	m.CronRun("token-refresh", "skipped", 0)
	m.CronWriteFailed("token-refresh")
	m.TokensRefreshed(2)
	m.TokenRefreshFailed("invalid_grant")
	m.WebsocketOpened()
	m.WebsocketOpened()
	m.WebsocketClosed()
	m.SubscriptionStarted()
	m.GraphQLOperation("", "query", metrics.OutcomeOK, time.Millisecond)
	m.GraphQLOperation("Me", "query", metrics.OutcomeError, time.Millisecond)

	body := scrape(t, m)
	wantLines(t, body,
		`twinme_cron_runs_total{job="token-refresh",status="success"} 1`,
		`twinme_cron_runs_total{job="token-refresh",status="skipped"} 1`,
		// Skipped runs did no work: one observation only.
		`twinme_cron_run_duration_seconds_count{job="token-refresh"} 1`,
		`twinme_cron_execution_write_failures_total{job="token-refresh"} 1`,
		`twinme_tokens_refreshed_total 2`,
		`twinme_token_refresh_failures_total{reason="invalid_grant"} 1`,
		`twinme_websockets_open 1`,
		`twinme_subscriptions_active 1`,
		`twinme_graphql_operations_total{operation="anonymous",outcome="ok",type="query"} 1`,
		`twinme_graphql_operations_total{operation="Me",outcome="error",type="query"} 1`,
		`go_goroutines`,
	)
}

func TestOperationNamesAreBounded(t *testing.T) {
	m := metrics.New()
	for i := 0; i < metrics.MaxOperationNames+50; i++ {
		m.GraphQLOperation(fmt.Sprintf("Op%d", i), "query", metrics.OutcomeOK, 0)
	}
	m.GraphQLOperation(strings.Repeat("a", 500), "query", metrics.OutcomeOK, 0)
	m.GraphQLOperation("not a name{}", "query", metrics.OutcomeOK, 0)
	body := scrape(t, m)
	if n := strings.Count(body, "twinme_graphql_operations_total{"); n != metrics.MaxOperationNames+1 {
		t.Fatalf("%d operation series, want %d named plus other", n, metrics.MaxOperationNames)
	}
	wantLines(t, body, `twinme_graphql_operations_total{operation="other",outcome="ok",type="query"} 52`)
}

func TestMiddlewareLabelsByRoutePattern(t *testing.T) {
	m := metrics.New()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/cron/{job}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	})
	h := m.Middleware(mux)
	for _, job := range []string{"token-refresh", "platform-polling", "x"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/api/cron/"+job, nil))
	}
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/no/such/path/123", nil))
	body := scrape(t, m)
	wantLines(t, body,
		`twinme_http_requests_total{code="401",method="POST",route="POST /api/cron/{job}"} 3`,
		`twinme_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
	)
	if strings.Contains(body, "/no/such/path") || strings.Contains(body, "platform-polling") {
		t.Fatal("a raw path became a label")
	}
}

func TestNilMetricsAreNoOps(t *testing.T) {
	var m *metrics.Metrics
	m.CronRun("j", "success", time.Second)
	m.HTTPRequest("/", "GET", 200, 0)
	m.WebsocketOpened()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	m.Middleware(ok).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK {
		t.Fatal("nil middleware must pass through")
	}
}

func TestGraphQLExtensionCountsOperationsAndSubscriptions(t *testing.T) {
	m := metrics.New()
	ext := m.GraphQLExtension()
	ri := ext.(graphql.ResponseInterceptor)
	oi := ext.(graphql.OperationInterceptor)
	op := func(name string, kind ast.Operation) context.Context {
		return graphql.WithOperationContext(context.Background(), &graphql.OperationContext{
			OperationName: name,
			Operation:     &ast.OperationDefinition{Operation: kind, Name: name},
			Stats:         graphql.Stats{OperationStart: time.Now()},
		})
	}
	ri.InterceptResponse(op("Me", ast.Query), func(context.Context) *graphql.Response {
		return &graphql.Response{Data: []byte(`{}`)}
	})
	ri.InterceptResponse(op("", ast.Mutation), func(context.Context) *graphql.Response {
		return &graphql.Response{Errors: gqlerror.List{{Message: "forbidden"}}}
	})

	// A subscription that the client stops after two events.
	ctx, cancel := context.WithCancel(op("CronRuns", ast.Subscription))
	events := 0
	rh := oi.InterceptOperation(ctx, func(ctx context.Context) graphql.ResponseHandler {
		return func(ctx context.Context) *graphql.Response {
			if events == 2 {
				return nil
			}
			events++
			return &graphql.Response{Data: []byte(`{}`)}
		}
	})
	rh(ctx)
	rh(ctx)
	body := scrape(t, m)
	wantLines(t, body,
		`twinme_graphql_operations_total{operation="Me",outcome="ok",type="query"} 1`,
		`twinme_graphql_operations_total{operation="anonymous",outcome="error",type="mutation"} 1`,
		`twinme_graphql_operations_total{operation="CronRuns",outcome="ok",type="subscription"} 1`,
		`twinme_subscriptions_active 1`,
	)
	if rh(ctx) != nil {
		t.Fatal("stream did not end")
	}
	cancel() // the end was already counted: the gauge must not go below zero
	wantLines(t, scrape(t, m), `twinme_subscriptions_active 0`)

	// A subscription whose client goes away without the stream ending.
	ctx2, cancel2 := context.WithCancel(op("", ast.Subscription))
	oi.InterceptOperation(ctx2, func(ctx context.Context) graphql.ResponseHandler {
		return func(ctx context.Context) *graphql.Response { return &graphql.Response{} }
	})
	wantLines(t, scrape(t, m), `twinme_subscriptions_active 1`)
	done := make(chan struct{})
	context.AfterFunc(ctx2, func() { close(done) })
	cancel2()
	<-done
	// AfterFuncs run in their own goroutines; the gauge drops once both ran.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) &&
		!strings.Contains(scrape(t, m), "twinme_subscriptions_active 0"); {
		runtime.Gosched()
	}
	wantLines(t, scrape(t, m), `twinme_subscriptions_active 0`)
}
