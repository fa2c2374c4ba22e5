// Package connect links people's platform accounts to twinme and keeps the
// links alive. Its token manager is the one way any code gets a usable
// access token: it refreshes ahead of expiry, lets only one refresh per
// connection run at a time (within a process and across instances sharing
// the database), persists rotated refresh tokens at once, and tells apart
// failures that need the person (reconnect), an operator (configuration) or
// only patience (provider outage).
package connect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/store"
)

// Errors a caller of ValidToken can test with errors.Is. Each comes wrapped
// in an apperr.Error with a message safe to show.
var (
	// ErrNotConnected: the connection was disconnected; there is no token.
	ErrNotConnected = errors.New("connect: platform is not connected")
	// ErrNeedsReauth: the provider no longer accepts the grant (or the
	// token expired and cannot be refreshed); the person must connect again.
	ErrNeedsReauth = errors.New("connect: connection must be authorized again")
	// ErrConnectionFailed: the connection is in error (our client
	// configuration, or days of provider failures); an operator must act.
	ErrConnectionFailed = errors.New("connect: connection is in error")
	// ErrUnavailable: the refresh failed transiently (or is backing off)
	// and the current token has expired; try again later.
	ErrUnavailable = errors.New("connect: token refresh temporarily failing")
	// ErrNotConfigured: the server has no client for the platform.
	ErrNotConfigured = errors.New("connect: platform is not configured")
)

// Column names tokens are bound to (with the connection id) as additional
// authenticated data, so a ciphertext copied to another row or column does
// not decrypt.
const (
	ColumnAccessToken  = "access_token_enc"
	ColumnRefreshToken = "refresh_token_enc"
)

// TokenAAD is the additional authenticated data of a token stored in column
// of connection id.
func TokenAAD(id, column string) string { return id + "/" + column }

// Platform is a configured platform: its provider description and our OAuth
// client for it.
type Platform struct {
	Provider platform.Provider
	OAuth    *oauth2.Config
}

// Options tune a Manager. Zero values take the defaults.
type Options struct {
	// Margin: refresh tokens expiring within it (default DefaultMargin).
	Margin time.Duration
	// SweepConcurrency bounds parallel refreshes in Sweep (default 8).
	SweepConcurrency int
	// LeaseTTL is how long a refresh lease lasts before another instance
	// may take over (default 3 min). It must exceed RefreshTimeout, or a
	// slow refresh could overlap another one.
	LeaseTTL time.Duration
	// RefreshTimeout bounds one refresh request (default 60 s, three times
	// the 20 s of other provider calls: a refresh the provider processes
	// but answers late loses a rotated token). Once sent, a refresh is
	// never cancelled by its callers, only by this timeout.
	RefreshTimeout time.Duration
	// ConfigRetryInterval is how often a connection in error because our
	// OAuth client was rejected is retried while the client configuration
	// stays the same (default ConfigRetryInterval). A changed
	// configuration is retried at the next sweep.
	ConfigRetryInterval time.Duration
	// Owner names this instance in leases (default a random id).
	Owner string
	// HTTPClient makes token requests (default http.DefaultClient).
	HTTPClient *http.Client
	// Clock (default the real clock).
	Clock clockwork.Clock
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// OnStatusChange is called after every committed status change with the
	// connection as it now is (for the connectionUpdated event). It runs
	// synchronously and must not block.
	OnStatusChange func(ctx context.Context, c store.Connection)
	// WaitPoll is the first pause of a caller waiting for another
	// instance's refresh; it doubles up to 250 ms (default 10 ms). It is
	// real time, not the injected clock: the other instance works in real
	// time too.
	WaitPoll time.Duration
}

// Manager is the token manager. It is safe for concurrent use.
type Manager struct {
	db        *store.DB
	keys      *secret.Keyring
	platforms map[platform.ID]Platform
	opts      Options
	clock     clockwork.Clock
	log       *slog.Logger
	flight    singleflight.Group
}

// NewManager returns a token manager over db. platforms holds the
// configured platforms; a connection to any other is ErrNotConfigured.
func NewManager(db *store.DB, keys *secret.Keyring, platforms map[platform.ID]Platform, opts Options) *Manager {
	if opts.Margin <= 0 {
		opts.Margin = DefaultMargin
	}
	if opts.SweepConcurrency <= 0 {
		opts.SweepConcurrency = 8
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 3 * time.Minute
	}
	if opts.RefreshTimeout <= 0 {
		opts.RefreshTimeout = time.Minute
	}
	if opts.ConfigRetryInterval <= 0 {
		opts.ConfigRetryInterval = ConfigRetryInterval
	}
	if opts.RefreshTimeout >= opts.LeaseTTL {
		opts.RefreshTimeout = opts.LeaseTTL / 2
	}
	if opts.Owner == "" {
		opts.Owner = "tm-" + store.NewID()
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.WaitPoll <= 0 {
		opts.WaitPoll = 10 * time.Millisecond
	}
	ps := make(map[platform.ID]Platform, len(platforms))
	for id, p := range platforms {
		// Expiry of refreshed tokens is computed on our clock.
		p.Provider = p.Provider.WithClock(opts.Clock)
		ps[id] = p
	}
	return &Manager{db: db, keys: keys, platforms: ps, opts: opts, clock: opts.Clock, log: opts.Logger}
}

// Seal encrypts tok's tokens for connection id, for store.UpsertConnection.
func (m *Manager) Seal(id string, tok *oauth2.Token) (store.ConnectionTokens, error) {
	var out store.ConnectionTokens
	var err error
	out.AccessTokenEnc, err = m.keys.EncryptString(tok.AccessToken, TokenAAD(id, ColumnAccessToken))
	if err != nil {
		return out, fmt.Errorf("connect: seal access token: %w", err)
	}
	if tok.RefreshToken != "" {
		enc, err := m.keys.EncryptString(tok.RefreshToken, TokenAAD(id, ColumnRefreshToken))
		if err != nil {
			return out, fmt.Errorf("connect: seal refresh token: %w", err)
		}
		out.RefreshTokenEnc = &enc
	}
	return out, nil
}

// Tokens returns the decrypted tokens of c as they are stored, without
// refreshing (for revocation on disconnect). Use ValidToken to call an API.
func (m *Manager) Tokens(c *store.Connection) (*oauth2.Token, error) {
	tok := &oauth2.Token{TokenType: "Bearer"}
	if c.AccessTokenEnc != "" {
		a, err := m.keys.DecryptString(c.AccessTokenEnc, TokenAAD(c.ID, ColumnAccessToken))
		if err != nil {
			return nil, fmt.Errorf("connect: decrypt access token of connection %s: %w", c.ID, err)
		}
		tok.AccessToken = a
	}
	if c.RefreshTokenEnc != nil {
		r, err := m.keys.DecryptString(*c.RefreshTokenEnc, TokenAAD(c.ID, ColumnRefreshToken))
		if err != nil {
			return nil, fmt.Errorf("connect: decrypt refresh token of connection %s: %w", c.ID, err)
		}
		tok.RefreshToken = r
	}
	if c.TokenExpiresAt != nil {
		tok.Expiry = *c.TokenExpiresAt
	}
	return tok, nil
}

func (m *Manager) accessToken(c *store.Connection) (string, error) {
	if c.AccessTokenEnc == "" {
		return "", m.statusError(c)
	}
	a, err := m.keys.DecryptString(c.AccessTokenEnc, TokenAAD(c.ID, ColumnAccessToken))
	if err != nil {
		return "", fmt.Errorf("connect: decrypt access token of connection %s: %w", c.ID, err)
	}
	return a, nil
}

func (m *Manager) platformName(c *store.Connection) string {
	if p, ok := m.platforms[platform.ID(c.Platform)]; ok && p.Provider.Name != "" {
		return p.Provider.Name
	}
	if p, ok := platform.Providers()[platform.ID(c.Platform)]; ok {
		return p.Name
	}
	return string(c.Platform)
}

// statusError is the error for a connection whose status gives no token.
func (m *Manager) statusError(c *store.Connection) error {
	name := m.platformName(c)
	switch c.Status {
	case store.StatusDisconnected:
		return apperr.Wrap(ErrNotConnected, apperr.BadUserInput, "%s is not connected", name)
	case store.StatusNeedsReauth, store.StatusTokenExpired:
		return apperr.Wrap(ErrNeedsReauth, apperr.BadUserInput, "connect %s again", name)
	case store.StatusError:
		if c.ConfigFingerprint != "" {
			return apperr.Wrap(ErrConnectionFailed, apperr.NotConfigured, "%s", ConfigErrorMessage(name))
		}
		return apperr.Wrap(ErrConnectionFailed, apperr.Internal, "the %s connection is failing", name)
	}
	return apperr.Wrap(ErrNotConnected, apperr.BadUserInput, "%s is not connected", name)
}

func (m *Manager) unavailable(c *store.Connection, cause error) error {
	name := m.platformName(c)
	if cause == nil {
		cause = ErrUnavailable
	} else {
		cause = fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
	if apperr.CodeOf(cause) == apperr.RateLimited {
		return apperr.Wrap(cause, apperr.RateLimited, "%s is rate limiting requests; try again later", name)
	}
	return apperr.Wrap(cause, apperr.Internal, "%s could not be reached; try again later", name)
}

// ValidToken returns a usable access token of connection connectionID,
// refreshing it first when it expires within the margin. Concurrent calls
// for one connection, in this process and in other instances, share one
// refresh. When a refresh fails transiently but the current token has not
// expired yet, the current token is returned.
//
// Errors: NOT_FOUND for an unknown connection; ErrNotConnected,
// ErrNeedsReauth (BAD_USER_INPUT), ErrConnectionFailed, ErrUnavailable
// (INTERNAL or RATE_LIMITED) and ErrNotConfigured (NOT_CONFIGURED).
func (m *Manager) ValidToken(ctx context.Context, connectionID string) (string, error) {
	c, err := m.db.ConnectionByID(ctx, connectionID)
	if err != nil {
		return "", err
	}
	now := m.clock.Now()
	switch c.Status {
	case store.StatusConnected, store.StatusTokenExpired:
	default:
		return "", m.statusError(c)
	}
	if !needsRefresh(c, now, m.opts.Margin) && c.Status == store.StatusConnected {
		return m.accessToken(c)
	}
	if c.RefreshTokenEnc == nil {
		if !expired(c, now) && c.Status == store.StatusConnected {
			return m.accessToken(c)
		}
		// Nothing to refresh with: the person has to connect again.
		m.changeStatus(ctx, c, store.StatusChange{
			Status: store.StatusTokenExpired, Error: fmt.Sprintf("the %s authorization expired; connect %s again", m.platformName(c), m.platformName(c)),
			From: []store.ConnectionStatus{store.StatusConnected},
		})
		return "", apperr.Wrap(ErrNeedsReauth, apperr.BadUserInput, "connect %s again", m.platformName(c))
	}
	if inBackoff(c, now) {
		if !expired(c, now) && c.Status == store.StatusConnected {
			return m.accessToken(c)
		}
		return "", m.unavailable(c, nil)
	}
	res, err := m.refreshShared(ctx, c.ID, c, false)
	if err != nil {
		return "", err
	}
	return res.access, nil
}

// Refresh renews connection id's token now, whatever its expiry or status
// (the admin refreshConnectionToken). A refresh running elsewhere counts.
// It returns the connection as stored afterwards.
func (m *Manager) Refresh(ctx context.Context, id string) (*store.Connection, error) {
	res, err := m.refreshShared(ctx, id, nil, true)
	if err != nil {
		return nil, err
	}
	return res.conn, nil
}

// RefreshConnection is Refresh as the API shows its result (the admin's
// refreshConnectionToken, whoever owns the connection).
func (m *Manager) RefreshConnection(ctx context.Context, id string) (*domain.Connection, error) {
	c, err := m.Refresh(ctx, id)
	if err != nil {
		return nil, err
	}
	d := c.Domain()
	return &d, nil
}

// result is the outcome of one shared refresh.
type result struct {
	access string
	conn   *store.Connection
	kind   OutcomeKind
}

// refreshShared runs one refresh per connection in this process at a time;
// callers arriving meanwhile get its result. The refresh runs detached from
// the first caller's cancellation, so one impatient caller cannot fail the
// others; each caller still stops waiting when its own ctx ends. seen is the
// row as the caller read it, if it has one.
func (m *Manager) refreshShared(ctx context.Context, id string, seen *store.Connection, force bool) (result, error) {
	key := id
	if force {
		key = "force/" + id
	}
	ch := m.flight.DoChan(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.LeaseTTL+m.opts.RefreshTimeout)
		defer cancel()
		return m.refresh(rctx, id, seen, force)
	})
	select {
	case <-ctx.Done():
		return result{}, ctx.Err()
	case r := <-ch:
		res, _ := r.Val.(result)
		return res, r.Err
	}
}

// refresh takes the connection's lease (or waits for the instance holding
// it) and refreshes unless another worker already did.
func (m *Manager) refresh(ctx context.Context, id string, first *store.Connection, force bool) (result, error) {
	if first == nil {
		var err error
		if first, err = m.db.ConnectionByID(ctx, id); err != nil {
			return result{}, err
		}
	}
	pause := m.opts.WaitPoll
	waitUntil := time.Now().Add(m.opts.LeaseTTL)
	for {
		now := m.clock.Now()
		c, ok, err := m.db.AcquireRefreshLease(ctx, id, m.opts.Owner, now, now.Add(m.opts.LeaseTTL))
		if err != nil {
			return result{}, err
		}
		if ok {
			return m.refreshLeased(ctx, first, c, force)
		}
		// Another instance holds the lease: watch the row until it has
		// refreshed, failed, or its lease runs out.
		c, err = m.db.ConnectionByID(ctx, id)
		if err != nil {
			return result{}, err
		}
		if c.Status == store.StatusDisconnected {
			return result{}, m.statusError(c)
		}
		if r, done, err := m.settledElsewhere(first, c, force); done {
			return r, err
		}
		if time.Now().After(waitUntil) {
			return result{}, m.unavailable(c, errors.New("connect: another instance is still refreshing"))
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return result{}, ctx.Err()
		case <-t.C:
		}
		pause = min(pause*2, 250*time.Millisecond)
	}
}

// settledElsewhere reports whether, seen from row c, another worker has
// finished the refresh this caller wanted: a new access token was stored
// since first was read, or the connection ended in a status without tokens.
func (m *Manager) settledElsewhere(first, c *store.Connection, force bool) (result, bool, error) {
	switch c.Status {
	case store.StatusNeedsReauth, store.StatusError:
		if !force {
			return result{}, true, m.statusError(c)
		}
	}
	changed := m.tokenChanged(first, c)
	if changed || (!force && !needsRefresh(c, m.clock.Now(), m.opts.Margin) && c.Status == store.StatusConnected) {
		a, err := m.accessToken(c)
		return result{access: a, conn: c, kind: OutcomeFresh}, true, err
	}
	return result{}, false, nil
}

// refreshLeased runs under this instance's lease on c (the row re-read by
// the lease update).
func (m *Manager) refreshLeased(ctx context.Context, first, c *store.Connection, force bool) (res result, err error) {
	release := true
	defer func() {
		if release {
			if rerr := m.db.ReleaseRefreshLease(context.WithoutCancel(ctx), c.ID, m.opts.Owner); rerr != nil {
				m.log.Warn("connect: release refresh lease", slog.String("connection_id", c.ID), slog.Any("error", rerr))
			}
		}
	}()
	now := m.clock.Now()
	if r, done, err := m.settledElsewhere(first, c, force); done {
		return r, err
	}
	if c.RefreshTokenEnc == nil {
		return result{}, apperr.Wrap(ErrNeedsReauth, apperr.BadUserInput, "connect %s again", m.platformName(c))
	}
	if !force && inBackoff(c, now) {
		if !expired(c, now) && c.Status == store.StatusConnected {
			a, err := m.accessToken(c)
			return result{access: a, conn: c, kind: OutcomeBackoff}, err
		}
		return result{conn: c, kind: OutcomeBackoff}, m.unavailable(c, nil)
	}
	p, ok := m.platforms[platform.ID(c.Platform)]
	if !ok {
		return result{}, apperr.Wrap(ErrNotConfigured, apperr.NotConfigured, "%s is not configured on this server", m.platformName(c))
	}
	refreshToken, err := m.keys.DecryptString(*c.RefreshTokenEnc, TokenAAD(c.ID, ColumnRefreshToken))
	if err != nil {
		return result{}, fmt.Errorf("connect: decrypt refresh token of connection %s: %w", c.ID, err)
	}

	// Once sent, the refresh runs to its own timeout whoever stops waiting:
	// the provider may rotate the refresh token as it answers.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.RefreshTimeout)
	if m.opts.HTTPClient != nil {
		rctx = context.WithValue(rctx, oauth2.HTTPClient, m.opts.HTTPClient)
	}
	var sent atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				sent.Store(true)
			}
		},
	})
	tok, rerr := p.Provider.Refresh(rctx, p.OAuth, refreshToken)
	cancel()
	if rerr != nil {
		release = false // each failure path below releases the lease in its update
		if sent.Load() && outcomeUnknown(rerr) {
			return m.refreshUnknown(ctx, c, p, rerr)
		}
		return m.refreshFailed(ctx, c, p, rerr)
	}

	// Persist before anything else: a rotating provider has already
	// invalidated the old refresh token.
	saved, err := m.persist(ctx, c, tok)
	if errors.Is(err, ErrNotConnected) {
		// Disconnected meanwhile: the new tokens are dropped, the lease
		// went with the row's tokens.
		release = false
		return result{}, err
	}
	if err != nil {
		return result{}, err
	}
	release = false
	if saved.Status != c.Status {
		m.notify(ctx, *saved)
	}
	if c.RefreshOutcomeUnknownAt != nil {
		m.log.Info("connect: refresh succeeded after one whose outcome was unknown",
			slog.String("platform", string(c.Platform)), slog.String("connection_id", c.ID), slog.Time("unknown_since", *c.RefreshOutcomeUnknownAt))
	}
	m.count(ctx, string(c.Platform), OutcomeRefreshed)
	return result{access: tok.AccessToken, conn: saved, kind: OutcomeRefreshed}, nil
}

// persist stores a refreshed token in one statement, retrying briefly: the
// token exists nowhere else. A connection disconnected meanwhile is left
// alone: BAD_USER_INPUT wrapping ErrNotConnected.
func (m *Manager) persist(ctx context.Context, c *store.Connection, tok *oauth2.Token) (*store.Connection, error) {
	var t store.RefreshedTokens
	var err error
	t.AccessTokenEnc, err = m.keys.EncryptString(tok.AccessToken, TokenAAD(c.ID, ColumnAccessToken))
	if err != nil {
		return nil, fmt.Errorf("connect: seal access token: %w", err)
	}
	if tok.RefreshToken != "" {
		enc, err := m.keys.EncryptString(tok.RefreshToken, TokenAAD(c.ID, ColumnRefreshToken))
		if err != nil {
			return nil, fmt.Errorf("connect: seal refresh token: %w", err)
		}
		t.RefreshTokenEnc = &enc
	}
	if !tok.Expiry.IsZero() {
		e := tok.Expiry
		t.ExpiresAt = &e
	}
	pctx := context.WithoutCancel(ctx)
	for attempt := 1; ; attempt++ {
		saved, ok, err := m.db.SaveRefreshedTokens(pctx, c.ID, m.opts.Owner, t, m.clock.Now())
		if err == nil {
			if !ok {
				return nil, apperr.Wrap(ErrNotConnected, apperr.BadUserInput, "%s is not connected", m.platformName(c))
			}
			return saved, nil
		}
		if attempt == 3 {
			m.log.Error("connect: could not store a refreshed token; the connection may need to be reconnected",
				slog.String("platform", string(c.Platform)), slog.String("connection_id", c.ID), slog.Any("error", err))
			return nil, err
		}
		m.clock.Sleep(time.Duration(attempt) * 50 * time.Millisecond)
	}
}

// refreshFailed records a failed refresh according to its class and
// releases the lease.
func (m *Manager) refreshFailed(ctx context.Context, c *store.Connection, p Platform, rerr error) (res result, err error) {
	ctx = context.WithoutCancel(ctx)
	defer func() {
		if res.kind != "" {
			m.count(ctx, string(c.Platform), res.kind)
		}
	}()
	f := refreshFailure{c: c, p: p, err: rerr, now: m.clock.Now(), name: m.platformName(c)}
	if errors.As(rerr, &f.te) {
		f.code = f.te.Code
	}
	switch platform.ClassifyTokenError(rerr) {
	case platform.Reauth:
		return m.grantRefused(ctx, f)
	case platform.ClientConfig:
		return m.clientRejected(ctx, f)
	default:
		return m.transientFailure(ctx, f)
	}
}

// refreshFailure is a failed refresh of c on platform p, as refreshFailed
// hands it to the handler of its class.
type refreshFailure struct {
	c    *store.Connection
	p    Platform
	err  error
	now  time.Time
	name string               // the platform's display name
	te   *platform.TokenError // nil: not an OAuth token error
	code string               // the token error's code, for logs
}

// grantRefused: the provider refused the grant (invalid_grant); the
// connection needs reauthorization unless its refresh token was replaced
// meanwhile.
func (m *Manager) grantRefused(ctx context.Context, f refreshFailure) (result, error) {
	m.log.Info("connect: provider rejected the grant; connection needs reauthorization",
		slog.String("platform", string(f.c.Platform)), slog.String("connection_id", f.c.ID), slog.String("code", f.code))
	msg := fmt.Sprintf("%s did not accept the authorization; connect %s again", f.name, f.name)
	if f.c.RefreshOutcomeUnknownAt != nil {
		// The provider most likely rotated the refresh token in the
		// answer we never got.
		m.log.Error("connect: refresh token refused after a refresh whose answer was lost; the provider rotated it, the person must reconnect",
			slog.String("platform", string(f.c.Platform)), slog.String("connection_id", f.c.ID), slog.String("code", f.code),
			slog.Time("outcome_unknown_at", *f.c.RefreshOutcomeUnknownAt))
		msg = fmt.Sprintf("%s renewed the authorization but its answer was lost on the way; connect %s again", f.name, f.name)
	}
	after, changed, err := m.db.SetConnectionStatus(ctx, f.c.ID, store.StatusChange{
		Status: store.StatusNeedsReauth, Error: msg, LeaseOwner: m.opts.Owner,
		// A refresh token replaced meanwhile says nothing about the
		// connection; the grant may be fine.
		IfRefreshTokenEnc: f.c.RefreshTokenEnc,
	}, f.now)
	if err != nil {
		return result{}, err
	}
	if !changed {
		_ = m.db.ReleaseRefreshLease(ctx, f.c.ID, m.opts.Owner)
		cur, err := m.db.ConnectionByID(ctx, f.c.ID)
		if err != nil {
			return result{}, err
		}
		if cur.Status == store.StatusConnected && !expired(cur, f.now) {
			a, err := m.accessToken(cur)
			return result{access: a, conn: cur, kind: OutcomeFresh}, err
		}
		return result{}, m.statusError(cur)
	}
	if after.Status != f.c.Status {
		m.notify(ctx, *after)
	}
	return result{conn: after, kind: OutcomeNeedsReauth}, apperr.Wrap(fmt.Errorf("%w: %w", ErrNeedsReauth, f.err), apperr.BadUserInput, "connect %s again", f.name)
}

// clientRejected: the provider refused our OAuth client (a configuration
// fault of this instance, not of the connection).
func (m *Manager) clientRejected(ctx context.Context, f refreshFailure) (result, error) {
	m.log.Error("connect: provider rejected our OAuth client; check its client id, secret and redirect URI",
		slog.String("platform", string(f.c.Platform)), slog.String("connection_id", f.c.ID), slog.String("code", f.code),
		slog.String("env", "TWINME_"+upper(string(f.c.Platform))+"_CLIENT_ID / _CLIENT_SECRET"))
	after, _, err := m.db.SetConnectionStatus(ctx, f.c.ID, store.StatusChange{
		Status: store.StatusError, Error: ConfigErrorMessage(f.name), LeaseOwner: m.opts.Owner,
		ConfigFingerprint: Fingerprint(f.p),
	}, f.now)
	if err != nil {
		return result{}, err
	}
	if after != nil && after.Status != f.c.Status {
		m.notify(ctx, *after)
	}
	return result{conn: after, kind: OutcomeError}, apperr.Wrap(fmt.Errorf("%w: %w", ErrConnectionFailed, f.err), apperr.NotConfigured, "%s", ConfigErrorMessage(f.name))
}

// transientFailure: a network error, 5xx or 429; the connection is kept and
// retried with backoff, and given up only after days of failures.
func (m *Manager) transientFailure(ctx context.Context, f refreshFailure) (result, error) {
	msg := fmt.Sprintf("%s could not be reached; twinme will retry", f.name)
	if f.te != nil && f.te.StatusCode != 0 {
		msg = fmt.Sprintf("%s answered HTTP %d; twinme will retry", f.name, f.te.StatusCode)
	}
	var notBefore *time.Time
	if f.te != nil && f.te.RetryAfter > 0 {
		nb := f.now.Add(f.te.RetryAfter)
		notBefore = &nb
		msg = fmt.Sprintf("%s asked twinme to wait %s; twinme will retry", f.name, f.te.RetryAfter.Round(time.Second))
	}
	after, err := m.db.RecordTransientFailureUntil(ctx, f.c.ID, m.opts.Owner, msg, notBefore, f.now)
	if err != nil {
		return result{}, err
	}
	m.log.Warn("connect: token refresh failed; will retry",
		slog.String("platform", string(f.c.Platform)), slog.String("connection_id", f.c.ID),
		slog.Int("consecutive_failures", after.ConsecutiveFailures), slog.Duration("retry_in", retryAt(after).Sub(f.now)),
		slog.Any("error", f.err))
	if givesUp(after.TransientFailuresSince, f.now) {
		m.log.Error("connect: token refresh has failed for days; setting the connection to error",
			slog.String("platform", string(f.c.Platform)), slog.String("connection_id", f.c.ID),
			slog.Time("failing_since", *after.TransientFailuresSince))
		gaveUp, changed, err := m.db.SetConnectionStatus(ctx, f.c.ID, store.StatusChange{
			Status: store.StatusError, Error: fmt.Sprintf("%s has failed for %d days; connect %s again", f.name, int(GiveUpAfter.Hours()/24), f.name),
			From: []store.ConnectionStatus{store.StatusConnected, store.StatusTokenExpired},
		}, f.now)
		if err != nil {
			return result{}, err
		}
		if changed {
			m.notify(ctx, *gaveUp)
			return result{conn: gaveUp, kind: OutcomeError}, apperr.Wrap(fmt.Errorf("%w: %w", ErrConnectionFailed, f.err), apperr.Internal, "the %s connection is failing", f.name)
		}
	}
	if after.Status == store.StatusConnected && !expired(after, f.now) {
		a, err := m.accessToken(after)
		return result{access: a, conn: after, kind: OutcomeTransient}, err
	}
	return result{conn: after, kind: OutcomeTransient}, m.unavailable(after, f.err)
}

// changeStatus applies a status change outside a refresh and notifies.
func (m *Manager) changeStatus(ctx context.Context, c *store.Connection, ch store.StatusChange) {
	after, ok, err := m.db.SetConnectionStatus(context.WithoutCancel(ctx), c.ID, ch, m.clock.Now())
	if err != nil {
		m.log.Warn("connect: set connection status", slog.String("connection_id", c.ID), slog.Any("error", err))
		return
	}
	if ok && after.Status != c.Status {
		m.notify(ctx, *after)
	}
}

func (m *Manager) notify(ctx context.Context, c store.Connection) {
	if m.opts.OnStatusChange != nil {
		m.opts.OnStatusChange(ctx, c)
	}
}

func upper(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if 'a' <= ch && ch <= 'z' {
			b[i] = ch - 'a' + 'A'
		}
	}
	return string(b)
}

// ConfigRetryInterval is how often a connection in error because of our
// client configuration is retried while that configuration is unchanged.
const ConfigRetryInterval = 6 * time.Hour

// ConfigErrorMessage is what a person sees about a connection the
// provider refuses because of the server's own OAuth client: nothing they
// can do, it resumes once an operator fixes the configuration.
func ConfigErrorMessage(name string) string {
	return fmt.Sprintf("twinme has a problem with its %s setup; the connection resumes by itself once it is fixed, there is nothing you need to do", name)
}

// Fingerprint identifies p's client configuration (client id and secret,
// token endpoint, redirect URI, client authentication style): stored with
// a configuration error so a changed configuration is retried at once. It
// is a truncated SHA-256; the secret cannot be read back from it.
func Fingerprint(p Platform) string {
	if p.OAuth == nil {
		return ""
	}
	h := sha256.New()
	for _, v := range []string{"twinme-oauth-client/1", p.OAuth.ClientID, p.OAuth.ClientSecret, p.OAuth.Endpoint.TokenURL,
		p.OAuth.RedirectURL, fmt.Sprint(int(p.OAuth.Endpoint.AuthStyle))} {
		h.Write([]byte(v))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// tokenChanged reports whether c holds another access token than first:
// compared in clear, because key rotation re-encrypts a token without
// changing it.
func (m *Manager) tokenChanged(first, c *store.Connection) bool {
	if c.AccessTokenEnc == first.AccessTokenEnc {
		return false
	}
	if c.AccessTokenEnc == "" || first.AccessTokenEnc == "" {
		return true
	}
	a, err1 := m.keys.DecryptString(first.AccessTokenEnc, TokenAAD(first.ID, ColumnAccessToken))
	b, err2 := m.keys.DecryptString(c.AccessTokenEnc, TokenAAD(c.ID, ColumnAccessToken))
	if err1 != nil || err2 != nil {
		return true
	}
	return a != b
}

// outcomeUnknown reports whether a refresh failure left no answer from the
// provider (timeout, connection reset after sending): the provider may
// have processed it.
func outcomeUnknown(err error) bool {
	var te *platform.TokenError
	if errors.As(err, &te) && te.StatusCode != 0 {
		return false
	}
	return platform.ClassifyTokenError(err) == platform.Transient
}

// refreshUnknown records a refresh that was sent and never answered: the
// status stays, the connection backs off like after a transient failure,
// and refresh_outcome_unknown_at tells the next attempt and the operator
// that the provider may have rotated the refresh token.
func (m *Manager) refreshUnknown(ctx context.Context, c *store.Connection, p Platform, rerr error) (result, error) {
	ctx = context.WithoutCancel(ctx)
	now := m.clock.Now()
	name := m.platformName(c)
	m.log.Warn("connect: token refresh sent but no answer arrived; outcome unknown, the provider may have rotated the refresh token",
		slog.String("platform", string(c.Platform)), slog.String("connection_id", c.ID),
		slog.Duration("timeout", m.opts.RefreshTimeout), slog.Any("error", rerr))
	after, err := m.db.RecordRefreshOutcomeUnknown(ctx, c.ID, m.opts.Owner,
		fmt.Sprintf("a token refresh sent to %s got no answer; twinme will retry", name), now)
	if err != nil {
		return result{}, err
	}
	m.count(ctx, string(c.Platform), OutcomeUnknown)
	if after.Status == store.StatusConnected && !expired(after, now) {
		a, err := m.accessToken(after)
		return result{access: a, conn: after, kind: OutcomeUnknown}, err
	}
	return result{conn: after, kind: OutcomeUnknown}, m.unavailable(after, rerr)
}

// count adds one refresh outcome to the fleet counters; a failure to count
// never fails the refresh.
func (m *Manager) count(ctx context.Context, platformName string, kind OutcomeKind) {
	if err := m.db.BumpCounter(context.WithoutCancel(ctx), store.CounterRefresh, platformName+"/"+string(kind), 1, m.clock.Now()); err != nil {
		m.log.Warn("connect: count refresh outcome", slog.Any("error", err))
	}
}
