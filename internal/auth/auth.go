package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
)

// TokenPrefix starts every API token, so leaked tokens are easy to spot.
const TokenPrefix = "tm_"

// Options tune the service.
type Options struct {
	SessionTTL  time.Duration
	AdminEmails []string
	// CacheTTL bounds how long a verified credential is trusted without a
	// database read. Revocation, logout, demotion and deletion clear it on
	// every instance through Bus; the TTL only bounds what a lost event
	// (a listener reconnecting) could leave behind.
	CacheTTL time.Duration
	// Bus carries credential events between instances; nil keeps them in
	// this process.
	Bus events.Bus
	// OnEnd is told of every credential end applied on this instance (its
	// own and those other instances publish), after the cached viewers
	// are dropped: caches of what a credential read forget it.
	OnEnd func(CredentialEnd)
}

// Service authenticates requests and manages users, sessions and tokens.
type Service struct {
	db    *store.DB
	clock clockwork.Clock
	opts  Options
	log   *slog.Logger

	mu    sync.Mutex
	cache map[string]cacheEntry // credential hash -> verified viewer
	// gen counts credential ends; a load that started before one is not
	// cached, so a revocation racing a request leaves no stale entry.
	gen      uint64
	watchers map[string]map[*watch]struct{} // user id -> live credential watchers
}

type cacheEntry struct {
	viewer    *Viewer
	expiresAt time.Time // credential expiry (session or token), zero = never
	checkedAt time.Time // when the database last confirmed it
	touchedAt time.Time // when last_used_at was last written
}

// touchEvery limits last_used_at writes to one per credential per minute,
// so a busy client does not turn every read into a write.
const touchEvery = time.Minute

// maxCacheEntries bounds the credential cache; when full it is cleared.
const maxCacheEntries = 100_000

// NewService returns an auth service over db.
func NewService(db *store.DB, clock clockwork.Clock, log *slog.Logger, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 30 * 24 * time.Hour
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 15 * time.Second
	}
	for i, e := range opts.AdminEmails {
		opts.AdminEmails[i] = strings.ToLower(e)
	}
	return &Service{db: db, clock: clock, opts: opts, log: log, cache: map[string]cacheEntry{}, watchers: map[string]map[*watch]struct{}{}}
}

// HashToken returns the stored form of a secret token value.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newSecret(prefix string) string {
	var b [32]byte // 256 bits
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("auth: crypto/rand failed: %v", err))
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateUser creates a user with a valid email; admin grants the admin role.
func (s *Service) CreateUser(ctx context.Context, email, name string, admin bool) (*store.User, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(email))
	if err != nil || addr.Address != strings.TrimSpace(email) {
		return nil, apperr.Invalid("email", "%q is not a valid email address", email)
	}
	now := s.clock.Now()
	u := &store.User{Email: addr.Address, Name: strings.TrimSpace(name), Role: store.RoleUser, CreatedAt: now, UpdatedAt: now}
	if admin || s.isListedAdmin(addr.Address) {
		u.Role = store.RoleAdmin
	}
	if err := s.db.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// UpdateProfile changes the viewer's name, avatar and time zone (an IANA
// name such as "America/Los_Angeles", checked against the embedded tz
// database; empty clears the choice, so the browser extension's offset or
// UTC applies again).
func (s *Service) UpdateProfile(ctx context.Context, v *Viewer, name, avatarURL, timeZone *string) (*domain.User, error) {
	row, err := s.db.UserByID(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	u := *row
	var cols []string
	if name != nil {
		n := strings.TrimSpace(*name)
		if n == "" || len(n) > 200 {
			return nil, apperr.Invalid("name", "name must be 1 to 200 characters")
		}
		u.Name = n
		cols = append(cols, "name")
	}
	if avatarURL != nil {
		a := strings.TrimSpace(*avatarURL)
		if a != "" && !strings.HasPrefix(a, "https://") || len(a) > 2000 {
			return nil, apperr.Invalid("avatarUrl", "avatar URL must be an https URL of at most 2000 characters, or empty")
		}
		u.AvatarURL = a
		cols = append(cols, "avatar_url")
	}
	if timeZone != nil {
		tz, err := ValidTimeZone(*timeZone)
		if err != nil {
			return nil, err
		}
		u.ChosenTimeZone = tz
		cols = append(cols, "time_zone")
	}
	if len(cols) == 0 {
		return v.Profile(), nil
	}
	u.UpdatedAt = s.clock.Now()
	if err := s.db.UpdateUser(ctx, &u, cols...); err != nil {
		return nil, err
	}
	s.forgetUser(u.ID)
	d := u.Domain()
	return &d, nil
}

// CreateAPIToken issues a token for userID and returns its value, which is
// never shown again.
func (s *Service) CreateAPIToken(ctx context.Context, userID, name string, scopes []string, expiresAt *time.Time) (string, *domain.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", nil, apperr.Invalid("name", "name must be 1 to 100 characters")
	}
	if len(scopes) == 0 {
		return "", nil, apperr.Invalid("scopes", "give at least one scope: %s", strings.Join(KnownScopes, ", "))
	}
	var clean []string
	for _, sc := range scopes {
		if !slices.Contains(KnownScopes, sc) {
			return "", nil, apperr.Invalid("scopes", "unknown scope %q; known scopes: %s", sc, strings.Join(KnownScopes, ", "))
		}
		if !slices.Contains(clean, sc) {
			clean = append(clean, sc)
		}
	}
	if expiresAt != nil && !expiresAt.After(s.clock.Now()) {
		return "", nil, apperr.Invalid("expiresAt", "expiry must be in the future")
	}
	value := newSecret(TokenPrefix)
	t := &store.APIToken{UserID: userID, Name: name, TokenHash: HashToken(value), Scopes: strings.Join(clean, " "), CreatedAt: s.clock.Now(), ExpiresAt: expiresAt}
	if err := s.db.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	d := t.Domain()
	return value, &d, nil
}

// RevokeAPIToken revokes the viewer's token id; it stops working at once on
// every instance, and websockets using it are closed.
func (s *Service) RevokeAPIToken(ctx context.Context, userID, id string) (*domain.APIToken, error) {
	t, err := s.db.RevokeAPIToken(ctx, userID, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	s.end(ctx, CredentialEnd{UserID: userID, TokenID: t.ID, Reason: EndRevoked})
	d := t.Domain()
	return &d, nil
}

// CreateSession starts a browser session for userID and returns the cookie value.
func (s *Service) CreateSession(ctx context.Context, userID, userAgent string) (string, time.Time, error) {
	value := newSecret("")
	now := s.clock.Now()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	sess := &store.Session{UserID: userID, TokenHash: HashToken(value), UserAgent: userAgent, CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(s.opts.SessionTTL)}
	if err := s.db.CreateSession(ctx, sess); err != nil {
		return "", time.Time{}, err
	}
	return value, sess.ExpiresAt, nil
}

// Logout ends the viewer's session (a no-op for API tokens).
func (s *Service) Logout(ctx context.Context, v *Viewer) error {
	if v.SessionHash == "" {
		return nil
	}
	if err := s.db.DeleteSessionByHash(ctx, v.SessionHash); err != nil {
		return err
	}
	s.end(ctx, CredentialEnd{UserID: v.User.ID, SessionID: v.SessionID, Reason: EndLogout})
	return nil
}

// AuthenticateToken resolves an API token value to a viewer, or UNAUTHENTICATED.
func (s *Service) AuthenticateToken(ctx context.Context, value string) (*Viewer, error) {
	if !strings.HasPrefix(value, TokenPrefix) {
		return nil, errUnknownCredential
	}
	return s.authenticate(ctx, HashToken(value), s.loadToken)
}

// Revalidate checks again that v's credential (token or session) is alive
// and returns its current viewer (role and scopes as stored now), or
// UNAUTHENTICATED. Long-lived connections call it before every operation.
func (s *Service) Revalidate(ctx context.Context, v *Viewer) (*Viewer, error) {
	switch {
	case v == nil || v.hash == "":
		return nil, errUnknownCredential
	case v.SessionHash != "":
		return s.authenticate(ctx, v.hash, s.loadSession)
	default:
		return s.authenticate(ctx, v.hash, s.loadToken)
	}
}

// AuthenticateSession resolves a session cookie value to a viewer and slides
// the session forward, or UNAUTHENTICATED.
func (s *Service) AuthenticateSession(ctx context.Context, value string) (*Viewer, error) {
	if value == "" {
		return nil, errUnknownCredential
	}
	return s.authenticate(ctx, HashToken(value), s.loadSession)
}

var errUnknownCredential = apperr.New(apperr.Unauthenticated, "unknown, expired or revoked credential")

type loader func(ctx context.Context, hash string, now time.Time) (cacheEntry, error)

func (s *Service) authenticate(ctx context.Context, hash string, load loader) (*Viewer, error) {
	now := s.clock.Now()
	s.mu.Lock()
	e, ok := s.cache[hash]
	gen := s.gen
	s.mu.Unlock()
	if ok && now.Sub(e.checkedAt) < s.opts.CacheTTL && (e.expiresAt.IsZero() || now.Before(e.expiresAt)) {
		if now.Sub(e.touchedAt) < touchEvery {
			return e.viewer, nil
		}
	}
	e, err := load(ctx, hash, now)
	if err != nil {
		s.mu.Lock()
		delete(s.cache, hash)
		s.mu.Unlock()
		return nil, err
	}
	e.viewer.hash = hash
	s.mu.Lock()
	if len(s.cache) >= maxCacheEntries {
		clear(s.cache)
	}
	if s.gen == gen {
		s.cache[hash] = e
	}
	s.mu.Unlock()
	return e.viewer, nil
}

func (s *Service) loadToken(ctx context.Context, hash string, now time.Time) (cacheEntry, error) {
	t, u, err := s.db.APITokenByHash(ctx, hash)
	if apperr.Is(err, apperr.NotFound) {
		return cacheEntry{}, errUnknownCredential
	}
	if err != nil {
		return cacheEntry{}, err
	}
	if t.RevokedAt != nil || (t.ExpiresAt != nil && !now.Before(*t.ExpiresAt)) {
		return cacheEntry{}, errUnknownCredential
	}
	e := cacheEntry{viewer: &Viewer{User: profile(u), Scopes: t.ScopeList(), TokenID: t.ID}, checkedAt: now, touchedAt: now}
	if t.ExpiresAt != nil {
		e.expiresAt = *t.ExpiresAt
	}
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= touchEvery {
		if err := s.db.TouchAPIToken(ctx, t.ID, now); err != nil {
			s.log.WarnContext(ctx, "auth: record token use", slog.String("token_id", t.ID), slog.Any("error", err))
		}
	}
	return e, nil
}

func (s *Service) loadSession(ctx context.Context, hash string, now time.Time) (cacheEntry, error) {
	sess, u, err := s.db.SessionByHash(ctx, hash)
	if apperr.Is(err, apperr.NotFound) {
		return cacheEntry{}, errUnknownCredential
	}
	if err != nil {
		return cacheEntry{}, err
	}
	if !now.Before(sess.ExpiresAt) {
		return cacheEntry{}, errUnknownCredential
	}
	expires := sess.ExpiresAt
	if now.Sub(sess.LastUsedAt) >= touchEvery {
		expires = now.Add(s.opts.SessionTTL)
		if err := s.db.TouchSession(ctx, sess.ID, now, expires); err != nil {
			s.log.WarnContext(ctx, "auth: slide session", slog.String("session_id", sess.ID), slog.Any("error", err))
			expires = sess.ExpiresAt
		}
	}
	v := &Viewer{User: profile(u), Scopes: []string{ScopeFull}, SessionID: sess.ID, SessionHash: hash}
	return cacheEntry{viewer: v, expiresAt: expires, checkedAt: now, touchedAt: now}, nil
}

// forgetUser drops cached viewers of userID so profile and role changes show at once.
func (s *Service) forgetUser(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.cache {
		if e.viewer.User.ID == userID {
			delete(s.cache, k)
		}
	}
}

// ListUsers pages through every user, oldest first (admins only; the
// caller checks). Errors: BAD_USER_INPUT for a bad first or cursor.
func (s *Service) ListUsers(ctx context.Context, search string, first *int, after string) (domain.Page[domain.User], error) {
	n, err := domain.PageSize(first, 20, 100)
	if err != nil {
		return domain.Page[domain.User]{}, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return domain.Page[domain.User]{}, err
	}
	rows, err := s.db.ListUsers(ctx, search, cur, n+1)
	if err != nil {
		return domain.Page[domain.User]{}, err
	}
	return domain.NewPage(store.Domains(rows, (*store.User).Domain), n, domain.User.Cursor), nil
}

// ListAPITokens returns userID's tokens.
func (s *Service) ListAPITokens(ctx context.Context, userID string) ([]domain.APIToken, error) {
	rows, err := s.db.ListAPITokens(ctx, userID)
	return store.Domains(rows, (*store.APIToken).Domain), err
}

// DeleteExpiredSessions removes expired sessions (maintenance).
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	return s.db.DeleteExpiredSessions(ctx, s.clock.Now())
}
