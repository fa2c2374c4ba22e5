package graph

import (
	"context"
	"log/slog"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/platform"
)

func (r *queryResolver) Platforms(ctx context.Context) ([]model.PlatformInfo, error) {
	out := make([]model.PlatformInfo, 0, len(platform.All))
	for _, id := range platform.All {
		p := r.Provider[id]
		out = append(out, model.PlatformInfo{
			Platform: id, Name: p.Name, Configured: r.Connect.Configured(id), Scopes: nonNil(p.Scopes), Reads: nonNil(p.Reads),
		})
	}
	return out, nil
}

func (r *queryResolver) Connections(ctx context.Context) ([]domain.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Connect.Connections(ctx, v.User.ID)
}

func (r *mutationResolver) StartConnection(ctx context.Context, p domain.Platform) (*model.StartConnectionPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	u, exp, err := r.Connect.Start(ctx, v.User.ID, p)
	if err != nil {
		return nil, err
	}
	return &model.StartConnectionPayload{AuthorizeURL: u, ExpiresAt: exp}, nil
}

func (r *mutationResolver) Disconnect(ctx context.Context, p domain.Platform, deleteData *bool) (*domain.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Connect.Disconnect(ctx, v.User.ID, p, deleteData != nil && *deleteData)
}

func (r *mutationResolver) RefreshConnectionToken(ctx context.Context, id string) (*domain.Connection, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return r.Tokens.RefreshConnection(ctx, id)
}

func (r *subscriptionResolver) ConnectionUpdated(ctx context.Context) (<-chan *domain.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: events.ConnectionUpdated, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*domain.Connection, bool) {
		// Read the row as its owner (the view's user): the event only names it.
		return lookup(ctx, r.Log, e, "connectionUpdated", func(ctx context.Context, id string) (*domain.Connection, error) {
			return r.Connect.Connection(ctx, userID, id)
		})
	}), nil
}

// lookup renders an event that names a row ({"id": …}) by reading it; a
// failed read sends nothing, and is logged when log is not nil (unless the
// view ended).
func lookup[T any](ctx context.Context, log *slog.Logger, e events.Event, field string, read func(context.Context, string) (*T, error)) (*T, bool) {
	id, ok := eventID(e)
	if !ok {
		return nil, false
	}
	x, err := read(ctx, id)
	if err != nil {
		if log != nil && ctx.Err() == nil {
			log.WarnContext(ctx, "graph: "+field+" lookup", slog.Any("error", err))
		}
		return nil, false
	}
	return x, true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
