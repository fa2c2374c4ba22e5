package graph

import (
	"context"
	"log/slog"
	"strings"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
)

type cronExecutionResolver struct{ *Resolver }
type connectionHealthResolver struct{ *Resolver }

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

func (r *queryResolver) CronExecutions(ctx context.Context, job *string, status *model.CronStatus, first *int, after *string) (*model.CronExecutionConnection, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	n, err := store.PageSize(first, 20, 100)
	if err != nil {
		return nil, err
	}
	cur, err := store.DecodeCursor(deref(after))
	if err != nil {
		return nil, err
	}
	f := store.CronExecutionFilter{Job: deref(job)}
	if status != nil {
		f.Status = store.CronStatus(strings.ToLower(string(*status)))
	}
	if f.Job != "" && !r.knownJob(f.Job) {
		return nil, apperr.Invalid("job", "unknown job %q; known jobs: %s", f.Job, strings.Join(r.Jobs.JobNames(), ", "))
	}
	rows, err := r.DB.ListCronExecutions(ctx, f, cur, n+1)
	if err != nil {
		return nil, err
	}
	conn := &model.CronExecutionConnection{Edges: []model.CronExecutionEdge{}}
	if len(rows) > n {
		rows, conn.PageInfo.HasNextPage = rows[:n], true
	}
	for _, e := range rows {
		c := store.Cursor{Time: e.ExecutedAt, ID: e.ID}.Encode()
		conn.Edges = append(conn.Edges, model.CronExecutionEdge{Node: e, Cursor: c})
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}

func (r *queryResolver) ConnectionHealth(ctx context.Context) ([]store.ConnectionHealth, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return r.DB.CountConnectionsByPlatformStatus(ctx)
}

func (r *mutationResolver) RunCronJob(ctx context.Context, name string) (*store.CronExecution, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	ex, err := r.Jobs.RunNow(ctx, name, store.TriggerAdmin)
	if err != nil {
		return nil, err
	}
	return &ex, nil
}

func (r *subscriptionResolver) CronExecutionCompleted(ctx context.Context, job *string) (<-chan *store.CronExecution, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	if j := deref(job); j != "" && !r.knownJob(j) {
		return nil, apperr.Invalid("job", "unknown job %q; known jobs: %s", j, strings.Join(r.Jobs.JobNames(), ", "))
	}
	// Every admin sees the same execution: one view per job filter.
	f := events.Filter{Topic: events.CronExecutionCompleted, Key: deref(job)}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*store.CronExecution, bool) {
		id, ok := eventID(e)
		if !ok {
			return nil, false
		}
		ex, err := r.DB.CronExecutionByID(ctx, id)
		if err != nil {
			if ctx.Err() == nil {
				r.Log.WarnContext(ctx, "graph: cronExecutionCompleted lookup", slog.Any("error", err))
			}
			return nil, false
		}
		return ex, true
	}), nil
}

func (r *Resolver) knownJob(name string) bool {
	for _, n := range r.Jobs.JobNames() {
		if n == name {
			return true
		}
	}
	return false
}

func (r *cronExecutionResolver) Status(ctx context.Context, obj *store.CronExecution) (model.CronStatus, error) {
	s := model.CronStatus(strings.ToUpper(string(obj.Status)))
	if !s.IsValid() {
		return "", apperr.New(apperr.Internal, "execution %s has unknown status %q", obj.ID, obj.Status)
	}
	return s, nil
}

func (r *cronExecutionResolver) Trigger(ctx context.Context, obj *store.CronExecution) (model.CronTrigger, error) {
	t := model.CronTrigger(strings.ToUpper(string(obj.Trigger)))
	if !t.IsValid() {
		return "", apperr.New(apperr.Internal, "execution %s has unknown trigger %q", obj.ID, obj.Trigger)
	}
	return t, nil
}

func (r *cronExecutionResolver) ExecutionTimeMs(ctx context.Context, obj *store.CronExecution) (int, error) {
	return int(obj.ExecutionTimeMs), nil
}

func (r *cronExecutionResolver) ErrorMessage(ctx context.Context, obj *store.CronExecution) (*string, error) {
	if obj.ErrorMessage == "" {
		return nil, nil
	}
	return &obj.ErrorMessage, nil
}

func (r *cronExecutionResolver) ResultData(ctx context.Context, obj *store.CronExecution) (model.JSON, error) {
	if obj.ResultData == "" {
		return model.JSON("{}"), nil
	}
	return model.JSON(obj.ResultData), nil
}

func (r *connectionHealthResolver) Platform(ctx context.Context, obj *store.ConnectionHealth) (model.Platform, error) {
	return model.Platform(strings.ToUpper(obj.Platform)), nil
}

func (r *connectionHealthResolver) Status(ctx context.Context, obj *store.ConnectionHealth) (model.ConnectionStatus, error) {
	return model.ConnectionStatus(strings.ToUpper(string(obj.Status))), nil
}
