package graph

import (
	"context"
	"time"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
)

func (r *queryResolver) Me(ctx context.Context) (*domain.User, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return v.Profile(), nil
}

func (r *queryResolver) APITokens(ctx context.Context) ([]domain.APIToken, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Auth.ListAPITokens(ctx, v.User.ID)
}

func (r *queryResolver) Users(ctx context.Context, first *int, after *string, search *string) (*model.UserConnection, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	page, err := r.Auth.ListUsers(ctx, deref(search), first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.UserConnection{}
	conn.Edges, conn.PageInfo = relay(page, func(n domain.User, c string) model.UserEdge { return model.UserEdge{Node: n, Cursor: c} })
	return conn, nil
}

func (r *mutationResolver) CreateAPIToken(ctx context.Context, name string, scopes []domain.Scope, expiresAt *time.Time) (*model.CreatedAPIToken, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	value, t, err := r.Auth.CreateAPIToken(ctx, v.User.ID, name, names, expiresAt)
	if err != nil {
		return nil, err
	}
	return &model.CreatedAPIToken{Token: value, APIToken: *t}, nil
}

func (r *mutationResolver) RevokeAPIToken(ctx context.Context, id string) (*domain.APIToken, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Auth.RevokeAPIToken(ctx, v.User.ID, id)
}

func (r *mutationResolver) UpdateProfile(ctx context.Context, input model.UpdateProfileInput) (*domain.User, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Auth.UpdateProfile(ctx, v, input.Name, input.AvatarURL, input.TimeZone)
}

func (r *mutationResolver) Logout(ctx context.Context) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Auth.Logout(ctx, v); err != nil {
		return false, err
	}
	return true, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
