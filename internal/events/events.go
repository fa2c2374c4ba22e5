// Package events is the publish/subscribe bus behind GraphQL subscriptions.
// In one process it fans events out in memory; with several instances on
// PostgreSQL it carries them through LISTEN/NOTIFY so a dashboard connected
// to one instance sees what a job on another did.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
)

// Topics published by twinme's services.
const (
	ConnectionUpdated    = "connection.updated"
	SyncProgress         = "sync.progress"
	AnalysisNeeded       = "analysis.needed"
	InsightAdded         = "insight.added"
	SoulSignatureUpdated = "soul_signature.updated"
	TwinReply            = "twin.reply"
	// CredentialEnded carries auth.CredentialEnd (UserID empty, Key = the
	// user) so every instance clears its credential cache and closes sockets.
	CredentialEnded        = "credential.ended"
	CronExecutionCompleted = "cron.execution_completed"
)

// Event is one thing that happened. UserID scopes it: a subscriber only
// receives events of its own user, except admin subscriptions to events with
// no user (cron runs).
type Event struct {
	Topic   string          `json:"t"`
	UserID  string          `json:"u,omitempty"`
	Key     string          `json:"k,omitempty"` // e.g. platform, job or conversation id
	Payload json.RawMessage `json:"p,omitempty"`
}

// Filter selects events for a subscriber. Empty Key matches every key.
type Filter struct {
	Topic  string
	UserID string
	Key    string
}

func (f Filter) match(e Event) bool {
	return f.Topic == e.Topic && f.UserID == e.UserID && (f.Key == "" || f.Key == e.Key)
}

// Bus publishes and subscribes.
type Bus interface {
	// Publish never blocks on subscribers.
	Publish(ctx context.Context, e Event) error
	// Subscribe returns a channel of matching events, closed when ctx ends
	// or when the subscriber falls too far behind (it must then resubscribe).
	Subscribe(ctx context.Context, f Filter) <-chan Event
}

// New builds an event with a JSON payload.
func New(topic, userID, key string, payload any) (Event, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Event{}, fmt.Errorf("events: encode %s: %w", topic, err)
	}
	return Event{Topic: topic, UserID: userID, Key: key, Payload: raw}, nil
}

// subscriberBuffer is how many events a subscriber may lag before it is dropped.
const subscriberBuffer = 64

// Local is the in-memory bus of one process.
type Local struct {
	log *slog.Logger

	mu   sync.Mutex
	subs map[*subscriber]struct{}
	// OnDrop, if set, is told when a slow subscriber is dropped (metrics).
	OnDrop func(Filter)
}

type subscriber struct {
	f      Filter
	ch     chan Event
	closed bool
}

var _ Bus = (*Local)(nil)

// NewLocal returns an in-memory bus.
func NewLocal(log *slog.Logger) *Local {
	return &Local{log: log, subs: map[*subscriber]struct{}{}}
}

// Publish delivers e to every matching subscriber without blocking; a
// subscriber whose buffer is full is dropped rather than slowing everyone.
func (b *Local) Publish(_ context.Context, e Event) error {
	b.deliver(e)
	return nil
}

func (b *Local) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.f.match(e) {
			continue
		}
		select {
		case s.ch <- e:
		default:
			b.log.Warn("events: dropping slow subscriber", slog.String("topic", s.f.Topic))
			b.removeLocked(s)
			if b.OnDrop != nil {
				b.OnDrop(s.f)
			}
		}
	}
}

// Subscribe registers a subscriber until ctx ends.
func (b *Local) Subscribe(ctx context.Context, f Filter) <-chan Event {
	s := &subscriber{f: f, ch: make(chan Event, subscriberBuffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		b.removeLocked(s)
		b.mu.Unlock()
	})
	return s.ch
}

func (b *Local) removeLocked(s *subscriber) {
	if s.closed {
		return
	}
	s.closed = true
	delete(b.subs, s)
	close(s.ch)
}

// Subscribers returns the number of active subscribers (metrics, tests).
func (b *Local) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
