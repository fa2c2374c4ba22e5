// Package events is the publish/subscribe bus behind GraphQL subscriptions,
// with the one Publish helper every producer uses, and the hook interfaces
// producers are given for side effects inside the process (hooks.go).
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

// Topics published by twinme's services: one producer and one payload type
// each (the type's Topic method names its topic, so Publish cannot send a
// topic with another payload). Key is what a subscriber may filter on.
const (
	ConnectionUpdated      = "connection.updated"       // ConnectionChanged; key: platform
	SyncProgress           = "sync.progress"            // ingest.SyncProgress; key: platform
	InsightAdded           = "insight.added"            // soul.InsightAddedPayload; key: cluster
	SoulSignatureUpdated   = "soul_signature.updated"   // soul.SignatureUpdated; no key
	TwinReply              = "twin.reply"               // twin.ReplyEvent; key: conversation id
	CronExecutionCompleted = "cron.execution_completed" // CronExecutionDone; no user, key: job
	DataExportReady        = "data_export.ready"        // DataExportDone; key: export id
	TwinAccessed           = "twin.accessed"            // TwinAccess; key: share link id
)

// CredentialEnded carries auth.CredentialEnd (UserID empty, Key = the user)
// so every instance clears its credential cache and closes its sockets.
const CredentialEnded = "credential.ended"

// ConnectionChanged is the payload of ConnectionUpdated: the connection's
// id; subscribers read the row as its owner.
type ConnectionChanged struct {
	ID string `json:"id"`
}

// Topic implements Payload.
func (ConnectionChanged) Topic() string { return ConnectionUpdated }

// CronExecutionDone is the payload of CronExecutionCompleted: the
// cron_executions row's id.
type CronExecutionDone struct {
	ID string `json:"id"`
}

// Topic implements Payload.
func (CronExecutionDone) Topic() string { return CronExecutionCompleted }

// DataExportDone is the payload of DataExportReady (ready or failed): the
// export's id.
type DataExportDone struct {
	ID string `json:"id"`
}

// Topic implements Payload.
func (DataExportDone) Topic() string { return DataExportReady }

// TwinAccess is the payload of TwinAccessed: the new access-log entry's id.
type TwinAccess struct {
	ID string `json:"id"`
}

// Topic implements Payload.
func (TwinAccess) Topic() string { return TwinAccessed }

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

// subscriberBuffer is how many events a subscriber may lag before it is
// dropped (or, on a state topic, before its oldest event is discarded).
const subscriberBuffer = 64

// stateTopics carry "this changed, read it again" and nothing a later event
// of the same topic does not carry too: a subscriber that lags loses its
// oldest such events instead of its subscription (latest state wins).
var stateTopics = map[string]bool{SoulSignatureUpdated: true}

// IsStateTopic reports whether only the latest event of topic matters to a
// subscriber that lags behind.
func IsStateTopic(topic string) bool { return stateTopics[topic] }

// Local is the in-memory bus of one process. Subscribers are indexed by
// (topic, user, key), so a publish touches only the subscribers of its own
// topic and user: those of its key and those of every key.
type Local struct {
	log *slog.Logger

	mu   sync.Mutex
	subs map[route]map[*subscriber]struct{}
	n    int
	// OnDrop, if set, is told when a slow subscriber is dropped (metrics).
	OnDrop func(Filter)
}

// route is where a subscriber is filed: its filter, Key "" meaning every key.
type route Filter

type subscriber struct {
	f      Filter
	ch     chan Event
	closed bool
}

var _ Bus = (*Local)(nil)

// NewLocal returns an in-memory bus.
func NewLocal(log *slog.Logger) *Local {
	return &Local{log: log, subs: map[route]map[*subscriber]struct{}{}}
}

// Publish delivers e to every matching subscriber without blocking; a
// subscriber whose buffer is full is dropped rather than slowing everyone
// (on a state topic it loses its oldest buffered event instead).
func (b *Local) Publish(_ context.Context, e Event) error {
	b.deliver(e)
	return nil
}

func (b *Local) deliver(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deliverLocked(b.subs[route{Topic: e.Topic, UserID: e.UserID, Key: e.Key}], e)
	if e.Key != "" {
		b.deliverLocked(b.subs[route{Topic: e.Topic, UserID: e.UserID}], e)
	}
}

func (b *Local) deliverLocked(subs map[*subscriber]struct{}, e Event) {
	state := stateTopics[e.Topic]
	for s := range subs {
		select {
		case s.ch <- e:
			continue
		default:
		}
		if state {
			// Only the publisher sends, and it holds b.mu: after taking
			// the oldest event out there is room for the newest.
			select {
			case <-s.ch:
			default:
			}
			select {
			case s.ch <- e:
			default:
			}
			continue
		}
		b.log.Warn("events: dropping slow subscriber", slog.String("topic", s.f.Topic))
		b.removeLocked(s)
		if b.OnDrop != nil {
			b.OnDrop(s.f)
		}
	}
}

// Subscribe registers a subscriber until ctx ends.
func (b *Local) Subscribe(ctx context.Context, f Filter) <-chan Event {
	s := &subscriber{f: f, ch: make(chan Event, subscriberBuffer)}
	b.mu.Lock()
	set := b.subs[route(f)]
	if set == nil {
		set = map[*subscriber]struct{}{}
		b.subs[route(f)] = set
	}
	set[s] = struct{}{}
	b.n++
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
	set := b.subs[route(s.f)]
	delete(set, s)
	if len(set) == 0 {
		delete(b.subs, route(s.f))
	}
	b.n--
	close(s.ch)
}

// Subscribers returns the number of active subscribers (metrics, tests).
func (b *Local) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}
