package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
)

// Why a credential ended.
const (
	EndRevoked = "revoked" // an API token was revoked
	EndLogout  = "logout"  // a session was logged out
	EndExpired = "expired" // a token or session reached its expiry
	EndDemoted = "demoted" // the user lost the admin role
	EndDeleted = "deleted" // the account was deleted
)

// CredentialEnd says which credentials stopped being valid: one API token,
// one session, or (both ids empty) every credential of the user. It travels
// on the bus (topic events.CredentialEnded) so every instance clears its
// cache and closes its own websockets; it carries ids, never hashes.
type CredentialEnd struct {
	UserID    string `json:"user"`
	TokenID   string `json:"token,omitempty"`
	SessionID string `json:"session,omitempty"`
	Reason    string `json:"reason"`
}

// Topic implements events.Payload.
func (CredentialEnd) Topic() string { return events.CredentialEnded }

func (c CredentialEnd) matches(v *Viewer) bool {
	switch {
	case v == nil || v.User.ID != c.UserID:
		return false
	case c.TokenID != "":
		return v.TokenID == c.TokenID
	case c.SessionID != "":
		return v.SessionID == c.SessionID
	}
	return true
}

// watch is one live use of a credential (a websocket) told when it ends.
type watch struct {
	viewer *Viewer
	onEnd  func(reason string)
	timer  clockwork.Timer
	done   bool
}

// Watch calls onEnd (once, from another goroutine) when v's credential ends
// on any instance: revoked, logged out, expired, the user demoted or
// deleted. Stop releases the watch. The expiry is watched with the service's
// clock: at the credential's expiry it is checked again (a session used in
// the meantime has slid forward) and onEnd is called when it is really over.
func (s *Service) Watch(v *Viewer, onEnd func(reason string)) (stop func()) {
	w := &watch{viewer: v, onEnd: onEnd}
	s.mu.Lock()
	ws := s.watchers[v.User.ID]
	if ws == nil {
		ws = map[*watch]struct{}{}
		s.watchers[v.User.ID] = ws
	}
	ws[w] = struct{}{}
	s.armExpiryLocked(w)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		s.unwatchLocked(w)
		s.mu.Unlock()
	}
}

// Watching returns how many live watches userID has on this instance.
func (s *Service) Watching(userID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers[userID])
}

func (s *Service) unwatchLocked(w *watch) {
	if w.done {
		return
	}
	w.done = true
	if w.timer != nil {
		w.timer.Stop()
	}
	ws := s.watchers[w.viewer.User.ID]
	delete(ws, w)
	if len(ws) == 0 {
		delete(s.watchers, w.viewer.User.ID)
	}
}

func (s *Service) armExpiryLocked(w *watch) {
	e, ok := s.cache[w.viewer.hash]
	if !ok || e.expiresAt.IsZero() {
		return
	}
	w.timer = s.clock.AfterFunc(e.expiresAt.Sub(s.clock.Now()), func() { s.checkExpiry(w) })
}

// checkExpiry runs at a watched credential's expiry.
func (s *Service) checkExpiry(w *watch) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.Revalidate(ctx, w.viewer)
	s.mu.Lock()
	if w.done {
		s.mu.Unlock()
		return
	}
	if err == nil {
		s.armExpiryLocked(w)
		s.mu.Unlock()
		return
	}
	if apperr.CodeOf(err) != apperr.Unauthenticated {
		// The database did not answer: look again shortly rather than
		// ending a credential that may be alive.
		w.timer = s.clock.AfterFunc(5*time.Second, func() { s.checkExpiry(w) })
		s.mu.Unlock()
		return
	}
	s.unwatchLocked(w)
	s.mu.Unlock()
	w.onEnd(EndExpired)
}

// SetRole changes userID's role. A demotion ends every credential's view of
// the admin role at once on every instance: cached viewers are dropped and
// the user's websockets (and with them admin subscriptions) are closed.
func (s *Service) SetRole(ctx context.Context, userID string, role domain.Role) (*store.User, error) {
	if role != store.RoleUser && role != store.RoleAdmin {
		return nil, apperr.Invalid("role", "role must be %q or %q", store.RoleUser, store.RoleAdmin)
	}
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	was := u.Role
	u.Role, u.UpdatedAt = role, s.clock.Now()
	if err := s.db.UpdateUser(ctx, u, "role"); err != nil {
		return nil, err
	}
	if was == store.RoleAdmin && role != store.RoleAdmin {
		s.end(ctx, CredentialEnd{UserID: userID, Reason: EndDemoted})
	} else {
		s.forgetUser(userID)
	}
	return u, nil
}

// UserDeleted ends every credential of a deleted user on every instance.
// Call it after the deletion committed.
func (s *Service) UserDeleted(ctx context.Context, userID string) {
	s.end(ctx, CredentialEnd{UserID: userID, Reason: EndDeleted})
}

// end applies c here at once, then tells the other instances. A lost
// publish is logged: the others then stop trusting the credential within
// CacheTTL.
func (s *Service) end(ctx context.Context, c CredentialEnd) {
	s.apply(c)
	if err := events.Publish(context.WithoutCancel(ctx), s.opts.Bus, s.log, "", c.UserID, c); err != nil {
		s.log.ErrorContext(ctx, "auth: publish credential end; other instances fall back on the cache TTL", slog.String("user_id", c.UserID), slog.String("reason", c.Reason), slog.Any("error", err))
	}
}

// apply drops the cached viewers c covers and ends their watches.
func (s *Service) apply(c CredentialEnd) {
	var ended []*watch
	s.mu.Lock()
	s.gen++
	for k, e := range s.cache {
		if c.matches(e.viewer) {
			delete(s.cache, k)
		}
	}
	for w := range s.watchers[c.UserID] {
		if c.matches(w.viewer) {
			ended = append(ended, w)
			s.unwatchLocked(w)
		}
	}
	s.mu.Unlock()
	for _, w := range ended {
		go w.onEnd(c.Reason)
	}
	if s.opts.OnEnd != nil {
		s.opts.OnEnd(c)
	}
}

// Listen applies the credential ends other instances publish until ctx
// ends. It returns once the subscription is in place.
func (s *Service) Listen(ctx context.Context) {
	if s.opts.Bus == nil {
		return
	}
	ch := s.opts.Bus.Subscribe(ctx, events.Filter{Topic: events.CredentialEnded})
	go func() {
		for {
			for e := range ch {
				var c CredentialEnd
				if err := json.Unmarshal(e.Payload, &c); err != nil || c.UserID == "" {
					s.log.Warn("auth: ignoring malformed credential event", slog.Any("error", err))
					continue
				}
				s.apply(c)
			}
			if ctx.Err() != nil {
				return
			}
			// Dropped as a slow subscriber: forget everything cached (an
			// event may be lost) and listen again.
			s.mu.Lock()
			s.gen++
			clear(s.cache)
			s.mu.Unlock()
			ch = s.opts.Bus.Subscribe(ctx, events.Filter{Topic: events.CredentialEnded})
		}
	}()
}
