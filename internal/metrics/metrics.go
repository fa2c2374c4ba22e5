// Package metrics holds twinme's Prometheus metrics on a registry of their
// own (never the global default one), and serves them at /metrics.
//
// Label values are bounded: HTTP routes are mux patterns, never raw paths;
// GraphQL operation names are capped in length and number; cron jobs are the
// registered job names. Every method is safe on a nil *Metrics, so a service
// built without metrics needs no checks.
package metrics

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "twinme"

// MaxOperationNames caps how many distinct GraphQL operation names get a
// label of their own; later names are counted as "other".
const MaxOperationNames = 200

// maxOperationNameLen caps the length of an operation name label.
const maxOperationNameLen = 64

// Outcomes of a GraphQL operation.
const (
	OutcomeOK    = "ok"
	OutcomeError = "error"
)

// Metrics are the collectors twinme exports.
type Metrics struct {
	reg *prometheus.Registry

	cronRuns          *prometheus.CounterVec
	cronDuration      *prometheus.HistogramVec
	cronWriteFailures *prometheus.CounterVec
	tokensRefreshed   prometheus.Counter
	tokensFailed      *prometheus.CounterVec
	httpRequests      *prometheus.CounterVec
	httpDuration      *prometheus.HistogramVec
	gqlOperations     *prometheus.CounterVec
	gqlDuration       *prometheus.HistogramVec
	websockets        prometheus.Gauge
	subscriptions     prometheus.Gauge

	mu      sync.Mutex
	opNames map[string]struct{}
}

// New registers every collector, plus the Go runtime and process
// collectors, on a fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg:     reg,
		opNames: map[string]struct{}{},
		cronRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "cron_runs_total",
			Help: "Runs of scheduled jobs by job and status (success, error, timeout, skipped).",
		}, []string{"job", "status"}),
		cronDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "cron_run_duration_seconds",
			Help:    "Duration of scheduled job runs.",
			Buckets: []float64{0.05, 0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800},
		}, []string{"job"}),
		cronWriteFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "cron_execution_write_failures_total",
			Help: "Runs whose cron_executions row could not be written.",
		}, []string{"job"}),
		tokensRefreshed: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "tokens_refreshed_total",
			Help: "OAuth access tokens refreshed by job runs (the sum of cron_executions.tokens_refreshed).",
		}),
		tokensFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "token_refresh_failures_total",
			Help: "OAuth token refreshes that failed, by class (for example invalid_grant, transient).",
		}, []string{"reason"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		gqlOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "graphql_operations_total",
			Help: "GraphQL operations by name, type and outcome (ok, error).",
		}, []string{"operation", "type", "outcome"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "graphql_operation_duration_seconds",
			Help:    "GraphQL operation latency by name.",
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "websockets_open",
			Help: "Open GraphQL websocket connections.",
		}),
		subscriptions: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "subscriptions_active",
			Help: "Active GraphQL subscriptions.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.cronRuns, m.cronDuration, m.cronWriteFailures, m.tokensRefreshed, m.tokensFailed,
		m.httpRequests, m.httpDuration, m.gqlOperations, m.gqlDuration, m.websockets, m.subscriptions,
	)
	return m
}

// Registry returns the registry, for tests and for registering more collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// CronRun counts one run of job with status and observes its duration
// (skipped runs did no work and are not observed).
func (m *Metrics) CronRun(job, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.cronRuns.WithLabelValues(job, status).Inc()
	if status != "skipped" {
		m.cronDuration.WithLabelValues(job).Observe(d.Seconds())
	}
}

// CronWriteFailed counts a run whose cron_executions row was lost.
func (m *Metrics) CronWriteFailed(job string) {
	if m == nil {
		return
	}
	m.cronWriteFailures.WithLabelValues(job).Inc()
}

// TokensRefreshed adds n refreshed tokens. The scheduler calls it with each
// run's tokens_refreshed; the token manager should count only failures
// (TokenRefreshFailed), or refreshes would be counted twice.
func (m *Metrics) TokensRefreshed(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.tokensRefreshed.Add(float64(n))
}

// TokenRefreshFailed counts one failed refresh; reason must come from a
// small fixed set (an error class, never an error message).
func (m *Metrics) TokenRefreshFailed(reason string) {
	if m == nil {
		return
	}
	m.tokensFailed.WithLabelValues(reason).Inc()
}

// HTTPRequest counts one request. route is the mux pattern that matched
// ("" for none), never the raw path.
func (m *Metrics) HTTPRequest(route, method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodHead, http.MethodOptions:
	default:
		method = "other"
	}
	m.httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Middleware counts every request through next. It reads the route from
// r.Pattern, which http.ServeMux sets on the request it routes, so next
// should be (or contain, without copying the request) the mux.
func (m *Metrics) Middleware(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.HTTPRequest(r.Pattern, r.Method, sw.code, time.Since(start))
	})
}

// GraphQLOperation counts one operation. opType is query, mutation or
// subscription; outcome is OutcomeOK or OutcomeError.
func (m *Metrics) GraphQLOperation(name, opType, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	name = m.operationLabel(name)
	switch opType {
	case "query", "mutation", "subscription":
	default:
		opType = "other"
	}
	if outcome != OutcomeOK {
		outcome = OutcomeError
	}
	m.gqlOperations.WithLabelValues(name, opType, outcome).Inc()
	m.gqlDuration.WithLabelValues(name).Observe(d.Seconds())
}

// operationLabel bounds the label cardinality of client-chosen names.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return "anonymous"
	}
	if len(name) > maxOperationNameLen || !isIdentifier(name) {
		return "other"
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.opNames[name]; ok {
		return name
	}
	if len(m.opNames) >= MaxOperationNames {
		return "other"
	}
	m.opNames[name] = struct{}{}
	return name
}

// isIdentifier reports whether s is a GraphQL name (/[_A-Za-z][_0-9A-Za-z]*/).
func isIdentifier(s string) bool {
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// WebsocketOpened and WebsocketClosed track open websocket connections.
func (m *Metrics) WebsocketOpened() {
	if m != nil {
		m.websockets.Inc()
	}
}

// WebsocketClosed: see WebsocketOpened.
func (m *Metrics) WebsocketClosed() {
	if m != nil {
		m.websockets.Dec()
	}
}

// SubscriptionStarted and SubscriptionEnded track active subscriptions.
func (m *Metrics) SubscriptionStarted() {
	if m != nil {
		m.subscriptions.Inc()
	}
}

// SubscriptionEnded: see SubscriptionStarted.
func (m *Metrics) SubscriptionEnded() {
	if m != nil {
		m.subscriptions.Dec()
	}
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the writer's other methods.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack passes through for websocket upgrades: gorilla/websocket asserts
// http.Hijacker on the writer it is given. A hijacked connection counts as
// 101 Switching Protocols.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("metrics: %T does not implement http.Hijacker", w.ResponseWriter)
	}
	w.code, w.wrote = http.StatusSwitchingProtocols, true
	return h.Hijack()
}

// Flush passes through for streamed responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		w.wrote = true
		f.Flush()
	}
}
