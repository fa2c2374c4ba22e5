package scheduler

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/metrics"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// t0 is a tick of every schedule used here.
var t0 = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// guard bounds how long a test waits for something that should already be
// under way; it never paces the test.
const guard = 10 * time.Second

func noop(context.Context) (Result, error) { return Result{}, nil }

type harness struct {
	s     *Scheduler
	clock *clockwork.FakeClock
	execs chan store.CronExecution
}

func newHarness(t *testing.T, db *store.DB, clock *clockwork.FakeClock, opts Options, jobs ...Job) *harness {
	t.Helper()
	h := &harness{clock: clock, execs: make(chan store.CronExecution, 100)}
	opts.OnExecution = func(_ context.Context, e store.CronExecution) { h.execs <- e }
	if opts.Instance == "" {
		opts.Instance = "test"
	}
	h.s = New(db, clock, nil, opts)
	for _, j := range jobs {
		if err := h.s.Register(j); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		if err := h.s.Stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return h
}

func (h *harness) next(t *testing.T) store.CronExecution {
	t.Helper()
	select {
	case e := <-h.execs:
		return e
	case <-time.After(guard):
		t.Fatal("no execution was recorded")
		return store.CronExecution{}
	}
}

// recv receives from ch, failing the test if nothing comes.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

func (h *harness) none(t *testing.T) {
	t.Helper()
	select {
	case e := <-h.execs:
		t.Fatalf("unexpected execution %+v", e)
	default:
	}
}

// waiters blocks until the fake clock has n timers: gocron's next tick plus
// the timeout timer of each run in progress.
func (h *harness) waiters(t *testing.T, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	if err := h.clock.BlockUntilContext(ctx, n); err != nil {
		t.Fatalf("waiting for %d timers: %v", n, err)
	}
}

func rows(t *testing.T, db *store.DB, job string) []store.CronExecution {
	t.Helper()
	es, err := db.ListCronExecutions(context.Background(), store.CronExecutionFilter{Job: job}, nil, 100)
	storetest.Must(t, err)
	return es
}

func TestScheduleFiresOnTicksAndRecordsEachRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var calls atomic.Int32
		job := Job{Name: JobTokenRefresh, Schedule: "every 5m", Run: func(ctx context.Context) (Result, error) {
			calls.Add(1)
			return Result{TokensChecked: 3, TokensRefreshed: 2, Data: map[string]any{
				"connections": []map[string]string{{"id": "c1", "platform": "spotify", "outcome": "refreshed"}},
			}}, nil
		}}
		m := metrics.New()
		h := newHarness(t, db, clockwork.NewFakeClockAt(t0.Add(90*time.Second)), Options{Enabled: true, Metrics: m}, job)
		storetest.Must(t, h.s.Start())
		h.waiters(t, 1)
		h.clock.Advance(3*time.Minute + 29*time.Second) // 12:04:59
		h.none(t)

		h.clock.Advance(time.Second) // 12:05:00
		e := h.next(t)
		if e.Status != store.CronSuccess || e.Trigger != store.TriggerSchedule || !e.ExecutedAt.Equal(t0.Add(5*time.Minute)) ||
			e.TokensChecked != 3 || e.TokensRefreshed != 2 || !strings.Contains(e.ResultData, `"outcome":"refreshed"`) {
			t.Fatalf("first tick recorded %+v", e)
		}
		h.waiters(t, 1)
		h.clock.Advance(5 * time.Minute)
		if e := h.next(t); !e.ExecutedAt.Equal(t0.Add(10 * time.Minute)) {
			t.Fatalf("second tick ran at %s", e.ExecutedAt)
		}
		if calls.Load() != 2 || len(rows(t, db, JobTokenRefresh)) != 2 {
			t.Fatalf("%d calls, %d rows", calls.Load(), len(rows(t, db, JobTokenRefresh)))
		}

		infos, err := h.s.Jobs(context.Background())
		storetest.Must(t, err)
		in := infos[0]
		if in.Name != JobTokenRefresh || in.Schedule != "every 5m" || in.NextRun == nil || !in.NextRun.Equal(t0.Add(15*time.Minute)) ||
			in.LastRun == nil || in.LastRun.Status != store.CronSuccess || in.SuccessRate24h == nil || *in.SuccessRate24h != 1 ||
			in.Runs24h != 2 || in.ConsecutiveFailures != 0 {
			t.Fatalf("job info %+v", in)
		}
		if st := h.s.State(); !st.Running || st.Instance != "test" || len(st.Jobs) != 1 {
			t.Fatalf("state %+v", st)
		}
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `twinme_cron_runs_total{job="token-refresh",status="success"} 2`) {
			t.Fatal("runs are not counted in metrics")
		}
	})
}

func TestOverlappingTickIsSkipped(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		release := make(chan struct{})
		started := make(chan struct{}, 10)
		job := Job{Name: JobPlatformPolling, Schedule: "every 5m", Timeout: time.Hour, Run: func(ctx context.Context) (Result, error) {
			started <- struct{}{}
			<-release
			return Result{PlatformsPolled: 1}, nil
		}}
		h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{Enabled: true}, job)
		storetest.Must(t, h.s.Start())
		h.waiters(t, 1)
		h.clock.Advance(5 * time.Minute)
		recv(t, started)

		// The 12:10 tick arrives while the 12:05 run is still going.
		h.waiters(t, 2) // gocron's next tick and the run's timeout
		h.clock.Advance(5 * time.Minute)
		skipped := h.next(t)
		if skipped.Status != store.CronSkipped || !skipped.ExecutedAt.Equal(t0.Add(10*time.Minute)) || skipped.Trigger != store.TriggerSchedule {
			t.Fatalf("overlapping tick recorded %+v", skipped)
		}
		// An admin asking meanwhile is told the same.
		ex, err := h.s.RunNow(context.Background(), JobPlatformPolling, store.TriggerAdmin)
		storetest.Must(t, err)
		if ex.Status != store.CronSkipped {
			t.Fatalf("RunNow during a run: %+v", ex)
		}
		h.next(t)
		infos, err := h.s.Jobs(context.Background())
		storetest.Must(t, err)
		if !infos[0].Running {
			t.Fatal("a running job must show as running")
		}

		close(release)
		done := h.next(t)
		if done.Status != store.CronSuccess || !done.ExecutedAt.Equal(t0.Add(5*time.Minute)) || done.PlatformsPolled != 1 {
			t.Fatalf("first run recorded %+v", done)
		}
		if len(started) != 0 {
			t.Fatal("the job ran twice at once")
		}
	})
}

func TestTimeoutIsRecordedAsTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		started := make(chan struct{}, 10)
		release := make(chan struct{})
		polite := Job{Name: "polite", Schedule: "every 1h", Timeout: time.Minute, Run: func(ctx context.Context) (Result, error) {
			started <- struct{}{}
			<-ctx.Done()
			return Result{TokensChecked: 1}, ctx.Err()
		}}
		stubborn := Job{Name: "stubborn", Schedule: "every 1h", Timeout: time.Minute, Run: func(ctx context.Context) (Result, error) {
			started <- struct{}{}
			<-release
			return Result{}, nil
		}}
		h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{}, polite, stubborn)
		defer close(release)

		for _, name := range []string{"polite", "stubborn"} {
			res := make(chan store.CronExecution, 1)
			go func() {
				ex, err := h.s.RunNow(context.Background(), name, store.TriggerCLI)
				if err != nil {
					t.Error(err)
				}
				res <- ex
			}()
			recv(t, started)
			h.waiters(t, 1)
			h.clock.Advance(time.Minute)
			ex := recv(t, res)
			if ex.Status != store.CronTimeout || ex.ErrorMessage != "timed out after 1m0s" || ex.ExecutionTimeMs != 60_000 {
				t.Fatalf("%s: %+v", name, ex)
			}
			got := rows(t, db, name)
			if len(got) != 1 || got[0].Status != store.CronTimeout {
				t.Fatalf("%s rows: %+v", name, got)
			}
			h.next(t)
		}
		// A body that ignores its context is still going: the job stays
		// busy rather than running twice.
		ctx, cancel := context.WithTimeout(context.Background(), guard)
		defer cancel()
		ex, err := h.s.RunNow(ctx, "stubborn", store.TriggerCLI)
		storetest.Must(t, err)
		if ex.Status != store.CronSkipped {
			t.Fatalf("second run of a stuck job: %+v", ex)
		}
	})
}

func TestPanicAndErrorAreRecordedAsError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{},
			Job{Name: "panics", Schedule: "every 1h", Run: func(context.Context) (Result, error) { panic("boom") }},
			Job{Name: "fails", Schedule: "every 1h", Run: func(context.Context) (Result, error) {
				return Result{TokensChecked: 3, TokensRefreshed: 2}, errors.New("token-refresh: 1 of 3 connections failed")
			}},
			Job{Name: "unjsonable", Schedule: "every 1h", Run: func(context.Context) (Result, error) {
				return Result{Data: func() {}}, nil
			}},
		)
		ctx := context.Background()
		ex, err := h.s.RunNow(ctx, "panics", store.TriggerAdmin)
		storetest.Must(t, err)
		if ex.Status != store.CronError || !strings.Contains(ex.ErrorMessage, "panic: boom") {
			t.Fatalf("panic recorded as %+v", ex)
		}
		// The job is free again at once.
		if ex, _ := h.s.RunNow(ctx, "panics", store.TriggerAdmin); ex.Status != store.CronError {
			t.Fatalf("second run after a panic: %+v", ex)
		}
		ex, err = h.s.RunNow(ctx, "fails", store.TriggerAdmin)
		storetest.Must(t, err)
		if ex.Status != store.CronError || ex.TokensChecked != 3 || ex.TokensRefreshed != 2 || !strings.Contains(ex.ErrorMessage, "1 of 3") {
			t.Fatalf("error recorded as %+v", ex)
		}
		ex, err = h.s.RunNow(ctx, "unjsonable", store.TriggerAdmin)
		storetest.Must(t, err)
		if ex.Status != store.CronSuccess || !json.Valid([]byte(ex.ResultData)) {
			t.Fatalf("unmarshalable data recorded as %+v", ex)
		}
	})
}

func TestRunNowUnknownJobListsKnownJobs(t *testing.T) {
	h := newHarness(t, nil, clockwork.NewFakeClockAt(t0), Options{},
		Job{Name: JobTokenRefresh, Schedule: "every 5m", Run: noop},
		Job{Name: JobMaintenance, Schedule: "@hourly", Run: noop})
	_, err := h.s.RunNow(context.Background(), "token-refrsh", store.TriggerCLI)
	if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(apperr.MessageOf(err), "token-refresh, maintenance") {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestRecordingFailureDoesNotFailTheJob(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	m := metrics.New()
	var ran atomic.Bool
	h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{Metrics: m},
		Job{Name: "work", Schedule: "every 1h", Run: func(context.Context) (Result, error) { ran.Store(true); return Result{}, nil }})
	_, err := db.ExecContext(context.Background(), "DROP TABLE cron_executions")
	storetest.Must(t, err)
	ex, err := h.s.RunNow(context.Background(), "work", store.TriggerCLI)
	if err != nil || ex.Status != store.CronSuccess || !ran.Load() {
		t.Fatalf("run with a broken log: %+v %v", ex, err)
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if !strings.Contains(rec.Body.String(), `twinme_cron_execution_write_failures_total{job="work"} 1`) {
		t.Fatal("the lost row is not counted")
	}
}

// webhook is a fake Slack/Discord incoming webhook: it records each body
// and answers with status (Slack answers 200 "ok", Discord 204).
type webhook struct {
	*httptest.Server
	mu     sync.Mutex
	bodies []alertBody
	status atomic.Int32
}

func newWebhook(t *testing.T) *webhook {
	w := &webhook{}
	w.status.Store(http.StatusNoContent)
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var b alertBody
		raw, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &b) != nil {
			t.Errorf("webhook got %s %s %q", r.Method, r.Header.Get("Content-Type"), raw)
		}
		w.mu.Lock()
		w.bodies = append(w.bodies, b)
		w.mu.Unlock()
		rw.WriteHeader(int(w.status.Load()))
	}))
	t.Cleanup(w.Close)
	return w
}

func (w *webhook) posts() []alertBody {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]alertBody(nil), w.bodies...)
}

func TestAlertsOnceAfterThreeFailuresAndOnceOnRecovery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		hook := newWebhook(t)
		var failing atomic.Bool
		failing.Store(true)
		job := Job{Name: JobTokenRefresh, Schedule: "every 5m", Run: func(context.Context) (Result, error) {
			if failing.Load() {
				return Result{}, errors.New("provider <down> & out")
			}
			return Result{}, nil
		}}
		clock := clockwork.NewFakeClockAt(t0)
		opts := Options{AlertWebhookURL: hook.URL, HTTPClient: hook.Client()}
		h := newHarness(t, db, clock, opts, job)
		run := func(s *Scheduler, wantFail bool) {
			t.Helper()
			clock.Advance(time.Second)
			ex, err := s.RunNow(context.Background(), JobTokenRefresh, store.TriggerAdmin)
			storetest.Must(t, err)
			if ex.Status.Failed() != wantFail {
				t.Fatalf("run status %s", ex.Status)
			}
		}
		wantPosts := func(n int) {
			t.Helper()
			if got := len(hook.posts()); got != n {
				t.Fatalf("%d alerts posted, want %d", got, n)
			}
		}

		run(h.s, true)
		run(h.s, true)
		wantPosts(0)
		run(h.s, true)
		wantPosts(1)
		a := hook.posts()[0]
		if !strings.Contains(a.Content, "token-refresh failed 3 times") || !strings.Contains(a.Content, "provider <down> & out") ||
			!strings.Contains(a.Text, "provider &lt;down&gt; &amp; out") || a.AllowedMentions.Parse == nil {
			t.Fatalf("alert body %+v", a)
		}
		run(h.s, true)
		run(h.s, true)
		wantPosts(1)

		// A restarted instance reads the streak from the database and
		// does not alert again.
		h2 := newHarness(t, db, clock, opts, job)
		run(h2.s, true)
		wantPosts(1)

		failing.Store(false)
		run(h2.s, false)
		wantPosts(2)
		if r := hook.posts()[1]; !strings.Contains(r.Content, "token-refresh recovered after 6 failed runs") {
			t.Fatalf("recovery body %+v", r)
		}
		run(h2.s, false)
		wantPosts(2)

		// Flip-flopping below the threshold stays quiet.
		for i := 0; i < 3; i++ {
			failing.Store(true)
			run(h2.s, true)
			failing.Store(false)
			run(h2.s, false)
		}
		wantPosts(2)

		// A webhook that fails does not fail the job.
		hook.status.Store(http.StatusInternalServerError)
		failing.Store(true)
		for i := 0; i < 3; i++ {
			run(h2.s, true)
		}
		wantPosts(3)
		failing.Store(false)
		run(h2.s, false)
		wantPosts(4)
		if got := rows(t, db, JobTokenRefresh); len(got) != 18 {
			t.Fatalf("%d rows recorded, want 18", len(got))
		}
	})
}

func TestMaintenanceDropsOldRowsAndRunsSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := clockwork.NewFakeClockAt(t0)
		old := &store.CronExecution{JobName: "x", Status: store.CronSuccess, ExecutedAt: t0.Add(-91 * 24 * time.Hour), Trigger: store.TriggerSchedule}
		recent := &store.CronExecution{JobName: "x", Status: store.CronSuccess, ExecutedAt: t0.Add(-89 * 24 * time.Hour), Trigger: store.TriggerSchedule}
		storetest.Must(t, db.InsertCronExecution(ctx, old))
		storetest.Must(t, db.InsertCronExecution(ctx, recent))
		_, err := db.ClaimCronTick(ctx, "x", t0.Add(-72*time.Hour), "a", t0)
		storetest.Must(t, err)

		var sessions atomic.Int32
		job := MaintenanceJob(db, clock, MaintenanceOptions{Steps: []CleanupStep{
			{Name: "sessions", Run: func(context.Context) (int64, error) { sessions.Add(1); return 4, nil }},
			{Name: "oauth_states", Run: func(context.Context) (int64, error) { return 0, errors.New("oauth_states: table locked") }},
		}})
		h := newHarness(t, db, clock, Options{}, job)
		ex, err := h.s.RunNow(ctx, JobMaintenance, store.TriggerCLI)
		storetest.Must(t, err)
		var rep MaintenanceReport
		storetest.Must(t, json.Unmarshal([]byte(ex.ResultData), &rep))
		if ex.Status != store.CronError || rep.Deleted["cron_executions"] != 1 || rep.Deleted["cron_claims"] != 1 ||
			rep.Deleted["sessions"] != 4 || rep.Errors["oauth_states"] == "" || sessions.Load() != 1 {
			t.Fatalf("maintenance: %+v %+v", ex, rep)
		}
		left := rows(t, db, "x")
		if len(left) != 1 || left[0].ID != recent.ID {
			t.Fatalf("left %+v", left)
		}
	})
}

func TestStopWaitsForRunsThenRefusesNewOnes(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	h := newHarness(t, db, clockwork.NewFakeClockAt(t0), Options{Enabled: true},
		Job{Name: "work", Schedule: "every 1h", Timeout: time.Hour, Run: func(context.Context) (Result, error) {
			started <- struct{}{}
			<-release
			return Result{}, nil
		}})
	storetest.Must(t, h.s.Start())
	res := make(chan store.CronExecution, 1)
	go func() {
		ex, _ := h.s.RunNow(context.Background(), "work", store.TriggerAdmin)
		res <- ex
	}()
	recv(t, started)

	// Stop with a deadline that has passed: the run is still going.
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.s.Stop(expired); err == nil {
		t.Fatal("Stop returned before the running job finished")
	}
	close(release)
	if ex := recv(t, res); ex.Status != store.CronError && ex.Status != store.CronSuccess {
		t.Fatalf("run during stop: %+v", ex)
	}
	ctx, cancel2 := context.WithTimeout(context.Background(), guard)
	defer cancel2()
	storetest.Must(t, h.s.Stop(ctx)) // twice is fine
	if st := h.s.State(); st.Running {
		t.Fatal("stopped scheduler reports running")
	}
	_, err := h.s.RunNow(ctx, "work", store.TriggerCLI)
	if apperr.CodeOf(err) != apperr.NotConfigured {
		t.Fatalf("RunNow after Stop: %v", err)
	}
}
