package connect

import (
	"time"

	"github.com/twinme/twinme/internal/store"
)

// DefaultMargin is how long before expiry a token is renewed.
const DefaultMargin = 10 * time.Minute

// GiveUpAfter is how long refreshes may keep failing transiently before the
// connection is set to error for an operator to look at.
const GiveUpAfter = 4 * 24 * time.Hour

const (
	backoffBase = time.Minute
	backoffMax  = time.Hour
)

// Backoff is how long to wait after n consecutive transient refresh
// failures before trying again: nothing before the first failure, then one
// minute doubling up to an hour. The 5-minute sweep and on-demand refreshes
// both respect it, so an outage costs a provider at most one request per
// connection per hour.
func Backoff(n int) time.Duration {
	if n <= 0 {
		return 0
	}
	d := backoffBase
	for i := 1; i < n; i++ {
		d *= 2
		if d >= backoffMax {
			return backoffMax
		}
	}
	return d
}

// needsRefresh reports whether c's access token expires within margin of
// now. A token without expiry never needs a refresh.
func needsRefresh(c *store.Connection, now time.Time, margin time.Duration) bool {
	return c.TokenExpiresAt != nil && !c.TokenExpiresAt.After(now.Add(margin))
}

// expired reports whether c's access token can no longer be used at all.
func expired(c *store.Connection, now time.Time) bool {
	return c.TokenExpiresAt != nil && !c.TokenExpiresAt.After(now)
}

// retryAt is the earliest time another refresh of c may be attempted; zero
// when it is not backing off.
// The provider's Retry-After wins when it asks for longer than the backoff.
func retryAt(c *store.Connection) time.Time {
	var at time.Time
	if c.ConsecutiveFailures > 0 && c.LastErrorAt != nil {
		at = c.LastErrorAt.Add(Backoff(c.ConsecutiveFailures))
	}
	if c.RefreshNotBefore != nil && c.RefreshNotBefore.After(at) {
		at = *c.RefreshNotBefore
	}
	return at
}

// inBackoff reports whether c is still waiting out its backoff at now.
func inBackoff(c *store.Connection, now time.Time) bool {
	at := retryAt(c)
	return !at.IsZero() && now.Before(at)
}

// givesUp reports whether a run of transient failures that started at since
// has lasted long enough at now to set the connection to error.
func givesUp(since *time.Time, now time.Time) bool {
	return since != nil && now.Sub(*since) >= GiveUpAfter
}
