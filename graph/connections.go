package graph

import (
	"context"
	"log/slog"
	"strings"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

type connectionResolver struct{ *Resolver }

func platformID(p model.Platform) (platform.ID, error) {
	return platform.Parse(string(p))
}

func (r *queryResolver) Platforms(ctx context.Context) ([]model.PlatformInfo, error) {
	out := make([]model.PlatformInfo, 0, len(platform.All))
	for _, id := range platform.All {
		p := r.Provider[id]
		out = append(out, model.PlatformInfo{
			Platform: model.Platform(strings.ToUpper(string(id))), Name: p.Name,
			Configured: r.Connect.Configured(id), Scopes: nonNil(p.Scopes), Reads: nonNil(p.Reads),
		})
	}
	return out, nil
}

func (r *queryResolver) Connections(ctx context.Context) ([]store.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.DB.ListConnections(ctx, v.User.ID)
}

func (r *mutationResolver) StartConnection(ctx context.Context, p model.Platform) (*model.StartConnectionPayload, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := platformID(p)
	if err != nil {
		return nil, err
	}
	u, exp, err := r.Connect.Start(ctx, v.User.ID, id)
	if err != nil {
		return nil, err
	}
	return &model.StartConnectionPayload{AuthorizeURL: u, ExpiresAt: exp}, nil
}

func (r *mutationResolver) Disconnect(ctx context.Context, p model.Platform, deleteData *bool) (*store.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	id, err := platformID(p)
	if err != nil {
		return nil, err
	}
	return r.Connect.Disconnect(ctx, v.User.ID, id, deleteData != nil && *deleteData)
}

func (r *mutationResolver) RefreshConnectionToken(ctx context.Context, id string) (*store.Connection, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	return r.Tokens.Refresh(ctx, id)
}

func (r *subscriptionResolver) ConnectionUpdated(ctx context.Context) (<-chan *store.Connection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: events.ConnectionUpdated, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*store.Connection, bool) {
		id, ok := eventID(e)
		if !ok {
			return nil, false
		}
		// Read the row as its owner (the view's user): the event only names it.
		c, err := r.DB.ConnectionForUser(ctx, userID, id)
		if err != nil {
			if ctx.Err() == nil {
				r.Log.WarnContext(ctx, "graph: connectionUpdated lookup", slog.Any("error", err))
			}
			return nil, false
		}
		return c, true
	}), nil
}

func (r *connectionResolver) Platform(ctx context.Context, obj *store.Connection) (model.Platform, error) {
	p := model.Platform(strings.ToUpper(obj.Platform))
	if !p.IsValid() {
		return "", apperr.New(apperr.Internal, "connection %s has unknown platform %q", obj.ID, obj.Platform)
	}
	return p, nil
}

func (r *connectionResolver) Status(ctx context.Context, obj *store.Connection) (model.ConnectionStatus, error) {
	s := model.ConnectionStatus(strings.ToUpper(string(obj.Status)))
	if !s.IsValid() {
		return "", apperr.New(apperr.Internal, "connection %s has unknown status %q", obj.ID, obj.Status)
	}
	return s, nil
}

func (r *connectionResolver) LastError(ctx context.Context, obj *store.Connection) (*string, error) {
	if obj.LastError == "" {
		return nil, nil
	}
	return &obj.LastError, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
