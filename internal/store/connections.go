package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
)

// ConnectionStatus is the state of a platform connection (see domain).
type ConnectionStatus = domain.ConnectionStatus

const (
	StatusConnected    = domain.ConnectionConnected
	StatusTokenExpired = domain.ConnectionTokenExpired
	StatusNeedsReauth  = domain.ConnectionNeedsReauth
	StatusError        = domain.ConnectionError
	StatusDisconnected = domain.ConnectionDisconnected
)

// Connection is one person's link to one platform. Tokens are ciphertexts
// of the secret keyring, bound to the connection id and column name; this
// package never sees them in clear.
type Connection struct {
	bun.BaseModel `bun:"table:platform_connections"`

	ID                     string           `bun:"id,pk"`
	UserID                 string           `bun:"user_id,notnull"`
	Platform               domain.Platform  `bun:"platform,notnull"`
	Status                 ConnectionStatus `bun:"status,notnull"`
	AccountID              string           `bun:"account_id,notnull"`
	AccountName            string           `bun:"account_name,notnull"`
	Scopes                 string           `bun:"scopes,notnull"` // space-separated
	AccessTokenEnc         string           `bun:"access_token_enc,notnull"`
	RefreshTokenEnc        *string          `bun:"refresh_token_enc"`
	TokenExpiresAt         *time.Time       `bun:"token_expires_at"`
	ConnectedAt            time.Time        `bun:"connected_at,notnull"`
	LastSync               *time.Time       `bun:"last_sync"`
	NextSyncAt             *time.Time       `bun:"next_sync_at"`
	SyncCursor             string           `bun:"sync_cursor,notnull"` // JSON
	LastError              string           `bun:"last_error,notnull"`
	LastErrorAt            *time.Time       `bun:"last_error_at"`
	TransientFailuresSince *time.Time       `bun:"transient_failures_since"`
	ConsecutiveFailures    int              `bun:"consecutive_failures,notnull"`
	RefreshLeaseUntil      *time.Time       `bun:"refresh_lease_until"`
	RefreshLeaseOwner      string           `bun:"refresh_lease_owner,notnull"`
	// ConfigFingerprint: set with status error when the provider rejected
	// our OAuth client; the fingerprint of the client configuration that
	// failed (the sweep retries when the current one differs).
	ConfigFingerprint string `bun:"config_fingerprint,notnull"`
	// RefreshNotBefore: the token endpoint's Retry-After.
	RefreshNotBefore *time.Time `bun:"refresh_not_before"`
	// RefreshOutcomeUnknownAt: a refresh was sent at this time and its
	// answer never arrived; cleared by the next successful refresh.
	RefreshOutcomeUnknownAt *time.Time `bun:"refresh_outcome_unknown_at"`
	CreatedAt               time.Time  `bun:"created_at,notnull"`
	UpdatedAt               time.Time  `bun:"updated_at,notnull"`
}

// OAuthState is a pending authorization: the SHA-256 of the state sent to
// the provider, who asked, and the encrypted PKCE verifier.
type OAuthState struct {
	bun.BaseModel `bun:"table:oauth_states"`

	StateHash       string     `bun:"state,pk"`
	UserID          string     `bun:"user_id,notnull"`
	Platform        string     `bun:"platform,notnull"`
	PKCEVerifierEnc string     `bun:"pkce_verifier_enc,notnull"`
	RedirectURI     string     `bun:"redirect_uri,notnull"`
	CreatedAt       time.Time  `bun:"created_at,notnull"`
	ExpiresAt       time.Time  `bun:"expires_at,notnull"`
	UsedAt          *time.Time `bun:"used_at"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := UTC(*t)
	return &u
}

// ConnectionTokens are the sealed tokens of a (re)connection. Seal functions
// receive the id of the row the tokens will live in, because ciphertexts are
// bound to it.
type ConnectionTokens struct {
	AccessTokenEnc  string
	RefreshTokenEnc *string // nil: the provider issued none
}

// UpsertConnection stores a new or renewed connection of c.UserID to
// c.Platform: one row per user and platform, so reconnecting revives a
// needs_reauth or disconnected connection in place. seal is called inside
// the transaction with the row's id to encrypt the tokens. The row is
// connected afterwards, its errors and failure counters cleared; the sync
// cursor survives unless the account changed. c is filled with the stored row.
func (db *DB) UpsertConnection(ctx context.Context, c *Connection, seal func(id string) (ConnectionTokens, error)) error {
	now := UTC(c.ConnectedAt)
	if now.IsZero() {
		return fmt.Errorf("store: upsert connection: ConnectedAt is required")
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Claim the (user, platform) slot first, so that two concurrent
		// callbacks agree on one id before anything is encrypted for it.
		placeholder := &Connection{
			ID: NewID(), UserID: c.UserID, Platform: c.Platform, Status: StatusDisconnected,
			SyncCursor: "{}", ConnectedAt: now, CreatedAt: now, UpdatedAt: now,
		}
		if _, err := tx.NewInsert().Model(placeholder).On("CONFLICT (user_id, platform) DO NOTHING").Exec(ctx); err != nil {
			return fmt.Errorf("store: upsert connection: %w", err)
		}
		cur := new(Connection)
		q := tx.NewSelect().Model(cur).Where("user_id = ? AND platform = ?", c.UserID, c.Platform)
		if db.Dialect == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return fmt.Errorf("store: upsert connection: %w", err)
		}
		toks, err := seal(cur.ID)
		if err != nil {
			return err
		}
		next := *c
		next.ID, next.CreatedAt = cur.ID, cur.CreatedAt
		next.Status = StatusConnected
		next.AccessTokenEnc, next.RefreshTokenEnc = toks.AccessTokenEnc, toks.RefreshTokenEnc
		next.TokenExpiresAt = utcPtr(c.TokenExpiresAt)
		next.ConnectedAt, next.UpdatedAt = now, now
		next.LastError, next.LastErrorAt, next.TransientFailuresSince, next.ConsecutiveFailures = "", nil, nil, 0
		next.RefreshLeaseUntil, next.RefreshLeaseOwner = nil, ""
		if cur.AccountID == "" || cur.AccountID == c.AccountID {
			next.LastSync, next.NextSyncAt, next.SyncCursor = cur.LastSync, cur.NextSyncAt, cur.SyncCursor
		} else {
			// Another account: what we synced belongs to the old one.
			next.LastSync, next.NextSyncAt, next.SyncCursor = nil, nil, "{}"
		}
		if next.SyncCursor == "" {
			next.SyncCursor = "{}"
		}
		if next.NextSyncAt == nil {
			// Never synced (or synced for another account): due now, so the
			// claim needs no IS NULL branch and walks its index.
			next.NextSyncAt = &now
		}
		if _, err := tx.NewUpdate().Model(&next).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("store: upsert connection: %w", err)
		}
		*c = next
		return nil
	})
}

// ConnectionByID returns connection id whoever owns it, or NOT_FOUND. For
// internal callers (token manager, jobs, admins); requests on behalf of a
// person use ConnectionForUser.
func (db *DB) ConnectionByID(ctx context.Context, id string) (*Connection, error) {
	c := new(Connection)
	if err := db.NewSelect().Model(c).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "connection")
	}
	return c, nil
}

// ConnectionForUser returns userID's connection id. Another user's
// connection is NOT_FOUND, exactly like a missing one.
func (db *DB) ConnectionForUser(ctx context.Context, userID, id string) (*Connection, error) {
	c := new(Connection)
	if err := db.NewSelect().Model(c).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		return nil, notFound(err, "connection")
	}
	return c, nil
}

// ConnectionByPlatform returns userID's connection to platform, or NOT_FOUND.
func (db *DB) ConnectionByPlatform(ctx context.Context, userID, platform string) (*Connection, error) {
	c := new(Connection)
	if err := db.NewSelect().Model(c).Where("user_id = ? AND platform = ?", userID, platform).Scan(ctx); err != nil {
		return nil, notFound(err, "connection")
	}
	return c, nil
}

// ListConnections returns userID's connections ordered by platform.
func (db *DB) ListConnections(ctx context.Context, userID string) ([]Connection, error) {
	var cs []Connection
	if err := db.NewSelect().Model(&cs).Where("user_id = ?", userID).OrderExpr("platform ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list connections: %w", err)
	}
	return cs, nil
}

// ListExpiringConnections returns up to limit refreshable connections
// (connected or token_expired, with a refresh token) whose access token
// expires before before, in (token_expires_at, id) order after the keyset
// cursor. It is served by the partial index
// platform_connections_token_expires_idx.
func (db *DB) ListExpiringConnections(ctx context.Context, before time.Time, after *Cursor, limit int) ([]Connection, error) {
	var cs []Connection
	q := db.NewSelect().Model(&cs).
		Where("status IN (?, ?)", StatusConnected, StatusTokenExpired).
		Where("refresh_token_enc IS NOT NULL").
		Where("token_expires_at < ?", UTC(before)).
		OrderExpr("token_expires_at ASC, id ASC").
		Limit(int64(limit))
	if after != nil {
		t := UTC(after.Time)
		q = q.Where("(token_expires_at, id) > (?, ?)", UTC(t), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list expiring connections: %w", err)
	}
	return cs, nil
}

// AcquireRefreshLease takes the refresh lease of connection id for owner
// until until, if nobody holds an unexpired one at now. It is one
// conditional UPDATE, so of several instances racing exactly one wins. On
// success it returns the row as it is now (re-read under the lease);
// otherwise ok is false. A disconnected connection is never leased.
func (db *DB) AcquireRefreshLease(ctx context.Context, id, owner string, now, until time.Time) (c *Connection, ok bool, err error) {
	c = new(Connection)
	err = db.NewUpdate().Model(c).
		Set("refresh_lease_until = ?", UTC(until)).
		Set("refresh_lease_owner = ?", owner).
		Where("id = ?", id).
		Where("status <> ?", StatusDisconnected).
		Where("(refresh_lease_until IS NULL OR refresh_lease_until < ?)", UTC(now)).
		Returning("*").
		Scan(ctx)
	if IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: acquire refresh lease: %w", err)
	}
	return c, true, nil
}

// ReleaseRefreshLease gives up owner's lease on connection id; a lease
// someone else took over meanwhile is left alone.
func (db *DB) ReleaseRefreshLease(ctx context.Context, id, owner string) error {
	_, err := db.NewUpdate().Model((*Connection)(nil)).
		Set("refresh_lease_until = NULL").
		Set("refresh_lease_owner = ''").
		Where("id = ? AND refresh_lease_owner = ?", id, owner).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: release refresh lease: %w", err)
	}
	return nil
}

// RefreshedTokens is the outcome of a successful refresh.
type RefreshedTokens struct {
	AccessTokenEnc string
	// RefreshTokenEnc replaces the stored refresh token; nil keeps it (the
	// provider did not rotate).
	RefreshTokenEnc *string
	// ExpiresAt nil: the new access token does not expire.
	ExpiresAt *time.Time
}

// SaveRefreshedTokens persists a refresh in ONE statement: new access token,
// rotated refresh token (if any), expiry, status connected, failure state
// cleared, and owner's lease released. It is written even if owner's lease
// expired meanwhile, because a rotating provider has already invalidated the
// old refresh token: losing the new one would lose the connection. Only a
// disconnected connection is left alone (ok false). It returns the row.
func (db *DB) SaveRefreshedTokens(ctx context.Context, id, owner string, t RefreshedTokens, now time.Time) (c *Connection, ok bool, err error) {
	c = new(Connection)
	q := db.NewUpdate().Model(c).
		Set("access_token_enc = ?", t.AccessTokenEnc).
		Set("token_expires_at = ?", utcPtr(t.ExpiresAt)).
		Set("status = ?", StatusConnected).
		Set("last_error = ''").
		Set("last_error_at = NULL").
		Set("transient_failures_since = NULL").
		Set("consecutive_failures = 0").
		Set("config_fingerprint = ''").
		Set("refresh_not_before = NULL").
		Set("refresh_outcome_unknown_at = NULL").
		Set("refresh_lease_until = CASE WHEN refresh_lease_owner = ? THEN NULL ELSE refresh_lease_until END", owner).
		Set("refresh_lease_owner = CASE WHEN refresh_lease_owner = ? THEN '' ELSE refresh_lease_owner END", owner).
		Set("updated_at = ?", UTC(now)).
		Where("id = ?", id).
		Where("status <> ?", StatusDisconnected).
		Returning("*")
	if t.RefreshTokenEnc != nil {
		q = q.Set("refresh_token_enc = ?", *t.RefreshTokenEnc)
	}
	err = q.Scan(ctx)
	if IsNoRows(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: save refreshed tokens: %w", err)
	}
	return c, true, nil
}

// RecordTransientFailure notes a failed refresh that may succeed later: the
// status stays, last_error and last_error_at are set, consecutive_failures
// grows, transient_failures_since keeps the start of the run, and owner's
// lease is released. It returns the row.
func (db *DB) RecordTransientFailure(ctx context.Context, id, owner, message string, now time.Time) (*Connection, error) {
	return db.RecordTransientFailureUntil(ctx, id, owner, message, nil, now)
}

// RecordTransientFailureUntil is RecordTransientFailure that also stores
// notBefore (the token endpoint's Retry-After; nil: none) as
// refresh_not_before.
func (db *DB) RecordTransientFailureUntil(ctx context.Context, id, owner, message string, notBefore *time.Time, now time.Time) (*Connection, error) {
	return db.recordFailure(ctx, id, owner, message, now, "refresh_not_before = ?", utcPtr(notBefore))
}

// recordFailure is the update every transient refresh failure makes (see
// RecordTransientFailure), plus one column of its own: mark, with arg.
func (db *DB) recordFailure(ctx context.Context, id, owner, message string, now time.Time, mark string, arg any) (*Connection, error) {
	c := new(Connection)
	now = UTC(now)
	err := db.NewUpdate().Model(c).
		Set(mark, arg).
		Set("last_error = ?", message).
		Set("last_error_at = ?", now).
		Set("consecutive_failures = consecutive_failures + 1").
		Set("transient_failures_since = COALESCE(transient_failures_since, ?)", now).
		Set("refresh_lease_until = CASE WHEN refresh_lease_owner = ? THEN NULL ELSE refresh_lease_until END", owner).
		Set("refresh_lease_owner = CASE WHEN refresh_lease_owner = ? THEN '' ELSE refresh_lease_owner END", owner).
		Set("updated_at = ?", now).
		Where("id = ?", id).
		Returning("*").
		Scan(ctx)
	if err != nil {
		return nil, notFound(err, "connection")
	}
	return c, nil
}

// StatusChange is a status transition for SetConnectionStatus.
type StatusChange struct {
	Status ConnectionStatus
	// Error becomes last_error (with last_error_at = now); "" clears both.
	Error string
	// LeaseOwner's lease, if it still holds it, is released.
	LeaseOwner string
	// IfRefreshTokenEnc, when set, applies the change only while the stored
	// refresh token is still this one: a failure with a token another
	// worker has already replaced says nothing about the connection.
	IfRefreshTokenEnc *string
	// From, when non-empty, applies the change only from these statuses.
	From []ConnectionStatus
	// ConfigFingerprint becomes config_fingerprint ("" clears it): set it
	// with StatusError when our OAuth client was rejected.
	ConfigFingerprint string
}

// SetConnectionStatus applies ch to connection id and returns the row; ok is
// false when a condition of ch did not hold (nothing changed).
func (db *DB) SetConnectionStatus(ctx context.Context, id string, ch StatusChange, now time.Time) (c *Connection, ok bool, err error) {
	now = UTC(now)
	c = new(Connection)
	q := db.NewUpdate().Model(c).
		Set("status = ?", ch.Status).
		Set("config_fingerprint = ?", ch.ConfigFingerprint).
		Set("updated_at = ?", now).
		Where("id = ?", id).
		Returning("*")
	if ch.Error != "" {
		q = q.Set("last_error = ?", ch.Error).Set("last_error_at = ?", now)
	} else {
		q = q.Set("last_error = ''").Set("last_error_at = NULL")
	}
	if ch.LeaseOwner != "" {
		q = q.Set("refresh_lease_until = CASE WHEN refresh_lease_owner = ? THEN NULL ELSE refresh_lease_until END", ch.LeaseOwner).
			Set("refresh_lease_owner = CASE WHEN refresh_lease_owner = ? THEN '' ELSE refresh_lease_owner END", ch.LeaseOwner)
	}
	if ch.IfRefreshTokenEnc != nil {
		q = q.Where("refresh_token_enc = ?", *ch.IfRefreshTokenEnc)
	}
	if len(ch.From) > 0 {
		q = q.Where("status IN (?)", bun.In(ch.From))
	}
	err = q.Scan(ctx)
	if IsNoRows(err) {
		if _, err := db.ConnectionByID(ctx, id); err != nil {
			return nil, false, err
		}
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: set connection status: %w", err)
	}
	return c, true, nil
}

// DisconnectConnection erases the tokens of userID's connection to
// platform and marks it disconnected; account, sync state and data stay.
// It returns the row as it was before (with its tokens, for revocation) and
// after. Another user's or a missing connection is NOT_FOUND.
func (db *DB) DisconnectConnection(ctx context.Context, userID, platform string, now time.Time) (before, after *Connection, err error) {
	now = UTC(now)
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		before = new(Connection)
		q := tx.NewSelect().Model(before).Where("user_id = ? AND platform = ?", userID, platform)
		if db.Dialect == Postgres {
			q = q.For("UPDATE")
		}
		if err := q.Scan(ctx); err != nil {
			return notFound(err, "connection")
		}
		after = new(Connection)
		return tx.NewUpdate().Model(after).
			Set("status = ?", StatusDisconnected).
			Set("access_token_enc = ''").
			Set("refresh_token_enc = NULL").
			Set("token_expires_at = NULL").
			Set("refresh_lease_until = NULL").
			Set("refresh_lease_owner = ''").
			Set("last_error = ''").
			Set("last_error_at = NULL").
			Set("transient_failures_since = NULL").
			Set("consecutive_failures = 0").
			Set("next_sync_at = NULL").
			Set("updated_at = ?", now).
			Where("id = ?", before.ID).
			Returning("*").
			Scan(ctx)
	})
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("store: disconnect: %w", err)
	}
	return before, after, nil
}

// CreateOAuthState stores a pending authorization.
func (db *DB) CreateOAuthState(ctx context.Context, s *OAuthState) error {
	s.CreatedAt, s.ExpiresAt = UTC(s.CreatedAt), UTC(s.ExpiresAt)
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("store: create oauth state: %w", err)
	}
	return nil
}

// ConsumeOAuthState marks the state hashing to stateHash used and returns
// it, if it exists, belongs to userID and platform, is unused and has not
// expired at now. It is one conditional UPDATE, so a state is consumed at
// most once even when a callback is replayed concurrently. Anything else is
// NOT_FOUND, without saying which check failed.
func (db *DB) ConsumeOAuthState(ctx context.Context, stateHash, userID, platform string, now time.Time) (*OAuthState, error) {
	now = UTC(now)
	s := new(OAuthState)
	err := db.NewUpdate().Model(s).
		Set("used_at = ?", now).
		Where("state = ? AND user_id = ? AND platform = ?", stateHash, userID, platform).
		Where("used_at IS NULL AND expires_at > ?", now).
		Returning("*").
		Scan(ctx)
	if err != nil {
		return nil, notFound(err, "authorization request")
	}
	return s, nil
}

// DeleteExpiredOAuthStates removes states that expired before now.
func (db *DB) DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int64, error) {
	res, err := db.NewDelete().Model((*OAuthState)(nil)).Where("expires_at < ?", UTC(now)).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: delete expired oauth states: %w", err)
	}
	return res.RowsAffected()
}
