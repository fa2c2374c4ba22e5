package gorillaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/server/gorillaws"
)

// The message shapes below are those of the two protocols gqlgen speaks:
// graphql-transport-ws (github.com/enisdenjo/graphql-ws, PROTOCOL.md):
//
//	{"type":"connection_init","payload":{…}} → {"type":"connection_ack"}
//	{"id":"1","type":"subscribe","payload":{"query":"…"}} → {"id":"1","type":"next","payload":{"data":…}} … {"id":"1","type":"complete"}
//	{"type":"ping"} / {"type":"pong"}; refused init: close 4403 "Forbidden"
//
// and legacy graphql-ws (apollographql/subscriptions-transport-ws, PROTOCOL.md):
//
//	{"type":"connection_init"} → {"type":"connection_ack"}, {"type":"ka"} …
//	{"id":"1","type":"start","payload":{"query":"…"}} → {"id":"1","type":"data","payload":…} … {"id":"1","type":"complete"}
//	{"id":"1","type":"stop"}; refused init: {"type":"connection_error","payload":{"message":"…"}}
const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws"
)

// waitFor bounds every read in these tests: messages normally arrive in
// microseconds, the bound only turns a hang into a failure.
const waitFor = 5 * time.Second

type message struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

type gqlServer struct {
	*testserver.TestServer
	url  string // ws://…
	host string // host:port, for same-origin requests
}

// newServer serves testserver's schema (query name, subscription name) over
// the websocket transport with gorillaws as its implementation.
func newServer(t testing.TB, ws transport.Websocket) *gqlServer {
	t.Helper()
	if ws.Implementation == nil {
		ws.Implementation = gorillaws.Implementation{}
	}
	h := testserver.New()
	h.AddTransport(ws)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &gqlServer{
		TestServer: h,
		url:        "ws" + strings.TrimPrefix(srv.URL, "http"),
		host:       strings.TrimPrefix(srv.URL, "http://"),
	}
}

type client struct {
	t    testing.TB
	conn *websocket.Conn
}

func dial(t testing.TB, url string, header http.Header, subprotocols ...string) *client {
	t.Helper()
	d := websocket.Dialer{Subprotocols: subprotocols, HandshakeTimeout: waitFor}
	conn, resp, err := d.Dial(url, header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return &client{t: t, conn: conn}
}

func (c *client) send(m message) {
	c.t.Helper()
	if err := c.conn.WriteJSON(m); err != nil {
		c.t.Fatalf("send %s: %v", m.Type, err)
	}
}

func (c *client) read() message {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitFor))
	var m message
	if err := c.conn.ReadJSON(&m); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return m
}

// expect reads the next message and checks its type, id and, when payload is
// not empty, its JSON payload.
func (c *client) expect(typ, id, payload string) message {
	c.t.Helper()
	m := c.read()
	if m.Type != typ || m.ID != id {
		c.t.Fatalf("got message %s id %q (payload %s), want %s id %q", m.Type, m.ID, m.Payload, typ, id)
	}
	if payload != "" && !jsonEqual(c.t, string(m.Payload), payload) {
		c.t.Fatalf("%s payload = %s, want %s", typ, m.Payload, payload)
	}
	return m
}

// closed reads until the server closes the connection and returns the close
// frame it sent.
func (c *client) closed() *websocket.CloseError {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(waitFor))
	for {
		_, data, err := c.conn.ReadMessage()
		if err == nil {
			c.t.Logf("message before close: %s", data)
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) {
			c.t.Fatalf("want a close frame, got %v", err)
		}
		return ce
	}
}

func (c *client) init(payload string) {
	c.t.Helper()
	m := message{Type: "connection_init"}
	if payload != "" {
		m.Payload = json.RawMessage(payload)
	}
	c.send(m)
}

func jsonEqual(t testing.TB, a, b string) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal([]byte(a), &va); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &vb); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return string(ja) == string(jb)
}

func TestGraphQLTransportWS(t *testing.T) {
	srv := newServer(t, transport.Websocket{})
	c := dial(t, srv.url, nil, transportWS)
	if got := c.conn.Subprotocol(); got != transportWS {
		t.Fatalf("negotiated %q, want %q", got, transportWS)
	}

	c.init(`{"Authorization":"Bearer x"}`)
	c.expect("connection_ack", "", "")

	c.send(message{ID: "q", Type: "subscribe", Payload: json.RawMessage(`{"query":"query { name }"}`)})
	c.expect("next", "q", `{"data":{"name":"test"}}`)
	c.expect("complete", "q", "")

	c.send(message{ID: "s", Type: "subscribe", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	srv.SendNextSubscriptionMessage()
	c.expect("next", "s", `{"data":{"name":"test"}}`)
	srv.SendNextSubscriptionMessage()
	c.expect("next", "s", `{"data":{"name":"test"}}`)
	srv.SendCompleteSubscriptionMessage()
	c.expect("complete", "s", "")

	// A client-initiated ping is answered even without server keep-alive.
	c.send(message{Type: "ping"})
	c.expect("pong", "", "")
}

func TestLegacyGraphQLWS(t *testing.T) {
	srv := newServer(t, transport.Websocket{})
	c := dial(t, srv.url, nil, legacyWS)
	if got := c.conn.Subprotocol(); got != legacyWS {
		t.Fatalf("negotiated %q, want %q", got, legacyWS)
	}

	c.init("")
	c.expect("connection_ack", "", "")
	c.expect("ka", "", "")

	c.send(message{ID: "q", Type: "start", Payload: json.RawMessage(`{"query":"query { name }"}`)})
	c.expect("data", "q", `{"data":{"name":"test"}}`)
	c.expect("complete", "q", "")

	c.send(message{ID: "s", Type: "start", Payload: json.RawMessage(`{"query":"subscription { name }"}`)})
	srv.SendNextSubscriptionMessage()
	c.expect("data", "s", `{"data":{"name":"test"}}`)
	c.send(message{ID: "s", Type: "stop"})
	c.expect("complete", "s", "")

	c.send(message{Type: "connection_terminate"})
	if ce := c.closed(); ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("close after connection_terminate = %d %q, want 1000", ce.Code, ce.Text)
	}
}

func TestSubprotocolNegotiation(t *testing.T) {
	srv := newServer(t, transport.Websocket{})
	tests := []struct {
		name   string
		offers []string
		want   string
		// wantAck is the first message of the protocol gqlgen then speaks.
		wantAck []string
	}{
		{"modern only", []string{transportWS}, transportWS, []string{"connection_ack"}},
		{"legacy only", []string{legacyWS}, legacyWS, []string{"connection_ack", "ka"}},
		// gqlgen lists graphql-ws first; the server's preference wins over the client's order.
		{"both, modern first", []string{transportWS, legacyWS}, legacyWS, []string{"connection_ack", "ka"}},
		{"unknown only", []string{"mqtt"}, "", []string{"connection_ack", "ka"}},
		{"none", nil, "", []string{"connection_ack", "ka"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv.url, nil, tt.offers...)
			if got := c.conn.Subprotocol(); got != tt.want {
				t.Fatalf("negotiated %q, want %q", got, tt.want)
			}
			c.init("")
			for _, typ := range tt.wantAck {
				c.expect(typ, "", "")
			}
		})
	}
}

func TestOriginIsChecked(t *testing.T) {
	srv := newServer(t, transport.Websocket{
		Implementation: gorillaws.Implementation{
			CheckOrigin: gorillaws.OriginChecker([]string{"https://app.twin.me", "chrome-extension://abc"}),
		},
	})
	defaultSrv := newServer(t, transport.Websocket{}) // nil CheckOrigin

	tests := []struct {
		name   string
		srv    *gqlServer
		origin string // "" sends none
		want   int
	}{
		{"same origin", srv, "http://" + srv.host, http.StatusSwitchingProtocols},
		{"allow-listed web app", srv, "https://app.twin.me", http.StatusSwitchingProtocols},
		{"allow-listed extension", srv, "chrome-extension://abc", http.StatusSwitchingProtocols},
		{"no Origin (non-browser client)", srv, "", http.StatusSwitchingProtocols},
		{"cross origin", srv, "https://evil.example", http.StatusForbidden},
		{"other extension", srv, "chrome-extension://xyz", http.StatusForbidden},
		{"allow-listed host, other scheme", srv, "http://app.twin.me", http.StatusForbidden},
		{"default: same origin", defaultSrv, "http://" + defaultSrv.host, http.StatusSwitchingProtocols},
		{"default: cross origin", defaultSrv, "https://app.twin.me", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.origin != "" {
				header.Set("Origin", tt.origin)
			}
			d := websocket.Dialer{Subprotocols: []string{transportWS}, HandshakeTimeout: waitFor}
			conn, resp, err := d.Dial(tt.srv.url, header)
			if conn != nil {
				defer conn.Close()
			}
			if resp == nil {
				t.Fatalf("no HTTP response: %v", err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d (err %v), want %d", resp.StatusCode, err, tt.want)
			}
			if tt.want != http.StatusSwitchingProtocols {
				if !errors.Is(err, websocket.ErrBadHandshake) {
					t.Fatalf("refused dial error = %v, want bad handshake", err)
				}
				return
			}
			c := &client{t: t, conn: conn}
			c.init("")
			c.expect("connection_ack", "", "")
		})
	}
}

// authInit accepts only "Bearer good"; anything else is UNAUTHENTICATED with a
// cause that must never reach the client.
func authInit(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	if p.Authorization() != "Bearer good" {
		return ctx, nil, apperr.Wrap(errors.New("lookup of token hash 5f3a in sessions: no rows"), apperr.Unauthenticated, "invalid token")
	}
	return ctx, nil, nil
}

func TestRejectedInitClosesWith4403(t *testing.T) {
	tests := []struct {
		name string
		init transport.WebsocketInitFunc
	}{
		{"GuardInit", gorillaws.GuardInit(authInit)},
		{"RejectInit", func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if _, _, err := authInit(ctx, p); err != nil {
				return gorillaws.RejectInit(ctx, err)
			}
			return ctx, nil, nil
		}},
		{"GuardInit, inner returns nil context", gorillaws.GuardInit(
			func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				_, _, err := authInit(ctx, p)
				return nil, nil, err
			})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, transport.Websocket{InitFunc: tt.init})

			t.Run("graphql-transport-ws", func(t *testing.T) {
				c := dial(t, srv.url, nil, transportWS)
				c.init(`{"Authorization":"Bearer stolen"}`)
				ce := c.closed()
				if ce.Code != gorillaws.CloseForbidden || ce.Text != "Forbidden" {
					t.Fatalf("close = %d %q, want 4403 \"Forbidden\"", ce.Code, ce.Text)
				}
			})
			t.Run("graphql-ws", func(t *testing.T) {
				c := dial(t, srv.url, nil, legacyWS)
				c.init(`{"authorization":"Bearer stolen"}`)
				m := c.expect("connection_error", "", `{"message":"invalid token"}`)
				if strings.Contains(string(m.Payload), "5f3a") {
					t.Fatalf("connection_error leaks the cause: %s", m.Payload)
				}
				ce := c.closed()
				if ce.Code != gorillaws.CloseForbidden {
					t.Fatalf("close = %d %q, want 4403", ce.Code, ce.Text)
				}
			})
			t.Run("good token", func(t *testing.T) {
				c := dial(t, srv.url, nil, transportWS)
				c.init(`{"Authorization":"Bearer good"}`)
				c.expect("connection_ack", "", "")
			})
		})
	}
}

func TestRejectInitKeepsCauseForLogs(t *testing.T) {
	cause := apperr.New(apperr.Unauthenticated, "token expired")
	_, _, err := gorillaws.RejectInit(context.Background(), cause)
	if !errors.Is(err, cause) || apperr.CodeOf(err) != apperr.Unauthenticated {
		t.Fatalf("RejectInit error %v does not wrap its cause", err)
	}
	if err.Error() != "token expired" {
		t.Fatalf("client-visible message = %q, want %q", err.Error(), "token expired")
	}
	_, _, err = gorillaws.RejectInit(context.Background(), errors.New("dial tcp 10.0.0.3:5432: refused"))
	if err.Error() != "internal error" {
		t.Fatalf("uncoded error shown as %q, want a generic message", err.Error())
	}
}

func TestInitTimeoutClosesSilentClient(t *testing.T) {
	srv := newServer(t, transport.Websocket{InitTimeout: 50 * time.Millisecond})
	c := dial(t, srv.url, nil, transportWS)
	// No connection_init: the server must give up on its own.
	ce := c.closed()
	if ce.Code != websocket.CloseProtocolError || !strings.Contains(ce.Text, "timeout") {
		t.Fatalf("close = %d %q, want 1002 initialisation timeout", ce.Code, ce.Text)
	}
}

func TestPayloadReadLimit(t *testing.T) {
	limit := int64(1024)
	srv := newServer(t, transport.Websocket{PayloadReadLimit: &limit})

	subscribe := func(id string, size int) message {
		// Whitespace pads the query to size bytes of message without changing it.
		pad := size - len(`{"id":"`+id+`","type":"subscribe","payload":{"query":"query { name }"}}`)
		q := "query {" + strings.Repeat(" ", pad) + " name }"
		return message{ID: id, Type: "subscribe", Payload: json.RawMessage(`{"query":"` + q + `"}`)}
	}

	c := dial(t, srv.url, nil, transportWS)
	c.init("")
	c.expect("connection_ack", "", "")

	c.send(subscribe("small", 1000))
	c.expect("next", "small", `{"data":{"name":"test"}}`)
	c.expect("complete", "small", "")

	c.send(subscribe("big", 4096))
	ce := c.closed()
	if ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("close = %d %q, want 1009 (message too big)", ce.Code, ce.Text)
	}

	t.Run("oversized connection_init", func(t *testing.T) {
		c := dial(t, srv.url, nil, legacyWS)
		c.init(`{"Authorization":"` + strings.Repeat("x", 2048) + `"}`)
		if ce := c.closed(); ce.Code != websocket.CloseMessageTooBig {
			t.Fatalf("close = %d %q, want 1009", ce.Code, ce.Text)
		}
	})
}

func TestKeepAliveLegacy(t *testing.T) {
	srv := newServer(t, transport.Websocket{KeepAlivePingInterval: 20 * time.Millisecond})
	c := dial(t, srv.url, nil, legacyWS)
	c.init("")
	c.expect("connection_ack", "", "")
	// The first ka follows the ack; the next ones come from the ticker.
	for range 3 {
		c.expect("ka", "", "")
	}
}

func TestPingPongKeepAlive(t *testing.T) {
	const interval = 50 * time.Millisecond
	srv := newServer(t, transport.Websocket{PingPongInterval: interval})

	t.Run("answering client stays connected", func(t *testing.T) {
		c := dial(t, srv.url, nil, transportWS)
		c.init("")
		c.expect("connection_ack", "", "")
		// Four pings span more than the 2×interval read deadline, so the
		// connection survives only if each pong clears it.
		for range 4 {
			c.expect("ping", "", "")
			c.send(message{Type: "pong"})
		}
		c.send(message{ID: "q", Type: "subscribe", Payload: json.RawMessage(`{"query":"query { name }"}`)})
		for {
			m := c.read()
			if m.Type == "ping" {
				c.send(message{Type: "pong"})
				continue
			}
			if m.Type != "next" || m.ID != "q" {
				t.Fatalf("got %s %q, want next for q", m.Type, m.ID)
			}
			break
		}
	})

	t.Run("silent client is dropped", func(t *testing.T) {
		c := dial(t, srv.url, nil, transportWS)
		c.init("")
		c.expect("connection_ack", "", "")
		// Read pings without answering until the server's read deadline ends
		// the connection.
		_ = c.conn.SetReadDeadline(time.Now().Add(waitFor))
		for {
			var m message
			err := c.conn.ReadJSON(&m)
			if err == nil {
				if m.Type != "ping" {
					t.Fatalf("unexpected %s", m.Type)
				}
				continue
			}
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("server kept a client that never answers ping: %v", err)
			}
			return
		}
	})
}

// TestConcurrentWrites drives the adapter directly: gqlgen writes from one
// goroutine per subscription, gorilla allows one writer at a time.
func TestConcurrentWrites(t *testing.T) {
	const writers, each = 8, 50
	errs := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := gorillaws.Implementation{}.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			errs <- err
			return
		}
		defer conn.Close()
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				for j := range each {
					if err := conn.WriteJSON(map[string]int{"writer": i, "n": j}); err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
				}
			})
		}
		wg.Wait()
		_ = conn.WriteClose(websocket.CloseNormalClosure, "done")
	}))
	defer srv.Close()

	c := dial(t, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	next := make(map[int]int)
	_ = c.conn.SetReadDeadline(time.Now().Add(waitFor))
	for range writers * each {
		var m struct{ Writer, N int }
		if err := c.conn.ReadJSON(&m); err != nil {
			select {
			case serr := <-errs:
				t.Fatalf("server: %v", serr)
			default:
			}
			t.Fatalf("read: %v", err)
		}
		if m.N != next[m.Writer] {
			t.Fatalf("writer %d: got message %d, want %d", m.Writer, m.N, next[m.Writer])
		}
		next[m.Writer]++
	}
	if ce := c.closed(); ce.Code != websocket.CloseNormalClosure {
		t.Fatalf("close = %d, want 1000", ce.Code)
	}
}

// TestWriteCloseAndPeerClose checks the two ends of the close contract:
// gqlgen's close code reaches the client even with a reason too long for a
// close frame, and a client's normal close reads as transport.ErrWebsocketClosed.
func TestWriteCloseAndPeerClose(t *testing.T) {
	accept := func(t *testing.T, serve func(transport.WebsocketConn)) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, err := gorillaws.Implementation{}.Accept(w, r, transport.WebsocketAcceptOptions{})
			if err != nil {
				return
			}
			defer conn.Close()
			serve(conn)
		}))
		t.Cleanup(srv.Close)
		return "ws" + strings.TrimPrefix(srv.URL, "http")
	}

	t.Run("long reason is cut, code kept", func(t *testing.T) {
		reason := strings.Repeat("é", 100) // 200 bytes
		url := accept(t, func(conn transport.WebsocketConn) {
			_ = conn.WriteClose(4400, reason)
		})
		ce := dial(t, url, nil).closed()
		if ce.Code != 4400 {
			t.Fatalf("close code %d, want 4400", ce.Code)
		}
		if len(ce.Text) == 0 || len(ce.Text) > 123 || !strings.HasPrefix(reason, ce.Text) {
			t.Fatalf("close reason %q (%d bytes), want a prefix of the reason within 123 bytes", ce.Text, len(ce.Text))
		}
	})

	tests := []struct {
		code       int
		wantClosed bool
	}{
		{websocket.CloseNormalClosure, true},
		{websocket.CloseGoingAway, true},
		{websocket.CloseInternalServerErr, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("client closes with %d", tt.code), func(t *testing.T) {
			got := make(chan error, 1)
			url := accept(t, func(conn transport.WebsocketConn) {
				_, _, err := conn.NextReader()
				got <- err
			})
			c := dial(t, url, nil)
			if err := c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(tt.code, ""), time.Now().Add(waitFor)); err != nil {
				t.Fatal(err)
			}
			var err error
			select {
			case err = <-got:
			case <-time.After(waitFor):
				t.Fatal("server read did not return after the client closed")
			}
			if closed := errors.Is(err, transport.ErrWebsocketClosed); closed != tt.wantClosed {
				t.Fatalf("NextReader error %v: is ErrWebsocketClosed = %v, want %v", err, closed, tt.wantClosed)
			}
		})
	}
}

// TestClosingHandshake: after a close frame the server keeps the socket only
// until the client answers, or for CloseTimeout if it never does.
func TestClosingHandshake(t *testing.T) {
	tests := []struct {
		name          string
		closeTimeout  time.Duration
		clientAnswers bool
	}{
		// With an hour to wait, the socket only goes if the answer ends it.
		{"client answers the close frame", time.Hour, true},
		{"client stays silent", 20 * time.Millisecond, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, transport.Websocket{
				Implementation: gorillaws.Implementation{CloseTimeout: tt.closeTimeout},
				InitFunc:       gorillaws.GuardInit(authInit),
			})
			c := dial(t, srv.url, nil, transportWS)
			if !tt.clientAnswers {
				c.conn.SetCloseHandler(func(int, string) error { return nil })
			}
			c.init(`{"Authorization":"Bearer stolen"}`)
			if ce := c.closed(); ce.Code != gorillaws.CloseForbidden {
				t.Fatalf("close = %d, want 4403", ce.Code)
			}
			raw := c.conn.NetConn()
			_ = raw.SetReadDeadline(time.Now().Add(waitFor))
			_, err := raw.Read(make([]byte, 1))
			if !errors.Is(err, io.EOF) {
				t.Fatalf("server did not hang up after the close frame: %v", err)
			}
		})
	}
}
