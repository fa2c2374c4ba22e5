// Package auth knows who is asking: users, browser sessions, API tokens
// (stored hashed), Google sign-in, and the viewer carried in the context.
package auth

import (
	"context"
	"slices"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
)

// Scopes an API token can carry, as stored and in Viewer.Scopes (the
// domain.Scope values).
const (
	// ScopeFull allows everything the user can do.
	ScopeFull = string(domain.ScopeFull)
	// ScopeObserverWrite only allows posting browser-extension events.
	ScopeObserverWrite = string(domain.ScopeObserverWrite)
)

// KnownScopes lists every valid scope.
var KnownScopes = []string{ScopeFull, ScopeObserverWrite}

// Viewer is the authenticated caller of a request.
type Viewer struct {
	User *domain.User
	// Scopes granted to this request; a session has ScopeFull.
	Scopes []string
	// TokenID is set when the request used an API token.
	TokenID string
	// SessionID is set when the request used a session cookie.
	SessionID string
	// SessionHash is the stored hash of the session cookie, for logout.
	SessionHash string

	// hash is the stored hash of the credential, for Revalidate.
	hash string
}

// Profile is what the API shows of the viewer's user.
func (v *Viewer) Profile() *domain.User {
	u := *v.User
	return &u
}

// profile is the viewer's user as the API shows it, from its row.
func profile(u *store.User) *domain.User {
	d := u.Domain()
	return &d
}

// Has reports whether v was granted scope (ScopeFull implies every scope).
func (v *Viewer) Has(scope string) bool {
	return slices.Contains(v.Scopes, ScopeFull) || slices.Contains(v.Scopes, scope)
}

type viewerKey struct{}

// WithViewer returns ctx carrying v.
func WithViewer(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, viewerKey{}, v)
}

// ViewerFrom returns the viewer of ctx, or nil when the request is anonymous.
func ViewerFrom(ctx context.Context) *Viewer {
	v, _ := ctx.Value(viewerKey{}).(*Viewer)
	return v
}

// Require returns the viewer when it holds scope: UNAUTHENTICATED when
// anonymous, FORBIDDEN when the token's scopes are too narrow.
func Require(ctx context.Context, scope string) (*Viewer, error) {
	v := ViewerFrom(ctx)
	if v == nil {
		return nil, apperr.New(apperr.Unauthenticated, "sign in or send an API token")
	}
	if !v.Has(scope) {
		return nil, apperr.New(apperr.Forbidden, "this token lacks the %q scope", scope)
	}
	return v, nil
}

// RequireAdmin returns the viewer when it is an admin with full scope.
func RequireAdmin(ctx context.Context) (*Viewer, error) {
	v, err := Require(ctx, ScopeFull)
	if err != nil {
		return nil, err
	}
	if !v.User.IsAdmin() {
		return nil, apperr.New(apperr.Forbidden, "admins only")
	}
	return v, nil
}
