package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
)

// Roles a user can have.
const (
	RoleUser  = domain.RoleUser
	RoleAdmin = domain.RoleAdmin
)

// User is a person with a twin.
type User struct {
	bun.BaseModel `bun:"table:users"`

	ID        string      `bun:"id,pk"`
	Email     string      `bun:"email,notnull"`
	Name      string      `bun:"name,notnull"`
	AvatarURL string      `bun:"avatar_url,notnull"`
	Role      domain.Role `bun:"role,notnull"`
	GoogleSub *string     `bun:"google_sub"`
	// ChosenTimeZone and UTCOffsetMinutes: see TimeZone.
	ChosenTimeZone   string    `bun:"time_zone,notnull"`
	UTCOffsetMinutes *int      `bun:"utc_offset_minutes"`
	CreatedAt        time.Time `bun:"created_at,notnull"`
	UpdatedAt        time.Time `bun:"updated_at,notnull"`
}

// IsAdmin reports whether u has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Session is a browser sign-in; only the SHA-256 of its cookie value is kept.
type Session struct {
	bun.BaseModel `bun:"table:sessions"`

	ID         string    `bun:"id,pk"`
	UserID     string    `bun:"user_id,notnull"`
	TokenHash  string    `bun:"token_hash,notnull"`
	UserAgent  string    `bun:"user_agent,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastUsedAt time.Time `bun:"last_used_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
}

// APIToken is a bearer token; only the SHA-256 of its value is kept.
type APIToken struct {
	bun.BaseModel `bun:"table:api_tokens"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id,notnull"`
	Name       string     `bun:"name,notnull"`
	TokenHash  string     `bun:"token_hash,notnull"`
	Scopes     string     `bun:"scopes,notnull"` // space-separated
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	LastUsedAt *time.Time `bun:"last_used_at"`
	ExpiresAt  *time.Time `bun:"expires_at"`
	RevokedAt  *time.Time `bun:"revoked_at"`
}

// ScopeList splits Scopes.
func (t *APIToken) ScopeList() []string { return strings.Fields(t.Scopes) }

// CreateUser inserts u. A taken email is a CONFLICT error.
func (db *DB) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.ID == "" {
		u.ID = NewID()
	}
	if u.Role == "" {
		u.Role = RoleUser
	}
	u.CreatedAt, u.UpdatedAt = UTC(u.CreatedAt), UTC(u.UpdatedAt)
	// Every privacy slider is stored with the account: a missing one can
	// then only mean damage, which reveals nothing.
	if err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
			return err
		}
		return initPrivacySettings(ctx, tx, u.ID, u.CreatedAt)
	}); err != nil {
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "a user with email %s already exists", u.Email)
		}
		return fmt.Errorf("store: create user: %w", err)
	}
	return nil
}

// UserByID returns the user with id, or NOT_FOUND.
func (db *DB) UserByID(ctx context.Context, id string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UserByEmail returns the user with email, or NOT_FOUND.
func (db *DB) UserByEmail(ctx context.Context, email string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("email = ?", strings.ToLower(strings.TrimSpace(email))).Scan(ctx); err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UserByGoogleSub returns the user signed in with Google subject sub, or NOT_FOUND.
func (db *DB) UserByGoogleSub(ctx context.Context, sub string) (*User, error) {
	u := new(User)
	if err := db.NewSelect().Model(u).Where("google_sub = ?", sub).Scan(ctx); err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UpdateUser writes the given columns of u.
func (db *DB) UpdateUser(ctx context.Context, u *User, columns ...string) error {
	u.UpdatedAt = UTC(u.UpdatedAt)
	res, err := db.NewUpdate().Model(u).Column(append(columns, "updated_at")...).WherePK().Exec(ctx)
	if err != nil {
		if IsUniqueViolation(err) {
			return apperr.New(apperr.Conflict, "that email or Google account belongs to another user")
		}
		return fmt.Errorf("store: update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "user not found")
	}
	return nil
}

// ListUsers lists users ordered by (created_at, id) after the keyset cursor.
func (db *DB) ListUsers(ctx context.Context, search string, after *Cursor, limit int) ([]User, error) {
	var users []User
	q := db.NewSelect().Model(&users).OrderExpr("created_at ASC, id ASC").Limit(int64(limit))
	if s := strings.TrimSpace(search); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q = q.Where("(LOWER(email) LIKE ? ESCAPE '\\' OR LOWER(name) LIKE ? ESCAPE '\\')", like, like)
	}
	if after != nil {
		q = q.Where("(created_at, id) > (?, ?)", UTC(after.Time), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return users, nil
}

// CreateSession inserts s.
func (db *DB) CreateSession(ctx context.Context, s *Session) error {
	if s.ID == "" {
		s.ID = NewID()
	}
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = UTC(s.CreatedAt), UTC(s.LastUsedAt), UTC(s.ExpiresAt)
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("store: create session: %w", err)
	}
	return nil
}

// SessionByHash returns the session whose token hashes to hash, with its user.
func (db *DB) SessionByHash(ctx context.Context, hash string) (*Session, *User, error) {
	s := new(Session)
	if err := db.NewSelect().Model(s).Where("token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "session")
	}
	u, err := db.UserByID(ctx, s.UserID)
	if err != nil {
		return nil, nil, err
	}
	return s, u, nil
}

// TouchSession slides a session forward.
func (db *DB) TouchSession(ctx context.Context, id string, usedAt, expiresAt time.Time) error {
	_, err := db.NewUpdate().Model((*Session)(nil)).
		Set("last_used_at = ?", UTC(usedAt)).Set("expires_at = ?", UTC(expiresAt)).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// DeleteSessionByHash removes the session whose token hashes to hash.
func (db *DB) DeleteSessionByHash(ctx context.Context, hash string) error {
	if _, err := db.NewDelete().Model((*Session)(nil)).Where("token_hash = ?", hash).Exec(ctx); err != nil {
		return fmt.Errorf("store: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes sessions that expired before now.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*Session)(nil)).Where("expires_at < ?", UTC(now)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sessions: %w", err)
	}
	return res.RowsAffected()
}

// CreateAPIToken inserts t.
func (db *DB) CreateAPIToken(ctx context.Context, t *APIToken) error {
	if t.ID == "" {
		t.ID = NewID()
	}
	t.CreatedAt = UTC(t.CreatedAt)
	if t.ExpiresAt != nil {
		e := UTC(*t.ExpiresAt)
		t.ExpiresAt = &e
	}
	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("store: create api token: %w", err)
	}
	return nil
}

// APITokenByHash returns the token whose value hashes to hash, with its user.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (*APIToken, *User, error) {
	t := new(APIToken)
	if err := db.NewSelect().Model(t).Where("token_hash = ?", hash).Scan(ctx); err != nil {
		return nil, nil, notFound(err, "api token")
	}
	u, err := db.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, nil, err
	}
	return t, u, nil
}

// ListAPITokens returns userID's tokens, newest first.
func (db *DB) ListAPITokens(ctx context.Context, userID string) ([]APIToken, error) {
	var ts []APIToken
	if err := db.NewSelect().Model(&ts).Where("user_id = ?", userID).OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list api tokens: %w", err)
	}
	return ts, nil
}

// RevokeAPIToken marks userID's token id revoked and returns it with its
// hash, so caches can drop it. Another user's token is NOT_FOUND.
func (db *DB) RevokeAPIToken(ctx context.Context, userID, id string, now time.Time) (*APIToken, error) {
	t := new(APIToken)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := tx.NewSelect().Model(t).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
			return notFound(err, "api token")
		}
		if t.RevokedAt != nil {
			return nil
		}
		now := UTC(now)
		t.RevokedAt = &now
		_, err := tx.NewUpdate().Model(t).Column("revoked_at").WherePK().Exec(ctx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// TouchAPIToken records a use of token id.
func (db *DB) TouchAPIToken(ctx context.Context, id string, at time.Time) error {
	if _, err := db.NewUpdate().Model((*APIToken)(nil)).Set("last_used_at = ?", UTC(at)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("store: touch api token: %w", err)
	}
	return nil
}

func notFound(err error, what string) error {
	if IsNoRows(err) {
		return apperr.New(apperr.NotFound, "%s not found", what)
	}
	return fmt.Errorf("store: find %s: %w", what, err)
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// DeleteUser deletes user id; every row of theirs goes with it (ON DELETE
// CASCADE on every table that references users).
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	res, err := db.NewDelete().Model((*User)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return apperr.New(apperr.NotFound, "user not found")
	}
	return nil
}

// UsersByIDs returns the users with the given ids that exist, keyed by id.
func (db *DB) UsersByIDs(ctx context.Context, ids []string) (map[string]User, error) {
	out := make(map[string]User, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var users []User
	if err := db.NewSelect().Model(&users).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: users by ids: %w", err)
	}
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}
