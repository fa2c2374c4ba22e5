package connect

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// OutcomeKind says what a sweep did with one connection.
type OutcomeKind string

const (
	// OutcomeRefreshed: this instance refreshed the token.
	OutcomeRefreshed OutcomeKind = "refreshed"
	// OutcomeFresh: another worker had refreshed it already.
	OutcomeFresh OutcomeKind = "fresh"
	// OutcomeBackoff: skipped, still backing off after transient failures.
	OutcomeBackoff OutcomeKind = "backoff"
	// OutcomeTransient: the refresh failed and will be retried.
	OutcomeTransient OutcomeKind = "transient"
	// OutcomeNeedsReauth: the provider rejected the grant.
	OutcomeNeedsReauth OutcomeKind = "needs_reauth"
	// OutcomeError: the connection went (or is) in error.
	OutcomeError OutcomeKind = "error"
	// OutcomeUnknown: the refresh was sent and no answer arrived; the
	// provider may have processed it.
	OutcomeUnknown OutcomeKind = "unknown"
)

// Outcome is the sweep's result for one connection. Error is safe to show
// (no tokens, no provider internals).
type Outcome struct {
	ConnectionID string
	UserID       string
	Platform     string
	Kind         OutcomeKind
	Error        string
}

// SweepResult sums up one sweep: Checked connections were expiring within
// the margin; Refreshed got a new token from this instance; Failed could not
// be refreshed (transient, needs reauth or error). Connections in backoff or
// refreshed elsewhere are neither.
type SweepResult struct {
	Checked       int
	Refreshed     int
	Failed        int
	PerConnection []Outcome
}

// sweepPageSize is how many expiring connections one query fetches.
const sweepPageSize = 500

// Sweep refreshes every refreshable connection whose token expires within
// the margin, SweepConcurrency at a time, paging through them in expiry
// order. It is the body of the 5-minute token job; running it on several
// instances at once is safe (the lease keeps one refresh per connection).
// A failed connection does not fail the sweep; only a database error or the
// end of ctx does, with the result so far.
func (m *Manager) Sweep(ctx context.Context) (SweepResult, error) {
	var (
		res SweepResult
		mu  sync.Mutex
		wg  sync.WaitGroup
	)
	jobs := make(chan store.Connection)
	record := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		res.PerConnection = append(res.PerConnection, o)
		switch o.Kind {
		case OutcomeRefreshed:
			res.Refreshed++
		case OutcomeTransient, OutcomeNeedsReauth, OutcomeError, OutcomeUnknown:
			res.Failed++
		}
	}
	for range m.opts.SweepConcurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range jobs {
				record(m.sweepOne(ctx, &c))
			}
		}()
	}

	horizon := m.clock.Now().Add(m.opts.Margin)
	var after *store.Cursor
	var listErr error
produce:
	for {
		page, err := m.db.ListExpiringConnections(ctx, horizon, after, sweepPageSize)
		if err != nil {
			listErr = err
			break
		}
		for _, c := range page {
			res.Checked++
			if inBackoff(&c, m.clock.Now()) {
				record(Outcome{ConnectionID: c.ID, UserID: c.UserID, Platform: string(c.Platform), Kind: OutcomeBackoff})
				continue
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				listErr = ctx.Err()
				break produce
			}
		}
		if len(page) < sweepPageSize {
			break
		}
		last := page[len(page)-1]
		after = &store.Cursor{Time: *last.TokenExpiresAt, ID: last.ID}
	}
	if listErr == nil {
		listErr = m.retryConfigErrors(ctx, jobs, record, &res)
	}
	close(jobs)
	wg.Wait()
	if listErr != nil {
		return res, fmt.Errorf("connect: sweep: %w", listErr)
	}
	return res, nil
}

// retryConfigErrors queues the connections in error because our OAuth
// client was rejected: at once when the platform's client configuration
// differs from the one that failed (the operator fixed it), otherwise
// every ConfigRetryInterval. Other connections of a platform that is no
// longer configured stay as they are.
func (m *Manager) retryConfigErrors(ctx context.Context, jobs chan<- store.Connection, record func(Outcome), res *SweepResult) error {
	after := ""
	for {
		page, err := m.db.ListConfigErrorConnections(ctx, after, sweepPageSize)
		if err != nil {
			return err
		}
		for _, c := range page {
			after = c.ID
			if !m.configRetryDue(&c, m.clock.Now()) {
				continue
			}
			res.Checked++
			select {
			case jobs <- c:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if len(page) < sweepPageSize {
			return nil
		}
	}
}

// configRetryDue reports whether connection c, in error because of the
// client configuration, should be retried at now.
func (m *Manager) configRetryDue(c *store.Connection, now time.Time) bool {
	p, ok := m.platforms[platform.ID(c.Platform)]
	if !ok || c.RefreshTokenEnc == nil {
		return false
	}
	if Fingerprint(p) != c.ConfigFingerprint {
		return true
	}
	return c.LastErrorAt == nil || !now.Before(c.LastErrorAt.Add(m.opts.ConfigRetryInterval))
}

func (m *Manager) sweepOne(ctx context.Context, c *store.Connection) Outcome {
	o := Outcome{ConnectionID: c.ID, UserID: c.UserID, Platform: string(c.Platform)}
	// A connection in error reaches the sweep only as a due configuration
	// retry, which must run whatever its status says.
	force := c.Status == store.StatusError
	r, err := m.refreshShared(ctx, c.ID, c, force)
	o.Kind = r.kind
	if err != nil {
		o.Error = safeMessage(err)
		if o.Kind == "" {
			switch {
			case errors.Is(err, ErrNeedsReauth):
				o.Kind = OutcomeNeedsReauth
			case errors.Is(err, ErrUnavailable):
				o.Kind = OutcomeTransient
			default:
				o.Kind = OutcomeError
			}
		}
	}
	if err == nil && r.conn != nil && (o.Kind == OutcomeTransient || o.Kind == OutcomeError || o.Kind == OutcomeNeedsReauth) {
		o.Error = r.conn.LastError
	}
	return o
}

// safeMessage is err's client-safe message; this package only puts safe
// text in the apperr errors it returns.
func safeMessage(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
