package graph

import (
	"context"
	"strings"
	"time"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/store"
)

type userResolver struct{ *Resolver }
type apiTokenResolver struct{ *Resolver }

func (r *queryResolver) Me(ctx context.Context) (*store.User, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return v.User, nil
}

func (r *queryResolver) APITokens(ctx context.Context) ([]store.APIToken, error) {
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
	n, err := store.PageSize(first, 20, 100)
	if err != nil {
		return nil, err
	}
	cur, err := store.DecodeCursor(deref(after))
	if err != nil {
		return nil, err
	}
	users, err := r.Auth.ListUsers(ctx, deref(search), cur, n+1)
	if err != nil {
		return nil, err
	}
	conn := &model.UserConnection{Edges: []model.UserEdge{}}
	if len(users) > n {
		users = users[:n]
		conn.PageInfo.HasNextPage = true
	}
	for _, u := range users {
		c := store.Cursor{Time: u.CreatedAt, ID: u.ID}.Encode()
		conn.Edges = append(conn.Edges, model.UserEdge{Node: u, Cursor: c})
		conn.PageInfo.EndCursor = &c
	}
	return conn, nil
}

func (r *mutationResolver) CreateAPIToken(ctx context.Context, name string, scopes []model.Scope, expiresAt *time.Time) (*model.CreatedAPIToken, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(scopes))
	for _, s := range scopes {
		names = append(names, scopeNames[string(s)])
	}
	value, t, err := r.Auth.CreateAPIToken(ctx, v.User.ID, name, names, expiresAt)
	if err != nil {
		return nil, err
	}
	return &model.CreatedAPIToken{Token: value, APIToken: *t}, nil
}

func (r *mutationResolver) RevokeAPIToken(ctx context.Context, id string) (*store.APIToken, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Auth.RevokeAPIToken(ctx, v.User.ID, id)
}

func (r *mutationResolver) UpdateProfile(ctx context.Context, input model.UpdateProfileInput) (*store.User, error) {
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

func (r *userResolver) Role(ctx context.Context, obj *store.User) (model.Role, error) {
	if obj.IsAdmin() {
		return model.RoleAdmin, nil
	}
	return model.RoleUser, nil
}

func (r *userResolver) TimeZoneSource(ctx context.Context, obj *store.User) (model.TimeZoneSource, error) {
	switch obj.TimeZoneSource() {
	case store.TimeZoneChosen:
		return model.TimeZoneSourceChosen, nil
	case store.TimeZoneExtension:
		return model.TimeZoneSourceExtension, nil
	}
	return model.TimeZoneSourceDefault, nil
}

func (r *apiTokenResolver) Scopes(ctx context.Context, obj *store.APIToken) ([]model.Scope, error) {
	var out []model.Scope
	for _, s := range obj.ScopeList() {
		for enum, name := range scopeNames {
			if name == s {
				out = append(out, model.Scope(enum))
			}
		}
	}
	if out == nil {
		return nil, apperr.New(apperr.Internal, "token %s has no known scope (%s)", obj.ID, strings.Join(obj.ScopeList(), " "))
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
