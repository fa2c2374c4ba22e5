package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

func (e *testEnv) dialWS(origin, subprotocol string) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{subprotocol}, HandshakeTimeout: 5 * time.Second}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	return d.Dial("ws"+strings.TrimPrefix(e.srv.URL, "http")+"/graphql", h)
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func readMsg(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Type == "ping" || m.Type == "pong" || m.Type == "ka" {
			continue
		}
		return m
	}
}

func TestWebsocketQueryWithTokenInInit(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, tok := e.user("wanda@example.com", false)
		c, res, err := e.dialWS("", "graphql-transport-ws")
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		defer c.Close()
		if res.Header.Get("Sec-Websocket-Protocol") != "graphql-transport-ws" {
			t.Fatalf("negotiated %q", res.Header.Get("Sec-Websocket-Protocol"))
		}
		_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
		if m := readMsg(t, c); m.Type != "connection_ack" {
			t.Fatalf("want connection_ack, got %+v", m)
		}
		_ = c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": "{ me { email } }"}})
		m := readMsg(t, c)
		if m.Type != "next" || !strings.Contains(string(m.Payload), "wanda@example.com") {
			t.Fatalf("want next with me, got %s %s", m.Type, m.Payload)
		}
		if m := readMsg(t, c); m.Type != "complete" {
			t.Fatalf("want complete, got %+v", m)
		}
	})
}

func TestWebsocketRefusals(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_CORS_ORIGINS": "https://app.twin.me"})

	// Cross-origin upgrade: refused before the handshake.
	_, res, err := e.dialWS("https://evil.example", "graphql-transport-ws")
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin upgrade: want 403, got %v %v", res, err)
	}
	// Allow-listed origin: accepted.
	c, _, err := e.dialWS("https://app.twin.me", "graphql-transport-ws")
	if err != nil {
		t.Fatalf("allow-listed origin refused: %v", err)
	}
	c.Close()

	// A bad token in connection_init closes with 4403.
	c, _, err = e.dialWS("", "graphql-transport-ws")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer tm_forged"}})
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !asCloseError(err, &ce) || ce.Code != 4403 {
		t.Fatalf("bad token: want close 4403, got %v", err)
	}

	// The legacy graphql-ws subprotocol works too.
	_, tok := e.user("leg@example.com", false)
	c2, _, err := e.dialWS("", "graphql-ws")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	_ = c2.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
	if m := readMsg(t, c2); m.Type != "connection_ack" {
		t.Fatalf("graphql-ws: want connection_ack, got %+v", m)
	}
	_ = c2.WriteJSON(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": "{ me { email } }"}})
	if m := readMsg(t, c2); m.Type != "data" || !strings.Contains(string(m.Payload), "leg@example.com") {
		t.Fatalf("graphql-ws: want data, got %s %s", m.Type, m.Payload)
	}
}

func asCloseError(err error, target **websocket.CloseError) bool {
	ce, ok := err.(*websocket.CloseError)
	if ok {
		*target = ce
	}
	return ok
}

func TestShutdownClosesWebsockets(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	_, tok := e.user("sd@example.com", false)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- e.app.Serve(ctx, func(addr string) { addrc <- addr }) }()
	addr := <-addrc
	c, _, err := (&websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}).Dial("ws://"+addr+"/graphql", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
	if m := readMsg(t, c); m.Type != "connection_ack" {
		t.Fatalf("want ack, got %+v", m)
	}
	cancel()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("websocket still open 5s after shutdown began")
			}
			break
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
}

func TestConnectionUpdatedOverWebsocket(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.Discord)
		e := newEnv(t, d, withFake(map[string]string{}, platform.Discord, f))
		_, tok := e.user("sub@example.com", false)
		_, otherTok := e.user("other@example.com", false)
		e.connect(tok, platform.Discord, f)

		subscribe := func(token string) *websocket.Conn {
			c, _, err := e.dialWS("", "graphql-transport-ws")
			if err != nil {
				t.Fatal(err)
			}
			_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token}})
			if m := readMsg(t, c); m.Type != "connection_ack" {
				t.Fatalf("ack: %+v", m)
			}
			_ = c.WriteJSON(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{"query": "subscription { connectionUpdated { platform status } }"}})
			return c
		}
		mine, theirs := subscribe(tok), subscribe(otherTok)
		defer mine.Close()
		defer theirs.Close()
		waitSubscribers(t, e, 2)
		if r := e.gql(tok, `mutation { disconnect(platform: DISCORD) { status } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("disconnect: %s", r.Raw)
		}
		// On PostgreSQL the CONNECTED event of the connect above may still
		// be in flight (NOTIFY is asynchronous): wait for DISCONNECTED.
		for {
			m := readMsg(t, mine)
			if m.Type != "next" {
				t.Fatalf("owner got %s %s", m.Type, m.Payload)
			}
			if strings.Contains(string(m.Payload), `"status":"DISCONNECTED"`) {
				break
			}
		}
		_ = theirs.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		var other wsMsg
		if err := theirs.ReadJSON(&other); err == nil && other.Type == "next" {
			t.Fatalf("another user received the event: %s", other.Payload)
		}

		// Anonymous subscriptions are refused.
		c, _, err := e.dialWS("", "graphql-transport-ws")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.WriteJSON(map[string]any{"type": "connection_init"})
		readMsg(t, c)
		_ = c.WriteJSON(map[string]any{"id": "a", "type": "subscribe", "payload": map[string]any{"query": "subscription { connectionUpdated { status } }"}})
		if m := readMsg(t, c); (m.Type != "error" && m.Type != "next") || !strings.Contains(string(m.Payload), "UNAUTHENTICATED") || strings.Contains(string(m.Payload), `"status"`) {
			t.Fatalf("anonymous subscription: %s %s", m.Type, m.Payload)
		}
	})
}

// waitSubscribers waits until the event bus has n subscribers, so an event
// published next reaches them (subscribe has no acknowledgement).
func waitSubscribers(t *testing.T, e *testEnv, n int) {
	t.Helper()
	counter, ok := e.app.Events.(interface{ Subscribers() int })
	if !ok {
		t.Fatal("event bus cannot count subscribers")
	}
	// The auth service's credential listener is always subscribed.
	n++
	for deadline := time.Now().Add(5 * time.Second); counter.Subscribers() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers after 5s, want %d", counter.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
