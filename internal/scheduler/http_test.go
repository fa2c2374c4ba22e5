package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

const secret = "s3cret-cron-token"

func TestHTTPTrigger(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	var runs atomic.Int32
	h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{},
		Job{Name: JobTokenRefresh, Schedule: "every 5m", Run: func(context.Context) (Result, error) {
			runs.Add(1)
			return Result{TokensChecked: 3, TokensRefreshed: 2, Data: map[string]any{"connections": []map[string]string{
				{"connection_id": "c1", "platform": "spotify", "outcome": "refreshed"},
				{"connection_id": "c2", "platform": "github", "outcome": "refreshed"},
				{"connection_id": "c3", "platform": "youtube", "outcome": "needs_reauth", "error": "invalid_grant"},
			}}}, nil
		}},
		Job{Name: JobPlatformPolling, Schedule: "every 30m", Run: func(context.Context) (Result, error) {
			runs.Add(1)
			return Result{}, errors.New("platform-polling: database unavailable")
		}},
	)

	mux := func(secret string) http.Handler {
		m := http.NewServeMux()
		m.Handle("/api/cron/{job}", h.s.HTTPHandler(secret))
		return m
	}
	tests := []struct {
		name     string
		secret   string // configured
		method   string
		path     string
		auth     string
		status   int
		body     []string // fragments of the JSON answer
		wantRuns int32
	}{
		{"disabled without a secret", "", "POST", "/api/cron/token-refresh", "Bearer ", http.StatusServiceUnavailable, []string{`"error":"disabled"`}, 0},
		{"disabled even with a guessed token", "", "POST", "/api/cron/token-refresh", "Bearer anything", http.StatusServiceUnavailable, []string{`"disabled"`}, 0},
		{"missing secret", secret, "POST", "/api/cron/token-refresh", "", http.StatusUnauthorized, []string{`"error":"unauthorized"`}, 0},
		{"wrong secret", secret, "POST", "/api/cron/token-refresh", "Bearer s3cret-cron-tokeN", http.StatusUnauthorized, []string{`"unauthorized"`}, 0},
		{"secret prefix", secret, "POST", "/api/cron/token-refresh", "Bearer s3cret", http.StatusUnauthorized, []string{`"unauthorized"`}, 0},
		{"not a bearer", secret, "POST", "/api/cron/token-refresh", "Basic " + secret, http.StatusUnauthorized, []string{`"unauthorized"`}, 0},
		{"unknown job, unauthenticated", secret, "POST", "/api/cron/nope", "", http.StatusUnauthorized, []string{`"unauthorized"`}, 0},
		{"GET is not a trigger", secret, "GET", "/api/cron/token-refresh", "Bearer " + secret, http.StatusMethodNotAllowed, nil, 0},
		{"unknown job lists the known ones", secret, "POST", "/api/cron/token-refrsh", "Bearer " + secret, http.StatusNotFound,
			[]string{`"known_jobs":["token-refresh","platform-polling"]`, `unknown job \"token-refrsh\"`}, 0},
		{"runs the job", secret, "POST", "/api/cron/token-refresh", "Bearer " + secret, http.StatusOK,
			[]string{`"job_name":"token-refresh"`, `"status":"success"`, `"execution_time_ms":0`, `"tokens_checked":3`,
				`"tokens_refreshed":2`, `"platforms_polled":0`, `"error_message":null`, `"outcome":"needs_reauth"`,
				`"executed_at":"2026-11-29T12:00:00Z"`, `"trigger":"http"`}, 1},
		{"scheme is case-insensitive", secret, "POST", "/api/cron/token-refresh", "bearer " + secret, http.StatusOK, []string{`"status":"success"`}, 1},
		{"a failed run is a 500 with the execution", secret, "POST", "/api/cron/platform-polling", "Bearer " + secret, http.StatusInternalServerError,
			[]string{`"status":"error"`, `"error_message":"platform-polling: database unavailable"`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := runs.Load()
			req := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			rec := httptest.NewRecorder()
			mux(tt.secret).ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Fatalf("content type %q", ct)
			}
			var v map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
				t.Fatalf("answer is not JSON: %s", rec.Body)
			}
			for _, f := range tt.body {
				if !strings.Contains(rec.Body.String(), f) {
					t.Errorf("answer lacks %s: %s", f, rec.Body)
				}
			}
			if got := runs.Load() - before; got != tt.wantRuns {
				t.Fatalf("%d runs, want %d", got, tt.wantRuns)
			}
			if tt.status == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
	es, err := db.ListCronExecutions(context.Background(), store.CronExecutionFilter{}, nil, 10)
	storetest.Must(t, err)
	if len(es) != 3 {
		t.Fatalf("%d executions recorded, want 3", len(es))
	}
	for _, e := range es {
		if e.Trigger != store.TriggerHTTP {
			t.Fatalf("trigger %q", e.Trigger)
		}
	}
}
