package scheduler

import (
	"context"
	"slices"
	"strings"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
)

// What the API shows of runs (admins only; the caller checks the role).

// RunForAdmin runs job name now for an admin (runCronJob) and returns its
// execution; errors as RunNow.
func (s *Scheduler) RunForAdmin(ctx context.Context, name string) (*domain.CronExecution, error) {
	ex, err := s.RunNow(ctx, name, store.TriggerAdmin)
	if err != nil {
		return nil, err
	}
	d := ex.Domain()
	return &d, nil
}

// Executions pages through the logged runs, newest first, of job (every
// job when "") in status (any when nil).
//
// Errors: BAD_USER_INPUT for an unknown job, a bad first or cursor.
func (s *Scheduler) Executions(ctx context.Context, job string, status *domain.CronStatus, first *int, after string) (domain.Page[domain.CronExecution], error) {
	var none domain.Page[domain.CronExecution]
	n, err := domain.PageSize(first, 20, 100)
	if err != nil {
		return none, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return none, err
	}
	if err := s.CheckJob(job); err != nil {
		return none, err
	}
	f := store.CronExecutionFilter{Job: job}
	if status != nil {
		f.Status = *status
	}
	rows, err := s.db.ListCronExecutions(ctx, f, cur, n+1)
	if err != nil {
		return none, err
	}
	return domain.NewPage(store.Domains(rows, (*store.CronExecution).Domain), n, domain.CronExecution.Cursor), nil
}

// Execution returns the logged run id (NOT_FOUND otherwise).
func (s *Scheduler) Execution(ctx context.Context, id string) (*domain.CronExecution, error) {
	ex, err := s.db.CronExecutionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d := ex.Domain()
	return &d, nil
}

// CheckJob is nil for "" (every job) and a registered job's name, and
// BAD_USER_INPUT on "job" listing the known jobs otherwise.
func (s *Scheduler) CheckJob(name string) error {
	if known := s.JobNames(); name != "" && !slices.Contains(known, name) {
		return apperr.Invalid("job", "unknown job %q; known jobs: %s", name, strings.Join(known, ", "))
	}
	return nil
}
