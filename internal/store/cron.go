package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
)

// CronStatus is the outcome of one run of a scheduled job (see domain).
type CronStatus = domain.CronStatus

const (
	CronSuccess = domain.CronSuccess
	CronError   = domain.CronError
	CronTimeout = domain.CronTimeout
	CronSkipped = domain.CronSkipped
)

// CronTrigger says what started a run (see domain).
type CronTrigger = domain.CronTrigger

const (
	TriggerSchedule = domain.TriggerSchedule
	TriggerHTTP     = domain.TriggerHTTP
	TriggerAdmin    = domain.TriggerAdmin
	TriggerCLI      = domain.TriggerCLI
)

// CronExecution is one run of a scheduled job.
type CronExecution struct {
	bun.BaseModel `bun:"table:cron_executions" json:"-"`

	ID              string     `bun:"id,pk" json:"id"`
	JobName         string     `bun:"job_name,notnull" json:"job_name"`
	Status          CronStatus `bun:"status,notnull" json:"status"`
	ExecutionTimeMs int64      `bun:"execution_time_ms,notnull" json:"execution_time_ms"`
	TokensChecked   int        `bun:"tokens_checked,notnull" json:"tokens_checked"`
	TokensRefreshed int        `bun:"tokens_refreshed,notnull" json:"tokens_refreshed"`
	PlatformsPolled int        `bun:"platforms_polled,notnull" json:"platforms_polled"`
	ErrorMessage    string     `bun:"error_message,notnull" json:"error_message"`
	// ResultData is a JSON document; "{}" when the job reported nothing.
	ResultData string      `bun:"result_data,notnull" json:"-"`
	ExecutedAt time.Time   `bun:"executed_at,notnull" json:"executed_at"`
	Instance   string      `bun:"instance,notnull" json:"instance"`
	Trigger    CronTrigger `bun:"trigger,notnull" json:"trigger"`
}

// MarshalJSON writes e like the original service's log entry: result_data
// as a JSON document and error_message null when there was no error.
func (e CronExecution) MarshalJSON() ([]byte, error) {
	type plain CronExecution
	out := struct {
		plain
		ErrorMessage *string         `json:"error_message"`
		ResultData   json.RawMessage `json:"result_data"`
	}{plain: plain(e)}
	if e.ErrorMessage != "" {
		out.ErrorMessage = &e.ErrorMessage
	}
	out.ResultData = json.RawMessage(e.ResultData)
	if !json.Valid(out.ResultData) {
		out.ResultData = json.RawMessage("{}")
	}
	return json.Marshal(out)
}

// CronClaim records which instance runs one scheduled tick of a job.
type CronClaim struct {
	bun.BaseModel `bun:"table:cron_claims"`

	JobName   string    `bun:"job_name,pk"`
	Tick      time.Time `bun:"tick,pk"`
	Instance  string    `bun:"instance,notnull"`
	ClaimedAt time.Time `bun:"claimed_at,notnull"`
}

// NewSequentialID returns a random id whose string order follows creation
// order within this process (UUIDv7), so rows written at the same instant
// still sort in the order they were written.
func NewSequentialID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return NewID()
	}
	return id.String()
}

// InsertCronExecution stores e, filling its id when empty.
func (db *DB) InsertCronExecution(ctx context.Context, e *CronExecution) error {
	if !e.Status.Valid() {
		return fmt.Errorf("store: insert cron execution: unknown status %q", e.Status)
	}
	if !e.Trigger.Valid() {
		return fmt.Errorf("store: insert cron execution: unknown trigger %q", e.Trigger)
	}
	if e.ID == "" {
		e.ID = NewSequentialID()
	}
	if e.ResultData == "" {
		e.ResultData = "{}"
	}
	e.ExecutedAt = UTC(e.ExecutedAt)
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("store: insert cron execution: %w", err)
	}
	return nil
}

// CronExecutionFilter narrows ListCronExecutions; zero fields match all.
type CronExecutionFilter struct {
	Job    string
	Status CronStatus
}

// ListCronExecutions lists executions newest first, ordered by
// (executed_at, id) descending, after the keyset cursor. An unknown status
// is BAD_USER_INPUT.
func (db *DB) ListCronExecutions(ctx context.Context, f CronExecutionFilter, after *Cursor, limit int) ([]CronExecution, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, apperr.Invalid("status", "unknown status %q (want success, error, timeout or skipped)", f.Status)
	}
	var es []CronExecution
	q := db.NewSelect().Model(&es).OrderExpr("executed_at DESC, id DESC").Limit(int64(limit))
	if f.Job != "" {
		q = q.Where("job_name = ?", f.Job)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if after != nil {
		q = q.Where("(executed_at, id) < (?, ?)", UTC(after.Time), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list cron executions: %w", err)
	}
	return es, nil
}

// CursorOf returns the keyset position of e in ListCronExecutions.
func (e *CronExecution) CursorOf() Cursor { return Cursor{Time: e.ExecutedAt, ID: e.ID} }

// LastCronExecution returns job's most recent execution, or NOT_FOUND.
func (db *DB) LastCronExecution(ctx context.Context, job string) (*CronExecution, error) {
	e := new(CronExecution)
	err := db.NewSelect().Model(e).Where("job_name = ?", job).
		OrderExpr("executed_at DESC, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "cron execution")
	}
	return e, nil
}

// CronJobStats summarises the recent runs of one job.
type CronJobStats struct {
	// Runs and Successes count executions in the window that were not
	// skipped.
	Runs, Successes int
	// ConsecutiveFailures counts the error and timeout runs since the last
	// success (skipped runs neither break nor extend a streak).
	ConsecutiveFailures int
}

// SuccessRate is Successes/Runs, or false when there were no runs.
func (s CronJobStats) SuccessRate() (float64, bool) {
	if s.Runs == 0 {
		return 0, false
	}
	return float64(s.Successes) / float64(s.Runs), true
}

// CronJobStats counts job's runs since since, and its current failure streak.
func (db *DB) CronJobStats(ctx context.Context, job string, since time.Time) (CronJobStats, error) {
	var st CronJobStats
	var rows []struct {
		Status CronStatus `bun:"status"`
		N      int        `bun:"n"`
	}
	err := db.NewSelect().Model((*CronExecution)(nil)).
		ColumnExpr("status, COUNT(*) AS n").
		Where("job_name = ?", job).Where("executed_at >= ?", UTC(since)).Where("status <> ?", CronSkipped).
		GroupExpr("status").Scan(ctx, &rows)
	if err != nil {
		return st, fmt.Errorf("store: cron job stats: %w", err)
	}
	for _, r := range rows {
		st.Runs += r.N
		if r.Status == CronSuccess {
			st.Successes += r.N
		}
	}
	st.ConsecutiveFailures, err = db.CronConsecutiveFailures(ctx, job, nil)
	return st, err
}

// CronConsecutiveFailures counts job's error and timeout runs since its last
// success, up to and including the execution at (e.ExecutedAt, e.ID), or up
// to the newest when e is nil. Each execution thus has its own fixed count,
// which lets exactly one run — the one whose count reaches the alert
// threshold — send an alert, whichever instance wrote it.
func (db *DB) CronConsecutiveFailures(ctx context.Context, job string, e *CronExecution) (int, error) {
	return db.failureStreak(ctx, job, e, true)
}

// CronFailureStreakBefore counts job's error and timeout runs since its last
// success strictly before e: for a success e, the streak it ends.
func (db *DB) CronFailureStreakBefore(ctx context.Context, job string, e *CronExecution) (int, error) {
	return db.failureStreak(ctx, job, e, false)
}

func (db *DB) failureStreak(ctx context.Context, job string, e *CronExecution, inclusive bool) (int, error) {
	upTo := func(q *bun.SelectQuery) *bun.SelectQuery {
		if e == nil {
			return q
		}
		t := UTC(e.ExecutedAt)
		if inclusive {
			return q.Where("(executed_at, id) <= (?, ?)", t, e.ID)
		}
		return q.Where("(executed_at, id) < (?, ?)", UTC(t), e.ID)
	}
	var last []CronExecution
	err := upTo(db.NewSelect().Model(&last).Column("executed_at", "id").
		Where("job_name = ?", job).Where("status = ?", CronSuccess)).
		OrderExpr("executed_at DESC, id DESC").Limit(1).Scan(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: cron failure streak: %w", err)
	}
	q := upTo(db.NewSelect().Model((*CronExecution)(nil)).
		Where("job_name = ?", job).Where("status IN (?, ?)", CronError, CronTimeout))
	if len(last) == 1 {
		t := UTC(last[0].ExecutedAt)
		q = q.Where("(executed_at, id) > (?, ?)", UTC(t), last[0].ID)
	}
	n, err := q.Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: cron failure streak: %w", err)
	}
	return int(n), nil
}

// ClaimCronTick records that instance runs job's tick (its scheduled time)
// and reports whether this call won: of several instances claiming the same
// (job, tick), exactly one gets true.
func (db *DB) ClaimCronTick(ctx context.Context, job string, tick time.Time, instance string, now time.Time) (bool, error) {
	c := &CronClaim{JobName: job, Tick: UTC(tick), Instance: instance, ClaimedAt: UTC(now)}
	res, err := db.NewInsert().Model(c).On("CONFLICT (job_name, tick) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: claim cron tick: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim cron tick: %w", err)
	}
	return n == 1, nil
}

// DeleteCronExecutionsBefore drops executions older than cutoff.
func (db *DB) DeleteCronExecutionsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*CronExecution)(nil)).Where("executed_at < ?", UTC(cutoff)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete old cron executions: %w", err)
	}
	return res.RowsAffected()
}

// DeleteCronClaimsBefore drops claims of ticks older than cutoff.
func (db *DB) DeleteCronClaimsBefore(ctx context.Context, cutoff time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*CronClaim)(nil)).Where("tick < ?", UTC(cutoff)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete old cron claims: %w", err)
	}
	return res.RowsAffected()
}
