package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/store"
)

// DefaultRetention is how long cron_executions rows are kept.
const DefaultRetention = 90 * 24 * time.Hour

// claimRetention is how long cron_claims rows are kept: far longer than any
// clock skew or late tick, far shorter than the executions.
const claimRetention = 48 * time.Hour

// CleanupStep is one extra deletion the maintenance job runs, such as
// expired sessions or OAuth states. Run returns how many rows it removed.
type CleanupStep struct {
	Name string
	Run  func(ctx context.Context) (int64, error)
}

// MaintenanceOptions configure MaintenanceJob.
type MaintenanceOptions struct {
	// Schedule defaults to DefaultSchedules[JobMaintenance].
	Schedule string
	// Retention of cron_executions; default DefaultRetention.
	Retention time.Duration
	// Steps run after the built-in ones, in order.
	Steps []CleanupStep
}

// MaintenanceReport is the maintenance job's result_data.
type MaintenanceReport struct {
	Deleted map[string]int64  `json:"deleted"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// MaintenanceJob drops cron_executions older than the retention and old
// cron_claims, then runs the extra steps. A failing step does not stop the
// others; the run fails if any step failed.
func MaintenanceJob(db *store.DB, clock clockwork.Clock, opts MaintenanceOptions) Job {
	if opts.Schedule == "" {
		opts.Schedule = DefaultSchedules[JobMaintenance]
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	steps := append([]CleanupStep{
		{Name: "cron_executions", Run: func(ctx context.Context) (int64, error) {
			return db.DeleteCronExecutionsBefore(ctx, clock.Now().Add(-opts.Retention))
		}},
		{Name: "cron_claims", Run: func(ctx context.Context) (int64, error) {
			return db.DeleteCronClaimsBefore(ctx, clock.Now().Add(-claimRetention))
		}},
	}, opts.Steps...)
	return Job{
		Name:     JobMaintenance,
		Schedule: opts.Schedule,
		Timeout:  10 * time.Minute,
		Run: func(ctx context.Context) (Result, error) {
			rep := MaintenanceReport{Deleted: map[string]int64{}}
			var errs []error
			for _, st := range steps {
				if err := ctx.Err(); err != nil {
					errs = append(errs, err)
					break
				}
				n, err := st.Run(ctx)
				if err != nil {
					if rep.Errors == nil {
						rep.Errors = map[string]string{}
					}
					rep.Errors[st.Name] = err.Error()
					errs = append(errs, fmt.Errorf("%s: %w", st.Name, err))
					continue
				}
				rep.Deleted[st.Name] = n
			}
			if len(errs) > 0 {
				return Result{Data: rep}, fmt.Errorf("scheduler: maintenance: %w", errors.Join(errs...))
			}
			return Result{Data: rep}, nil
		},
	}
}
