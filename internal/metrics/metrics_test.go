package metrics_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
