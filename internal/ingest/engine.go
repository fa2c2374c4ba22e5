// Package ingest brings platform data into twinme: the polling engine that
// fetches every connected platform's streams incrementally, the upsert that
// deduplicates API items and imported exports into user_platform_data, data
// imports, and the browser extension's behaviour events.
package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// Tokens is what the engine needs of the token manager.
type Tokens interface {
	// ValidToken returns a usable access token (refreshing it if needed).
	ValidToken(ctx context.Context, connectionID string) (string, error)
	// Refresh renews the token now (after a 401).
	Refresh(ctx context.Context, connectionID string) (*store.Connection, error)
	// MarkNeedsReauth sets needs_reauth and notifies subscribers.
	MarkNeedsReauth(ctx context.Context, connectionID string) (*store.Connection, error)
}

var _ Tokens = (*connect.Manager)(nil)

// Defaults of EngineOptions.
const (
	DefaultInterval   = 30 * time.Minute
	DefaultWorkers    = 4
	DefaultClaimLease = 15 * time.Minute
	DefaultRunTimeout = 10 * time.Minute
	DefaultMaxPages   = 100
)

// DefaultRateLimits are the request rates the engine allows itself per
// platform, across all users (requests per second). They stay well under
// each provider's documented app-wide limits (PROVIDERS.md): Spotify's
// rolling 30-s window per app, Discord's 50/s global, Slack's per-workspace
// tiers; GitHub and Gmail limits are per user, so theirs is higher.
var DefaultRateLimits = map[platform.ID]rate.Limit{
	platform.Spotify:  5,
	platform.YouTube:  5,
	platform.GitHub:   10,
	platform.Discord:  10,
	platform.Gmail:    10,
	platform.LinkedIn: 2,
	platform.Slack:    1,
}

// EngineOptions configure an Engine. Zero values take the defaults.
type EngineOptions struct {
	// Providers are the configured platforms; connections to others are
	// never claimed.
	Providers map[platform.ID]platform.Provider
	// Streams returns a provider's streams (default Provider.Streams).
	Streams func(p platform.Provider) []platform.Stream
	// HTTPClient makes API requests (default http.DefaultClient).
	HTTPClient *http.Client
	// Workers bounds connections synced at once by RunDue (default 4).
	Workers int
	// Interval between two runs of a connection (default 30 min); a
	// provider's PollAfter lengthens it.
	Interval time.Duration
	// RateLimits per platform in requests per second (default
	// DefaultRateLimits; rate.Inf for none). Burst is the bucket size
	// (default 5).
	RateLimits map[platform.ID]rate.Limit
	Burst      int
	// ClaimLease is how long a claimed connection is reserved for this
	// instance's run (default 15 min); it must exceed RunTimeout.
	ClaimLease time.Duration
	// RunTimeout bounds one connection's run (default 10 min).
	RunTimeout time.Duration
	// MaxPages bounds the pages of one stream in one run (default 100);
	// the rest comes on the next run, from the checkpoint.
	MaxPages int
	// Bus carries SyncProgress to dashboards.
	Bus events.Bus
	// Analysis is told when a run stored new data (nil: nobody is).
	Analysis events.AnalysisTrigger
	Clock    clockwork.Clock
	Logger   *slog.Logger
}

// Engine polls platforms. It is safe for concurrent use.
type Engine struct {
	db       *store.DB
	tokens   Tokens
	opts     EngineOptions
	clock    clockwork.Clock
	log      *slog.Logger
	limiters map[platform.ID]*rate.Limiter
	flight   singleflight.Group

	pauseMu sync.Mutex
	// paused holds, per platform, when a limit that covers every
	// connection (a daily quota, an app-wide rate limit) lifts.
	paused map[platform.ID]time.Time
}

// NewEngine returns a polling engine over db.
func NewEngine(db *store.DB, tokens Tokens, opts EngineOptions) *Engine {
	if opts.Streams == nil {
		opts.Streams = func(p platform.Provider) []platform.Stream { return p.Streams() }
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = http.DefaultClient
	}
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.Burst <= 0 {
		opts.Burst = 5
	}
	if opts.RunTimeout <= 0 {
		opts.RunTimeout = DefaultRunTimeout
	}
	if opts.ClaimLease <= opts.RunTimeout {
		opts.ClaimLease = max(DefaultClaimLease, opts.RunTimeout+time.Minute)
	}
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	lims := make(map[platform.ID]*rate.Limiter, len(opts.Providers))
	for id := range opts.Providers {
		r, ok := opts.RateLimits[id]
		if !ok {
			if r, ok = DefaultRateLimits[id]; !ok {
				r = 5
			}
		}
		lims[id] = rate.NewLimiter(r, opts.Burst)
	}
	return &Engine{db: db, tokens: tokens, opts: opts, clock: opts.Clock, log: opts.Logger, limiters: lims, paused: map[platform.ID]time.Time{}}
}

// Outcome is how a connection's run ended.
type Outcome string

const (
	// OutcomeSynced: every stream was fetched to its end.
	OutcomeSynced Outcome = "synced"
	// OutcomePartial: some streams failed for good (bad request, not
	// found); the others were synced. It counts as a failure.
	OutcomePartial Outcome = "partial"
	// OutcomeFailed: a transient failure (5xx, network, token refresh
	// failing) stopped the run; pages stored before it stay, the next run
	// resumes from the checkpoint after a backoff.
	OutcomeFailed Outcome = "failed"
	// OutcomeRateLimited: the provider asked us to wait; next_sync_at
	// moved to when it said.
	OutcomeRateLimited Outcome = "rate_limited"
	// OutcomeNeedsReauth: the token was rejected after a refresh; the
	// person must connect again.
	OutcomeNeedsReauth Outcome = "needs_reauth"
	// OutcomeSkipped: the connection cannot be synced now (disconnected
	// meanwhile, in error, platform not configured) or the run was
	// cancelled.
	OutcomeSkipped Outcome = "skipped"
)

// StreamResult is one stream's share of a run.
type StreamResult struct {
	Name    string `json:"name"`
	Pages   int    `json:"pages"`
	Fetched int    `json:"fetched"`
	store.UpsertCounts
	// Error is a message safe to show, when the stream failed.
	Error string `json:"error,omitempty"`
}

// ConnectionResult is the outcome of one connection's run.
type ConnectionResult struct {
	ConnectionID string      `json:"connectionId"`
	UserID       string      `json:"userId"`
	Platform     platform.ID `json:"platform"`
	Outcome      Outcome     `json:"outcome"`
	// Fetched items; of them Inserted are new, Updated changed, Unchanged
	// were already stored as they are.
	Fetched int `json:"fetched"`
	store.UpsertCounts
	Streams    []StreamResult `json:"streams,omitempty"`
	NextSyncAt time.Time      `json:"nextSyncAt"`
	// Error is a message safe to show (no tokens, no response bodies).
	Error string `json:"error,omitempty"`
}

// PollResult is the outcome of one RunDue.
type PollResult struct {
	Connections int `json:"connections"`
	Synced      int `json:"synced"`
	Failed      int `json:"failed"`
	RateLimited int `json:"rateLimited"`
	NeedsReauth int `json:"needsReauth"`
	Skipped     int `json:"skipped"`
	// Items fetched, and of them inserted and updated.
	Items    int `json:"items"`
	Inserted int `json:"inserted"`
	Updated  int `json:"updated"`
	// PerConnection in the order runs finished.
	PerConnection []ConnectionResult `json:"perConnection"`
}

func (r *PollResult) add(c ConnectionResult) {
	r.Connections++
	switch c.Outcome {
	case OutcomeSynced:
		r.Synced++
	case OutcomeFailed, OutcomePartial:
		r.Failed++
	case OutcomeRateLimited:
		r.RateLimited++
	case OutcomeNeedsReauth:
		r.NeedsReauth++
	default:
		r.Skipped++
	}
	r.Items += c.Fetched
	r.Inserted += c.Inserted
	r.Updated += c.Updated
	r.PerConnection = append(r.PerConnection, c)
}

// RunDue syncs every connected connection whose next_sync_at was due when
// it started, with at most Workers at once (the platform-polling job). Each
// worker claims one connection at a time (moving its next_sync_at by
// ClaimLease), so several instances share the work, none syncs a
// connection another is syncing, and no claim waits in a queue long enough
// to expire. The error is ctx's or the database's; per-connection failures
// are in the result.
//
// Runs are bounded by RunTimeout rather than ctx (a syncNow caller may be
// waiting on the same run); when ctx ends RunDue stops claiming and
// returns, and runs already going finish on their own.
func (e *Engine) RunDue(ctx context.Context) (PollResult, error) {
	var res PollResult
	ids := make([]string, 0, len(e.opts.Providers))
	for id := range e.opts.Providers {
		ids = append(ids, string(id))
	}
	sort.Strings(ids)
	dueAt := e.clock.Now()

	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range e.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				cs, err := e.db.ClaimDueConnections(ctx, ids, dueAt, e.clock.Now().Add(e.opts.ClaimLease), 1)
				if err != nil {
					mu.Lock()
					if firstErr == nil && ctx.Err() == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				if len(cs) == 0 {
					return
				}
				r := e.syncShared(ctx, &cs[0])
				mu.Lock()
				res.add(r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("ingest: poll: %w", err)
	}
	return res, nil
}

// SyncNow syncs userID's connection to platform now (the syncNow
// mutation). A call while a run of that connection is going on in this
// process gets that run's result instead of starting another.
//
// Errors: NOT_FOUND (no such connection), BAD_USER_INPUT (not connected,
// must reconnect), NOT_CONFIGURED, RATE_LIMITED (the provider asked us to
// wait and that time has not come).
func (e *Engine) SyncNow(ctx context.Context, userID, platformName string) (ConnectionResult, error) {
	id, err := platform.Parse(platformName)
	if err != nil {
		return ConnectionResult{}, err
	}
	return e.Sync(ctx, userID, id)
}

// Sync is SyncNow for a platform already parsed (the GraphQL edge parses
// the enum once).
func (e *Engine) Sync(ctx context.Context, userID string, id platform.ID) (ConnectionResult, error) {
	p, ok := e.opts.Providers[id]
	if !ok {
		return ConnectionResult{}, apperr.New(apperr.NotConfigured, "%s is not configured on this server", providerName(id, p))
	}
	c, err := e.db.ConnectionByPlatform(ctx, userID, string(id))
	if err != nil {
		return ConnectionResult{}, err
	}
	switch c.Status {
	case store.StatusConnected:
	case store.StatusDisconnected:
		return ConnectionResult{}, apperr.New(apperr.BadUserInput, "%s is not connected", p.Name)
	case store.StatusError:
		if c.ConfigFingerprint != "" {
			// Our OAuth client was refused: the person can do nothing, and
			// the connection resumes once an operator fixes it.
			return ConnectionResult{}, apperr.New(apperr.NotConfigured, "%s", connect.ConfigErrorMessage(p.Name))
		}
		return ConnectionResult{}, apperr.New(apperr.BadUserInput, "the %s connection is failing; connect %s again", p.Name, p.Name)
	default:
		return ConnectionResult{}, apperr.New(apperr.BadUserInput, "connect %s again", p.Name)
	}
	st, err := e.db.SyncState(ctx, c.ID)
	if err != nil {
		return ConnectionResult{}, err
	}
	if now := e.clock.Now(); st.RetryAt != nil && now.Before(*st.RetryAt) {
		return ConnectionResult{}, apperr.New(apperr.RateLimited, "%s asked twinme to wait; try again in %s",
			p.Name, st.RetryAt.Sub(now).Round(time.Second))
	}
	return e.syncShared(ctx, c), nil
}

// syncShared runs one sync per connection at a time in this process; a
// caller arriving meanwhile gets the running one's result. The run is
// detached from the first caller's cancellation (bounded by RunTimeout), so
// an impatient caller does not fail the others; each caller stops waiting
// when its own ctx ends.
func (e *Engine) syncShared(ctx context.Context, c *store.Connection) ConnectionResult {
	if ctx.Err() != nil {
		return ConnectionResult{ConnectionID: c.ID, UserID: c.UserID, Platform: c.Platform, Outcome: OutcomeSkipped, Error: "cancelled"}
	}
	ch := e.flight.DoChan(c.ID, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.opts.RunTimeout)
		defer cancel()
		return e.sync(rctx, c), nil
	})
	select {
	case <-ctx.Done():
		return ConnectionResult{ConnectionID: c.ID, UserID: c.UserID, Platform: c.Platform, Outcome: OutcomeSkipped, Error: "cancelled"}
	case r := <-ch:
		return r.Val.(ConnectionResult)
	}
}

// run is the state of one connection's sync.
type run struct {
	e       *Engine
	c       *store.Connection
	p       platform.Provider
	res     ConnectionResult
	token   string
	renewed bool // the token was refreshed after a 401 in this run
	// stop ends the run: set with the outcome.
	stop      bool
	retryAt   time.Time
	pollAfter time.Duration
}

// sync runs every stream of c once and records the outcome.
func (e *Engine) sync(ctx context.Context, c *store.Connection) ConnectionResult {
	r := &run{e: e, c: c, p: e.opts.Providers[platform.ID(c.Platform)]}
	r.res = ConnectionResult{ConnectionID: c.ID, UserID: c.UserID, Platform: c.Platform, Outcome: OutcomeSynced}
	if _, ok := e.opts.Providers[platform.ID(c.Platform)]; !ok {
		r.res.Outcome, r.res.Error = OutcomeSkipped, "platform not configured"
		return r.res
	}
	state, err := e.db.SyncState(ctx, c.ID)
	if err != nil {
		r.fail(OutcomeFailed, "twinme could not read the sync state", err)
	}
	if !r.stop {
		r.token, err = e.tokens.ValidToken(ctx, c.ID)
		if err != nil {
			r.tokenFailed(err)
		}
	}
	if !r.stop {
		cursors := store.StreamCursors(c.SyncCursor)
		for _, s := range e.opts.Streams(r.p) {
			r.stream(ctx, s, cursors[s.Name])
			if r.stop {
				break
			}
		}
	}
	r.finish(ctx, state)
	return r.res
}

// fail stops the run with outcome and a message safe to show; cause is logged.
func (r *run) fail(o Outcome, msg string, cause error) {
	r.stop = true
	r.res.Outcome, r.res.Error = o, msg
	if cause != nil {
		r.e.log.Warn("ingest: sync stopped", slog.String("platform", string(r.c.Platform)), slog.String("connection_id", r.c.ID),
			slog.String("outcome", string(o)), slog.Any("error", cause))
	}
}

// tokenFailed classifies a failure of the token manager. It has already
// recorded what it means for the connection's status.
func (r *run) tokenFailed(err error) {
	name := r.p.Name
	switch {
	case errors.Is(err, connect.ErrNeedsReauth):
		r.fail(OutcomeNeedsReauth, fmt.Sprintf("connect %s again", name), nil)
	case errors.Is(err, connect.ErrNotConnected), errors.Is(err, connect.ErrConnectionFailed), errors.Is(err, connect.ErrNotConfigured),
		apperr.CodeOf(err) == apperr.NotFound:
		r.fail(OutcomeSkipped, apperr.MessageOf(err), nil)
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		r.fail(OutcomeSkipped, "cancelled", nil)
	default:
		r.fail(OutcomeFailed, fmt.Sprintf("the %s token could not be renewed; twinme will retry", name), err)
	}
}

// stream fetches one stream page by page from cursor, storing each page
// with its cursor in one transaction.
func (r *run) stream(ctx context.Context, s platform.Stream, cursor []byte) {
	sr := StreamResult{Name: s.Name}
	defer func() { r.res.Streams = append(r.res.Streams, sr) }()
	lim := r.e.limiters[r.p.ID]
	for sr.Pages < r.e.opts.MaxPages {
		if until, ok := r.e.pausedUntil(r.p.ID); ok {
			// Another connection learnt that nobody gets through now;
			// asking again would only add to the provider's count.
			r.retryAt = until
			r.fail(OutcomeRateLimited, fmt.Sprintf("%s asked twinme to slow down; the next sync is at %s", r.p.Name, until.UTC().Format(time.RFC3339)), nil)
			return
		}
		if lim != nil {
			if err := lim.Wait(ctx); err != nil {
				r.fail(OutcomeSkipped, "cancelled", nil)
				return
			}
		}
		page, err := s.Fetch(ctx, r.e.opts.HTTPClient, r.p, r.token, cursor)
		if err != nil {
			if retry := r.fetchFailed(ctx, &sr, err); retry {
				continue
			}
			return
		}
		if page.PollAfter > r.pollAfter {
			r.pollAfter = page.PollAfter
		}
		if page.NotModified {
			return
		}
		if page.Reset {
			r.e.log.Info("ingest: stream starts over (its cursor expired or did not parse)",
				slog.String("platform", string(r.c.Platform)), slog.String("stream", s.Name))
		}
		items := make([]store.PlatformItem, 0, len(page.Items))
		for _, it := range page.Items {
			if it.DataType == "" || it.ExternalID == "" {
				// A stream bug must not block the whole connection.
				r.e.log.Error("ingest: stream returned an item without data type or external id",
					slog.String("platform", string(r.c.Platform)), slog.String("stream", s.Name))
				continue
			}
			items = append(items, apiItem(it))
		}
		counts, err := r.e.db.SavePage(ctx, r.c, s.Name, items, page.Cursor, r.e.clock.Now())
		if err != nil {
			if errors.Is(err, store.ErrConnectionGone) {
				r.fail(OutcomeSkipped, fmt.Sprintf("%s was disconnected", r.p.Name), nil)
			} else {
				r.fail(OutcomeFailed, "twinme could not store the data; it will retry", err)
			}
			sr.Error = r.res.Error
			return
		}
		sr.Pages++
		sr.Fetched += len(items)
		sr.Add(counts)
		r.res.Fetched += len(items)
		r.res.Add(counts)
		r.progress(ctx, s.Name, false, false, "")
		if !page.More {
			return
		}
		if page.Cursor == nil || bytes.Equal(page.Cursor, cursor) {
			// A stream that says "more" without moving would loop forever.
			r.e.log.Error("ingest: stream asked for more without advancing its cursor",
				slog.String("platform", string(r.c.Platform)), slog.String("stream", s.Name))
			return
		}
		cursor = page.Cursor
	}
}

// fetchFailed handles a failed fetch and reports whether to retry the page.
// A failed fetch is never taken as "no new data": it either retries, stops
// the run, or marks the stream failed.
func (r *run) fetchFailed(ctx context.Context, sr *StreamResult, err error) (retry bool) {
	name := r.p.Name
	defer func() {
		if !retry && sr.Error == "" && r.res.Error != "" && r.stop {
			sr.Error = r.res.Error
		}
	}()
	if ctx.Err() != nil {
		r.fail(OutcomeSkipped, "cancelled", nil)
		return false
	}
	var apiErr *platform.APIError
	if !errors.As(err, &apiErr) {
		r.fail(OutcomeFailed, fmt.Sprintf("%s could not be reached; twinme will retry", name), err)
		return false
	}
	switch apiErr.Kind {
	case platform.APIAuth:
		if r.renewed {
			r.needsReauth(ctx)
			return false
		}
		r.renewed = true
		if _, err := r.e.tokens.Refresh(ctx, r.c.ID); err != nil {
			r.tokenFailed(err)
			return false
		}
		tok, err := r.e.tokens.ValidToken(ctx, r.c.ID)
		if err != nil {
			r.tokenFailed(err)
			return false
		}
		r.token = tok
		return true
	case platform.APIForbidden:
		// Missing scope or revoked access: a refresh keeps the same
		// grant, only reconnecting changes it.
		r.needsReauth(ctx)
		return false
	case platform.APIRateLimited, platform.APIQuotaExceeded:
		now := r.e.clock.Now()
		r.retryAt = apiErr.RetryAt(now)
		if !r.retryAt.After(now) {
			// The provider gave no time: wait as after a failure.
			r.retryAt = now.Add(retryBase)
		}
		if AppWideLimit(apiErr) {
			r.e.pause(r.p.ID, r.retryAt)
		}
		r.fail(OutcomeRateLimited, fmt.Sprintf("%s asked twinme to slow down; the next sync is at %s", name, r.retryAt.UTC().Format(time.RFC3339)), nil)
		return false
	case platform.APIBadRequest, platform.APINotFound:
		// This stream cannot work as asked; the others may.
		sr.Error = fmt.Sprintf("%s refused the request (HTTP %d)", name, apiErr.StatusCode)
		r.res.Outcome, r.res.Error = OutcomePartial, sr.Error
		r.e.log.Warn("ingest: stream failed", slog.String("platform", string(r.c.Platform)), slog.String("stream", sr.Name), slog.Any("error", err))
		return false
	default:
		msg := fmt.Sprintf("%s could not be reached; twinme will retry", name)
		if apiErr.StatusCode != 0 {
			msg = fmt.Sprintf("%s answered HTTP %d; twinme will retry", name, apiErr.StatusCode)
		}
		r.fail(OutcomeFailed, msg, err)
		return false
	}
}

func (r *run) needsReauth(ctx context.Context) {
	if _, err := r.e.tokens.MarkNeedsReauth(ctx, r.c.ID); err != nil {
		r.e.log.Warn("ingest: mark needs reauth", slog.String("connection_id", r.c.ID), slog.Any("error", err))
	}
	r.fail(OutcomeNeedsReauth, fmt.Sprintf("%s no longer accepts twinme's access; connect %s again", r.p.Name, r.p.Name), nil)
}

// finish records the run (next_sync_at, last_sync, last_error, counts) and
// publishes the final progress and, if anything was stored, that analysis
// is needed.
func (r *run) finish(ctx context.Context, state store.SyncState) {
	ctx = context.WithoutCancel(ctx)
	now := r.e.clock.Now()
	run := store.SyncRun{At: now, Fetched: r.res.Fetched, Inserted: r.res.Inserted, Updated: r.res.Updated}
	switch r.res.Outcome {
	case OutcomeSynced:
		run.OK = true
		run.NextSyncAt = NextSync(now, r.e.opts.Interval, r.pollAfter)
	case OutcomeRateLimited:
		run.NextSyncAt, run.RetryAt = r.retryAt, &r.retryAt
	case OutcomeFailed, OutcomePartial:
		run.Failed, run.Error = true, r.res.Error
		if r.res.Outcome == OutcomePartial {
			// The stream will fail the same way; no point in hurrying.
			run.NextSyncAt = NextSync(now, r.e.opts.Interval, r.pollAfter)
		} else {
			run.NextSyncAt = now.Add(RetryBackoff(state.Failures + 1))
		}
	case OutcomeSkipped:
		if r.res.Error == "cancelled" {
			// Picked up again by the next run.
			run.NextSyncAt = now
		} else {
			run.NextSyncAt = NextSync(now, r.e.opts.Interval, 0)
		}
	default:
		run.NextSyncAt = NextSync(now, r.e.opts.Interval, 0)
	}
	r.res.NextSyncAt = run.NextSyncAt
	if _, err := r.e.db.RecordSyncRun(ctx, r.c.ID, run); err != nil && !errors.Is(err, store.ErrConnectionGone) {
		r.e.log.Error("ingest: record sync run", slog.String("connection_id", r.c.ID), slog.Any("error", err))
	}
	failed := r.res.Outcome != OutcomeSynced
	r.progress(ctx, "", !failed, failed, r.res.Error)
	if r.res.Stored() > 0 && r.e.opts.Analysis != nil {
		r.e.opts.Analysis.DataChanged(ctx, r.c.UserID, string(r.c.Platform))
	}
	r.e.log.Info("ingest: synced", slog.String("platform", string(r.c.Platform)), slog.String("connection_id", r.c.ID),
		slog.String("outcome", string(r.res.Outcome)), slog.Int("fetched", r.res.Fetched),
		slog.Int("inserted", r.res.Inserted), slog.Int("updated", r.res.Updated), slog.Time("next_sync_at", run.NextSyncAt))
}

// SyncProgress is the payload of events.SyncProgress (key: the platform).
type SyncProgress struct {
	Platform platform.ID `json:"platform"`
	// Stream is the stream a page was stored for; "" on the final event.
	Stream string `json:"stream,omitempty"`
	// Items fetched so far in this run, and of them stored (new or changed).
	Items  int    `json:"items"`
	Stored int    `json:"stored"`
	Done   bool   `json:"done"`
	Failed bool   `json:"failed"`
	Error  string `json:"error,omitempty"`
}

// Topic implements events.Payload.
func (SyncProgress) Topic() string { return events.SyncProgress }

func (r *run) progress(ctx context.Context, stream string, done, failed bool, msg string) {
	events.Publish(ctx, r.e.opts.Bus, r.e.log, r.c.UserID, string(r.c.Platform), SyncProgress{
		Platform: r.c.Platform, Stream: stream, Items: r.res.Fetched, Stored: r.res.Stored(),
		Done: done, Failed: failed, Error: msg,
	})
}

// NextSync is when a connection synced at now is due again: after interval,
// or after pollAfter when the provider asked for longer.
func NextSync(now time.Time, interval, pollAfter time.Duration) time.Time {
	return now.Add(max(interval, pollAfter))
}

// Backoff bounds of RetryBackoff.
const (
	retryBase = 5 * time.Minute
	retryMax  = 6 * time.Hour
)

// RetryBackoff is the wait after the n-th failed run in a row: 5 minutes,
// doubling up to 6 hours. An outage costs a provider at most a few requests
// per connection per hour, and a short blip delays data by minutes.
func RetryBackoff(n int) time.Duration {
	if n <= 1 {
		return retryBase
	}
	d := retryBase
	for i := 1; i < n; i++ {
		d *= 2
		if d >= retryMax {
			return retryMax
		}
	}
	return d
}

func providerName(id platform.ID, p platform.Provider) string {
	if p.Name != "" {
		return p.Name
	}
	if known, ok := platform.Providers()[id]; ok {
		return known.Name
	}
	return string(id)
}

// AppWideLimit reports whether a rate-limit answer holds for every
// connection of the platform, not just the one that got it: an exhausted
// daily quota (YouTube's 10,000 units per project), Spotify's rolling
// window counted per app, and Discord, which bans an IP address that keeps
// collecting 429s (PROVIDERS.md). GitHub, Gmail and Slack count per user or
// workspace.
func AppWideLimit(e *platform.APIError) bool {
	switch {
	case e.Kind == platform.APIQuotaExceeded:
		return true
	case e.Kind != platform.APIRateLimited:
		return false
	}
	return e.Platform == platform.Spotify || e.Platform == platform.Discord
}

func (e *Engine) pause(id platform.ID, until time.Time) {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	if until.After(e.paused[id]) {
		e.paused[id] = until
	}
}

func (e *Engine) pausedUntil(id platform.ID) (time.Time, bool) {
	e.pauseMu.Lock()
	defer e.pauseMu.Unlock()
	until, ok := e.paused[id]
	if ok && !e.clock.Now().Before(until) {
		delete(e.paused, id)
		return time.Time{}, false
	}
	return until, ok
}
