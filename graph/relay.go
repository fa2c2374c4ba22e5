package graph

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
)

// relay turns a service's page into a Relay connection's edges and page
// info; edge builds one edge of a node and its cursor.
func relay[T, E any](p domain.Page[T], edge func(node T, cursor string) E) ([]E, model.PageInfo) {
	edges := make([]E, len(p.Items))
	for i, it := range p.Items {
		edges[i] = edge(it, p.Cursors[i])
	}
	info := model.PageInfo{HasNextPage: p.HasNextPage}
	if p.EndCursor != "" {
		info.EndCursor = &p.EndCursor
	}
	return edges, info
}

// Views shares the work of live subscriptions: every subscriber of the same
// view (the same topic, user, key and rendering) is fed by one bus
// subscription and one goroutine, which turns each event into its payload
// once — at most one store read per event per view, however many sockets
// watch it — and hands that value to every subscriber.
type Views struct {
	bus events.Bus

	mu     sync.Mutex
	groups map[viewKey]*viewGroup

	// OnRender, if set, is called once per rendered event (tests, metrics).
	OnRender func(topic string)
}

// NewViews returns the shared views over bus.
func NewViews(bus events.Bus) *Views {
	return &Views{bus: bus, groups: map[viewKey]*viewGroup{}}
}

// viewKey names a view: the bus filter it follows and what distinguishes
// its rendering (e.g. an audience), so that one rendering is right for
// every subscriber filed under it.
type viewKey struct {
	filter  events.Filter
	variant string
}

// viewGroup is one view and its subscribers.
type viewGroup struct {
	key    viewKey
	cancel context.CancelFunc

	mu      sync.Mutex
	members map[*viewMember]struct{}
	closed  bool // no members left; a new subscriber starts a new group
}

// viewMember is one subscriber's channel. Values are sent only while
// holding the group's mutex, and the channel is closed under it, so no send
// ever meets a closed channel.
type viewMember struct {
	send   func(v any) bool // false: the member's buffer is full
	close  func()
	closed bool
}

// memberBuffer is how many rendered values a subscriber may lag before it is
// dropped (state views keep only the latest instead).
const memberBuffer = 16

// Subscribers returns the number of subscribers of every view (tests, metrics).
func (vs *Views) Subscribers() int {
	vs.mu.Lock()
	defer vs.mu.Unlock()
	n := 0
	for _, g := range vs.groups {
		g.mu.Lock()
		n += len(g.members)
		g.mu.Unlock()
	}
	return n
}

// share subscribes to the view (f, variant) until ctx ends. render turns an
// event into the view's value (false: nothing to send); it must depend only
// on f, variant and the event, never on the subscriber, and it runs once per
// event for all subscribers, with a context of the view, not of a request.
// On a state topic (events.IsStateTopic) a subscriber that lags sees only
// the latest value; otherwise it is dropped (its channel closes) once
// memberBuffer values wait, without slowing the others.
func share[T any](ctx context.Context, vs *Views, f events.Filter, variant string, render func(ctx context.Context, e events.Event) (T, bool)) <-chan T {
	state := events.IsStateTopic(f.Topic)
	size := memberBuffer
	if state {
		size = 1
	}
	ch := make(chan T, size)
	m := &viewMember{close: func() { close(ch) }}
	m.send = func(v any) bool {
		t := v.(T)
		select {
		case ch <- t:
			return true
		default:
		}
		if !state {
			return false
		}
		select { // latest state wins
		case <-ch:
		default:
		}
		select {
		case ch <- t:
		default:
		}
		return true
	}

	key := viewKey{filter: f, variant: variant}
	vs.mu.Lock()
	g := vs.groups[key]
	if g != nil {
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			g = nil
		}
	}
	if g == nil {
		gctx, cancel := context.WithCancel(context.Background())
		g = &viewGroup{key: key, cancel: cancel, members: map[*viewMember]struct{}{}}
		vs.groups[key] = g
		in := vs.bus.Subscribe(gctx, f)
		go vs.run(gctx, g, in, func(ctx context.Context, e events.Event) (any, bool) { return render(ctx, e) })
		g.mu.Lock()
	}
	g.members[m] = struct{}{}
	g.mu.Unlock()
	vs.mu.Unlock()

	context.AfterFunc(ctx, func() { vs.leave(g, m) })
	return ch
}

// run renders each event of g's view once and hands it to every member.
func (vs *Views) run(ctx context.Context, g *viewGroup, in <-chan events.Event, render func(context.Context, events.Event) (any, bool)) {
	for e := range in {
		v, ok := render(ctx, e)
		if vs.OnRender != nil {
			vs.OnRender(e.Topic)
		}
		if !ok {
			continue
		}
		g.mu.Lock()
		for m := range g.members {
			if !m.send(v) {
				g.dropLocked(m)
			}
		}
		g.mu.Unlock()
	}
	// The bus closed the view's channel: the view ended (no members), or it
	// fell too far behind, and its members must resubscribe.
	vs.mu.Lock()
	if vs.groups[g.key] == g {
		delete(vs.groups, g.key)
	}
	vs.mu.Unlock()
	g.mu.Lock()
	g.closed = true
	for m := range g.members {
		g.dropLocked(m)
	}
	g.mu.Unlock()
	g.cancel()
}

func (g *viewGroup) dropLocked(m *viewMember) {
	if m.closed {
		return
	}
	m.closed = true
	delete(g.members, m)
	m.close()
}

// leave removes m from g; the last member to leave ends the view.
func (vs *Views) leave(g *viewGroup, m *viewMember) {
	g.mu.Lock()
	g.dropLocked(m)
	last := len(g.members) == 0 && !g.closed
	if last {
		g.closed = true
	}
	g.mu.Unlock()
	if !last {
		return
	}
	vs.mu.Lock()
	if vs.groups[g.key] == g {
		delete(vs.groups, g.key)
	}
	vs.mu.Unlock()
	g.cancel()
}

// eventID reads the {"id": …} payload most events carry.
func eventID(e events.Event) (string, bool) {
	var ref struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(e.Payload, &ref) != nil || ref.ID == "" {
		return "", false
	}
	return ref.ID, true
}
