package graph

import (
	"context"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
)

func (r *queryResolver) CronJobs(ctx context.Context) ([]model.CronJob, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	infos, err := r.Jobs.Jobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]model.CronJob, 0, len(infos))
	for _, j := range infos {
		out = append(out, model.CronJob{
			Name: j.Name, Schedule: j.Schedule, NextRun: j.NextRun, LastRun: j.LastRun,
			SuccessRate24h: j.SuccessRate24h, Runs24h: j.Runs24h, ConsecutiveFailures: j.ConsecutiveFailures, Running: j.Running,
		})
	}
	return out, nil
}

func (r *queryResolver) CronExecutions(ctx context.Context, job *string, status *domain.CronStatus, first *int, after *string) (*model.CronExecutionConnection, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	page, err := r.Jobs.Executions(ctx, deref(job), status, first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.CronExecutionConnection{}
	conn.Edges, conn.PageInfo = relay(page, func(n domain.CronExecution, c string) model.CronExecutionEdge {
		return model.CronExecutionEdge{Node: n, Cursor: c}
	})
	return conn, nil
}

func (r *queryResolver) ConnectionHealth(ctx context.Context) ([]domain.ConnectionHealth, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return r.Fleet.ConnectionHealth(ctx)
}

func (r *mutationResolver) RunCronJob(ctx context.Context, name string) (*domain.CronExecution, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return r.Jobs.RunForAdmin(ctx, name)
}

func (r *subscriptionResolver) CronExecutionCompleted(ctx context.Context, job *string) (<-chan *domain.CronExecution, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if err := r.Jobs.CheckJob(deref(job)); err != nil {
		return nil, err
	}
	// Every admin sees the same execution: one view per job filter.
	f := events.Filter{Topic: events.CronExecutionCompleted, Key: deref(job)}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*domain.CronExecution, bool) {
		return lookup(ctx, r.Log, e, "cronExecutionCompleted", r.Jobs.Execution)
	}), nil
}
