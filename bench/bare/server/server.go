// Package server is the bare reference of the benches under bench/: a
// gqlgen v0.17 handler with the same gorilla/websocket transport as twinme
// and nothing else — `{ hello }` answers a constant, `fire(n)` hands one
// tick to every `ticked` subscriber through a channel each (the textbook
// gqlgen subscription). What twinme costs above it is twinme's.
package server

import (
	"context"
	"encoding/json"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"

	"github.com/twinme/twinme/bench/bare/server/generated"
	"github.com/twinme/twinme/internal/server/gorillaws"
)

// Handler serves /graphql and /stats (goroutines, active subscriptions).
func Handler() http.Handler {
	r := &resolver{subs: map[chan *generated.Tick]struct{}{}}
	srv := handler.New(generated.NewExecutableSchema(generated.Config{Resolvers: r}))
	// The same websocket transport as twinme's (internal/app: gorilla,
	// keep-alive and ping/pong intervals, init timeout), so the difference
	// is what twinme does, not how the transport is configured.
	limit := int64(64 << 10)
	srv.AddTransport(transport.Websocket{
		Implementation:        gorillaws.Implementation{},
		KeepAlivePingInterval: 25 * time.Second,
		PingPongInterval:      30 * time.Second,
		InitTimeout:           10 * time.Second,
		PayloadReadLimit:      &limit,
	})
	srv.AddTransport(transport.POST{})
	mux := http.NewServeMux()
	mux.Handle("/graphql", srv)
	mux.HandleFunc("/stats", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		subs := len(r.subs)
		r.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]int{"goroutines": runtime.NumGoroutine(), "subscriptions": subs})
	})
	return mux
}

type resolver struct {
	mu   sync.Mutex
	subs map[chan *generated.Tick]struct{}
}

func (r *resolver) Query() generated.QueryResolver               { return (*queryResolver)(r) }
func (r *resolver) Mutation() generated.MutationResolver         { return (*mutationResolver)(r) }
func (r *resolver) Subscription() generated.SubscriptionResolver { return (*subscriptionResolver)(r) }

type queryResolver resolver
type mutationResolver resolver
type subscriptionResolver resolver

func (*queryResolver) Hello(context.Context) (string, error) { return "world", nil }

func (r *mutationResolver) Fire(_ context.Context, n int) (int, error) {
	t := &generated.Tick{N: n, At: time.Now().UTC().Format(time.RFC3339Nano), Missing: []string{}}
	r.mu.Lock()
	defer r.mu.Unlock()
	sent := 0
	for ch := range r.subs {
		select {
		case ch <- t:
			sent++
		default:
		}
	}
	return sent, nil
}

func (r *subscriptionResolver) Ticked(ctx context.Context) (<-chan *generated.Tick, error) {
	ch := make(chan *generated.Tick, 16)
	r.mu.Lock()
	r.subs[ch] = struct{}{}
	r.mu.Unlock()
	context.AfterFunc(ctx, func() {
		r.mu.Lock()
		delete(r.subs, ch)
		close(ch)
		r.mu.Unlock()
	})
	return ch, nil
}
