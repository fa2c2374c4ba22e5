// Package scheduler runs twinme's periodic jobs (token refresh, platform
// polling, analysis, maintenance) on gocron, records every run in
// cron_executions, makes each scheduled tick run on exactly one instance,
// posts alerts on repeated failures, and serves the HTTP cron triggers.
//
// Singleton mode is ours rather than gocron's: gocron's WithSingletonMode
// drops an overlapping tick silently, while a skipped tick must be claimed
// and recorded as "skipped". So gocron only fires ticks; each tick claims
// its (job, tick) row in cron_claims and then runs unless the job is still
// busy on this instance.
package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gocron "github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/metrics"
	"github.com/twinme/twinme/internal/store"
)

// Names of twinme's jobs and their default schedules.
const (
	JobTokenRefresh    = "token-refresh"
	JobPlatformPolling = "platform-polling"
	JobAnalysis        = "analysis"
	JobMaintenance     = "maintenance"
)

// DefaultSchedules are the schedules of twinme's jobs unless configured.
var DefaultSchedules = map[string]string{
	JobTokenRefresh:    "every 5m",
	JobPlatformPolling: "every 30m",
	JobAnalysis:        "every 1h",
	JobMaintenance:     "every 1h",
}

// Job is one kind of periodic work.
type Job struct {
	Name string
	// Schedule is "every 5m" or a cron expression; see ParseSchedule.
	Schedule string
	// Timeout bounds one run through its context; zero means the
	// schedule's interval (capped at an hour), so a run never outlives
	// its tick.
	Timeout time.Duration
	// Run does the work. It must honour ctx: when ctx ends, the run is
	// recorded as timed out (or stopped) whether or not Run has returned.
	Run func(ctx context.Context) (Result, error)
}

// Result is what a run reports for its cron_executions row.
type Result struct {
	TokensChecked, TokensRefreshed, PlatformsPolled int
	// Data is stored as result_data JSON: per-connection outcomes
	// (connection id, platform, outcome, safe error), never a token.
	Data any
}

// Options configure a Scheduler.
type Options struct {
	// Instance names this process in cron_executions and cron_claims;
	// default hostname plus a random suffix.
	Instance string
	// Enabled starts the schedule on Start; a disabled scheduler still
	// runs jobs on demand (HTTP, admin, CLI).
	Enabled bool
	// AlertWebhookURL receives alerts (Slack or Discord incoming webhook).
	AlertWebhookURL string
	// AlertAfter is the number of consecutive failures that triggers an
	// alert; default 3.
	AlertAfter int
	// HTTPClient posts alerts; default a client with a 10 s timeout.
	HTTPClient *http.Client
	Metrics    *metrics.Metrics
	// OnExecution is called after each run is recorded (for example to
	// publish cronExecutionCompleted). It must not block for long.
	OnExecution func(ctx context.Context, e store.CronExecution)
}

// Scheduler runs registered jobs on schedule and on demand.
type Scheduler struct {
	db    *store.DB
	clock clockwork.Clock
	log   *slog.Logger
	opts  Options

	// base is the parent of every run's context; Stop cancels it when
	// running jobs outlive Stop's deadline.
	base       context.Context
	cancelBase context.CancelFunc

	mu       sync.Mutex
	jobs     map[string]*entry
	order    []string
	gs       gocron.Scheduler
	running  bool
	stopping bool
	inflight sync.WaitGroup // runs (and bodies still going after a timeout)

	// afterTick, when set (tests), sees every claim attempt.
	afterTick func(job string, tick time.Time, won bool)
}

type entry struct {
	job   Job
	sched Schedule
	// busy is held from the start of a run until its body returns, even
	// after a timeout, so a job never overlaps itself on this instance.
	busy atomic.Bool
}

// New returns a stopped scheduler.
func New(db *store.DB, clock clockwork.Clock, log *slog.Logger, opts Options) *Scheduler {
	if opts.Instance == "" {
		opts.Instance = defaultInstance()
	}
	if opts.AlertAfter <= 0 {
		opts.AlertAfter = 3
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	base, cancel := context.WithCancel(context.Background())
	return &Scheduler{
		db: db, clock: clock, log: log.With(slog.String("component", "scheduler")), opts: opts,
		base: base, cancelBase: cancel, jobs: map[string]*entry{},
	}
}

func defaultInstance() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "twinme"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}

// Instance returns the name this scheduler records its runs under.
func (s *Scheduler) Instance() string { return s.opts.Instance }

// maxDefaultTimeout caps the timeout derived from a schedule's interval.
const maxDefaultTimeout = time.Hour

// Register adds j. A malformed schedule is an error naming the job; so is
// a name registered twice. Jobs registered after Start are scheduled at once.
func (s *Scheduler) Register(j Job) error {
	if strings.TrimSpace(j.Name) == "" || j.Run == nil {
		return fmt.Errorf("scheduler: a job needs a name and a Run function")
	}
	sched, err := ParseSchedule(j.Schedule)
	if err != nil {
		return fmt.Errorf("scheduler: job %q: %w", j.Name, err)
	}
	if j.Timeout < 0 {
		return fmt.Errorf("scheduler: job %q: negative timeout", j.Name)
	}
	if j.Timeout == 0 {
		j.Timeout = min(sched.Interval(s.clock.Now()), maxDefaultTimeout)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.jobs[j.Name]; dup {
		return fmt.Errorf("scheduler: job %q registered twice", j.Name)
	}
	e := &entry{job: j, sched: sched}
	if s.gs != nil {
		if err := s.addToGocron(e); err != nil {
			return err
		}
	}
	s.jobs[j.Name] = e
	s.order = append(s.order, j.Name)
	return nil
}

// JobNames lists the registered jobs in registration order.
func (s *Scheduler) JobNames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Start begins firing scheduled ticks, unless the scheduler is disabled.
func (s *Scheduler) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opts.Enabled {
		s.log.Info("scheduler disabled: jobs run only on demand", slog.String("instance", s.opts.Instance))
		return nil
	}
	if s.gs != nil || s.stopping {
		return fmt.Errorf("scheduler: already started or stopped")
	}
	gs, err := gocron.NewScheduler(
		gocron.WithClock(s.clock),
		gocron.WithLocation(time.UTC),
		gocron.WithLogger(s.log),
	)
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	s.gs = gs
	for _, name := range s.order {
		if err := s.addToGocron(s.jobs[name]); err != nil {
			_ = gs.Shutdown()
			s.gs = nil
			return err
		}
	}
	gs.Start()
	s.running = true
	s.log.Info("scheduler started", slog.String("instance", s.opts.Instance), slog.Any("jobs", s.order))
	return nil
}

// addToGocron schedules e; s.mu is held.
func (s *Scheduler) addToGocron(e *entry) error {
	name := e.job.Name
	_, err := s.gs.NewJob(
		gocron.CronJob(e.sched.String(), false),
		// The task only hands the tick over: gocron never waits on a run.
		gocron.NewTask(func() { s.fire(name) }),
		gocron.WithName(name),
		gocron.WithCronImplementation(e.sched),
	)
	if err != nil {
		return fmt.Errorf("scheduler: job %q: %w", name, err)
	}
	return nil
}

// track registers one run in flight, unless the scheduler is stopping.
func (s *Scheduler) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.inflight.Add(1)
	return true
}

// fire handles one scheduled tick of job name.
func (s *Scheduler) fire(name string) {
	now := s.clock.Now()
	s.mu.Lock()
	e := s.jobs[name]
	s.mu.Unlock()
	if e == nil || !s.track() {
		return
	}
	go func() {
		defer s.inflight.Done()
		tick := e.sched.Tick(now)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), 30*time.Second)
		won, err := s.db.ClaimCronTick(ctx, name, tick, s.opts.Instance, now)
		cancel()
		if s.afterTick != nil {
			s.afterTick(name, tick, won && err == nil)
		}
		if err != nil {
			s.log.Error("scheduler: cannot claim tick; skipping it", slog.String("job", name),
				slog.Time("tick", tick), slog.Any("error", err))
			return
		}
		if !won {
			s.log.Debug("scheduler: tick claimed by another instance", slog.String("job", name), slog.Time("tick", tick))
			return
		}
		s.execute(e, store.TriggerSchedule)
	}()
}

// RunNow runs job name once and returns its execution. An unknown name is
// BAD_USER_INPUT listing the known jobs. If the job is already running on
// this instance the run is recorded and returned as skipped. The run does
// not depend on ctx (a caller that goes away does not cancel it); ctx only
// bounds how long RunNow waits for it.
func (s *Scheduler) RunNow(ctx context.Context, name string, trigger store.CronTrigger) (store.CronExecution, error) {
	if !trigger.Valid() {
		return store.CronExecution{}, fmt.Errorf("scheduler: unknown trigger %q", trigger)
	}
	s.mu.Lock()
	e := s.jobs[name]
	known := slices.Clone(s.order)
	s.mu.Unlock()
	if e == nil {
		return store.CronExecution{}, UnknownJobError(name, known)
	}
	if !s.track() {
		return store.CronExecution{}, apperr.New(apperr.NotConfigured, "the scheduler is shutting down")
	}
	done := make(chan store.CronExecution, 1)
	go func() {
		defer s.inflight.Done()
		done <- s.execute(e, trigger)
	}()
	select {
	case ex := <-done:
		return ex, nil
	case <-ctx.Done():
		return store.CronExecution{}, fmt.Errorf("scheduler: waiting for %s: %w", name, ctx.Err())
	}
}

// UnknownJobError is the BAD_USER_INPUT error for a job name that is not
// registered; its message lists the known jobs.
func UnknownJobError(name string, known []string) error {
	return apperr.Invalid("name", "unknown job %q; known jobs: %s", name, strings.Join(known, ", "))
}

var (
	errTimedOut = errors.New("scheduler: run timed out")
	errStopped  = errors.New("scheduler: stopped before the run finished")
)

// maxErrorMessage bounds error_message.
const maxErrorMessage = 2000

// execute runs e once (or records it skipped), writes its row, alerts and
// notifies. It never fails: what goes wrong is in the returned row.
func (s *Scheduler) execute(e *entry, trigger store.CronTrigger) store.CronExecution {
	start := s.clock.Now()
	ex := store.CronExecution{
		ID: store.NewSequentialID(), JobName: e.job.Name, ExecutedAt: start.UTC(),
		Instance: s.opts.Instance, Trigger: trigger, ResultData: "{}",
	}
	if !e.busy.CompareAndSwap(false, true) {
		ex.Status = store.CronSkipped
		ex.ErrorMessage = "previous run still in progress"
		s.finish(e, &ex, 0)
		return ex
	}

	ctx, cancel := context.WithCancelCause(s.base)
	timer := s.clock.AfterFunc(e.job.Timeout, func() { cancel(errTimedOut) })

	type outcome struct {
		res Result
		err error
	}
	bodyDone := make(chan outcome, 1)
	s.inflight.Add(1) // the body may outlive this call after a timeout
	go func() {
		defer s.inflight.Done()
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("scheduler: job panicked", slog.String("job", e.job.Name),
					slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
				o = outcome{err: fmt.Errorf("panic: %v", p)}
			}
			// Free the job before reporting, so that a run started right
			// after this one returned is not mistaken for an overlap.
			e.busy.Store(false)
			bodyDone <- o
		}()
		o.res, o.err = e.job.Run(ctx)
	}()

	var o outcome
	finished := false
	select {
	case o = <-bodyDone:
		finished = true
	case <-ctx.Done():
		// The body may have returned at the same moment; prefer its answer.
		select {
		case o = <-bodyDone:
			finished = true
		default:
		}
	}
	timer.Stop()
	cause := context.Cause(ctx)
	cancel(nil)
	elapsed := s.clock.Since(start)

	ex.TokensChecked, ex.TokensRefreshed, ex.PlatformsPolled = o.res.TokensChecked, o.res.TokensRefreshed, o.res.PlatformsPolled
	ex.ResultData = resultJSON(o.res.Data)
	switch {
	case finished && o.err == nil:
		ex.Status = store.CronSuccess
	case errors.Is(cause, errTimedOut):
		ex.Status = store.CronTimeout
		ex.ErrorMessage = fmt.Sprintf("timed out after %s", e.job.Timeout)
		if finished && o.err != nil && !errors.Is(o.err, context.Canceled) {
			ex.ErrorMessage += ": " + o.err.Error()
		}
	case !finished:
		ex.Status = store.CronError
		ex.ErrorMessage = errStopped.Error()
	default:
		ex.Status = store.CronError
		ex.ErrorMessage = o.err.Error()
	}
	if len(ex.ErrorMessage) > maxErrorMessage {
		ex.ErrorMessage = ex.ErrorMessage[:maxErrorMessage] + "…"
	}
	if !finished {
		s.log.Warn("scheduler: run ended while its body is still going; the job stays busy until it returns",
			slog.String("job", e.job.Name))
	}
	s.finish(e, &ex, elapsed)
	return ex
}

func resultJSON(data any) string {
	if data == nil {
		return "{}"
	}
	b, err := json.Marshal(data)
	if err != nil {
		b, _ = json.Marshal(map[string]string{"result_error": "result data is not JSON: " + err.Error()})
	}
	return string(b)
}

// finish records ex, counts it, alerts and notifies. A row that cannot be
// written is logged and counted; the run itself stands.
func (s *Scheduler) finish(e *entry, ex *store.CronExecution, elapsed time.Duration) {
	ex.ExecutionTimeMs = elapsed.Milliseconds()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(s.base), 30*time.Second)
	defer cancel()
	log := s.log.With(slog.String("job", ex.JobName), slog.String("status", string(ex.Status)),
		slog.String("trigger", string(ex.Trigger)), slog.Int64("execution_time_ms", ex.ExecutionTimeMs))
	s.opts.Metrics.CronRun(ex.JobName, string(ex.Status), elapsed)
	s.opts.Metrics.TokensRefreshed(ex.TokensRefreshed)
	if err := s.db.InsertCronExecution(ctx, ex); err != nil {
		s.opts.Metrics.CronWriteFailed(ex.JobName)
		log.Error("scheduler: cannot record the run in cron_executions", slog.Any("error", err))
	} else {
		s.alertIfDue(ctx, *ex)
	}
	switch ex.Status {
	case store.CronSuccess, store.CronSkipped:
		log.Info("scheduler: run finished", slog.Int("tokens_checked", ex.TokensChecked),
			slog.Int("tokens_refreshed", ex.TokensRefreshed), slog.Int("platforms_polled", ex.PlatformsPolled))
	default:
		log.Warn("scheduler: run failed", slog.String("error", ex.ErrorMessage))
	}
	if s.opts.OnExecution != nil {
		s.opts.OnExecution(ctx, *ex)
	}
}

// Stop stops firing ticks and waits, within ctx, for running jobs to
// finish. When ctx ends first, the running jobs' contexts are cancelled
// and Stop returns ctx's error.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	gs := s.gs
	s.gs, s.running = nil, false
	s.mu.Unlock()
	var err error
	if gs != nil {
		if e := gs.ShutdownWithContext(ctx); e != nil {
			err = fmt.Errorf("scheduler: stop gocron: %w", e)
		}
	}
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancelBase()
		return err
	case <-ctx.Done():
		s.cancelBase()
		return fmt.Errorf("scheduler: running jobs did not finish in time: %w", ctx.Err())
	}
}

// JobInfo describes one job for admins.
type JobInfo struct {
	Name     string
	Schedule string
	Timeout  time.Duration
	// NextRun is nil when the schedule is not running on this instance.
	NextRun *time.Time
	// LastRun is nil when the job never ran.
	LastRun *domain.CronExecution
	// SuccessRate24h is nil when no run finished in the last 24 hours
	// (skipped runs are not counted).
	SuccessRate24h      *float64
	Runs24h             int
	ConsecutiveFailures int
	// Running reports a run in progress on this instance.
	Running bool
}

// Jobs describes every registered job, in registration order.
func (s *Scheduler) Jobs(ctx context.Context) ([]JobInfo, error) {
	s.mu.Lock()
	entries := make([]*entry, 0, len(s.order))
	for _, n := range s.order {
		entries = append(entries, s.jobs[n])
	}
	running := s.running
	s.mu.Unlock()
	now := s.clock.Now()
	out := make([]JobInfo, 0, len(entries))
	for _, e := range entries {
		info := JobInfo{Name: e.job.Name, Schedule: e.sched.String(), Timeout: e.job.Timeout, Running: e.busy.Load()}
		if running {
			next := e.sched.Next(now).UTC()
			info.NextRun = &next
		}
		last, err := s.db.LastCronExecution(ctx, e.job.Name)
		switch {
		case err == nil:
			d := last.Domain()
			info.LastRun = &d
		case apperr.CodeOf(err) != apperr.NotFound:
			return nil, err
		}
		st, err := s.db.CronJobStats(ctx, e.job.Name, now.Add(-24*time.Hour))
		if err != nil {
			return nil, err
		}
		if r, ok := st.SuccessRate(); ok {
			info.SuccessRate24h = &r
		}
		info.Runs24h, info.ConsecutiveFailures = st.Runs, st.ConsecutiveFailures
		out = append(out, info)
	}
	return out, nil
}

// State is the scheduler's part of /api/health.
type State struct {
	Enabled  bool     `json:"enabled"`
	Running  bool     `json:"running"`
	Instance string   `json:"instance"`
	Jobs     []string `json:"jobs"`
}

// State reports whether the schedule is running, on which instance, and
// which jobs exist.
func (s *Scheduler) State() State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{Enabled: s.opts.Enabled, Running: s.running, Instance: s.opts.Instance, Jobs: slices.Clone(s.order)}
}
