package app_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
)

// readCounter is the test hook on the store: it counts the SELECTs that
// read from the given tables.
type readCounter struct {
	mu     sync.Mutex
	tables []string
	n      int
	log    []string
}

func (c *readCounter) BeforeQuery(ctx context.Context, _ *store.QueryEvent) context.Context {
	return ctx
}

func (c *readCounter) AfterQuery(_ context.Context, e *store.QueryEvent) {
	q := e.Query
	if !strings.HasPrefix(strings.TrimSpace(q), "SELECT") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, t := range c.tables {
		if strings.Contains(q, `"`+t+`"`) {
			c.n++
			c.log = append(c.log, q)
			return
		}
	}
}

func (c *readCounter) reset(tables ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tables, c.n, c.log = tables, 0, nil
}

func (c *readCounter) count() (int, []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n, append([]string(nil), c.log...)
}

// nextFor reads messages from c until the "next" of subscription id.
func nextFor(t *testing.T, c *websocket.Conn, id string) wsMsg {
	t.Helper()
	for {
		m := readMsg(t, c)
		if m.Type == "next" && m.ID == id {
			return m
		}
		if m.Type == "error" || m.Type == "complete" {
			t.Fatalf("subscription %s ended: %s %s", m.ID, m.Type, m.Payload)
		}
	}
}

// TestOneStoreReadPerEventPerView: however many sockets subscribe to a
// view, a published event is read from the store once for that view, and
// every subscriber of the view receives it; other users' subscribers
// receive nothing and cost no read.
func TestOneStoreReadPerEventPerView(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		ctx := context.Background()
		ada, adaTok := e.user("ada@example.com", false)
		_, bobTok := e.user("bob@example.com", false)
		conn := &store.Connection{UserID: ada.ID, Platform: "spotify", AccountID: "acct", AccountName: "Ada", ConnectedAt: e.clock.Now()}
		if err := e.app.DB.UpsertConnection(ctx, conn, func(string) (store.ConnectionTokens, error) {
			return store.ConnectionTokens{AccessTokenEnc: "not read by this test"}, nil
		}); err != nil {
			t.Fatal(err)
		}
		hook := &readCounter{}
		e.app.DB.AddQueryHook(hook)

		const adaSockets, bobSockets = 25, 5
		var adas, bobs []*websocket.Conn
		open := func(tok string) *websocket.Conn {
			c := e.subscribe(tok, `subscription { connectionUpdated { id platform status accountName } }`, nil)
			t.Cleanup(func() { _ = c.Close() })
			_ = c.WriteJSON(map[string]any{"id": "sig", "type": "subscribe", "payload": map[string]any{
				"query": `subscription { soulSignatureUpdated { analyzed missing insights { key } } }`}})
			return c
		}
		for i := 0; i < adaSockets; i++ {
			adas = append(adas, open(adaTok))
		}
		for i := 0; i < bobSockets; i++ {
			bobs = append(bobs, open(bobTok))
		}
		for deadline := time.Now().Add(10 * time.Second); e.app.Views.Subscribers() < 2*(adaSockets+bobSockets); {
			if time.Now().After(deadline) {
				t.Fatalf("%d subscriptions after 10s", e.app.Views.Subscribers())
			}
			time.Sleep(5 * time.Millisecond)
		}

		// connectionUpdated: the event names the row; one read for Ada's view.
		hook.reset("platform_connections")
		ev, err := events.New(events.ConnectionUpdated, ada.ID, "spotify", map[string]string{"id": conn.ID})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Events.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
		for _, c := range adas {
			if m := nextFor(t, c, "s"); !strings.Contains(string(m.Payload), `"accountName":"Ada"`) {
				t.Fatalf("ada's socket got %s", m.Payload)
			}
		}
		if n, qs := hook.count(); n != 1 {
			t.Fatalf("%d reads of platform_connections for one event to %d subscribers, want 1:\n%s", n, adaSockets, strings.Join(qs, "\n"))
		}

		// soulSignatureUpdated renders the whole signature: exactly the reads
		// of one rendering, whatever the number of subscribers.
		tables := []string{"insights", "soul_signatures", "privacy_settings", "user_platform_data", "soul_observer_events", "platform_connections", "life_clusters"}
		// The soul service keeps rendered views while Ada's data version
		// holds; raising it (as any write of hers does) makes each rendering
		// below a cold one, so the counts compare whole renderings.
		invalidate := func() {
			res, err := e.app.DB.ExecContext(ctx, "UPDATE user_data_versions SET version = version + 1 WHERE user_id = ?", ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				t.Fatalf("raised %d data versions, want Ada's", n)
			}
		}
		invalidate()
		hook.reset(tables...)
		if _, err := e.app.Soul.Signature(ctx, ada.ID, ada.ID, privacy.Audience("")); err != nil {
			t.Fatal(err)
		}
		perRender, _ := hook.count()
		if perRender == 0 {
			t.Fatal("a rendering of the signature read nothing the hook counts; the test would prove nothing")
		}
		invalidate()
		hook.reset(tables...)
		ev, err = events.New(events.SoulSignatureUpdated, ada.ID, "", map[string]string{"reason": "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.app.Events.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
		for _, c := range adas {
			if m := nextFor(t, c, "sig"); !strings.Contains(string(m.Payload), `"analyzed":false`) {
				t.Fatalf("ada's socket got %s", m.Payload)
			}
		}
		if n, qs := hook.count(); n != perRender {
			t.Fatalf("%d reads for one signature event to %d subscribers, want %d (one rendering):\n%s", n, adaSockets, perRender, strings.Join(qs, "\n"))
		}

		// Bob's sockets saw neither event.
		for _, c := range bobs {
			_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			var m wsMsg
			if err := c.ReadJSON(&m); err == nil && m.Type == "next" {
				t.Fatalf("bob received ada's event: %s", m.Payload)
			}
		}
	})
}

// The access rules of subscription root fields are checked once per
// operation: a non-admin's admin subscription and an anonymous one are
// refused with their codes, and never reach a resolver (no view is opened).
func TestSubscriptionAccessRules(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	_, tok := e.user("ada@example.com", false)
	cases := []struct{ token, query, code string }{
		{tok, `subscription { cronExecutionCompleted { id } }`, "FORBIDDEN"},
		{"", `subscription { insightAdded { id } }`, "UNAUTHENTICATED"},
		{"", `subscription { ...S } fragment S on Subscription { soulSignatureUpdated { analyzed } }`, "UNAUTHENTICATED"},
	}
	for _, c := range cases {
		ws := e.subscribe(c.token, c.query, nil)
		m := readMsg(t, ws)
		if (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), c.code) {
			t.Fatalf("%s: got %s %s, want %s", c.query, m.Type, m.Payload, c.code)
		}
		_ = ws.Close()
	}
	if n := e.app.Views.Subscribers(); n != 0 {
		t.Fatalf("%d views opened by refused subscriptions", n)
	}
}
