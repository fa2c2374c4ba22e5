// Package gorillaws plugs github.com/gorilla/websocket into gqlgen's websocket
// transport (transport.Websocket{Implementation: gorillaws.Implementation{…}}).
//
// gqlgen owns the GraphQL protocols (graphql-transport-ws and the legacy
// graphql-ws); this package only upgrades the HTTP request, checks its origin
// and moves frames: it negotiates the subprotocol gqlgen offers, enforces
// gqlgen's PayloadReadLimit and ping/pong read deadline, serialises writes, and
// sends the close code gqlgen asks for. RejectInit and GuardInit make a refused
// connection_init close with 4403.
package gorillaws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// DefaultWriteTimeout bounds one write when Implementation.WriteTimeout is zero.
// Without a bound a client that stops reading would hold gqlgen's connection
// lock forever and every subscription goroutine of that connection with it.
const DefaultWriteTimeout = 10 * time.Second

// DefaultCloseTimeout bounds the closing handshake when
// Implementation.CloseTimeout is zero.
const DefaultCloseTimeout = time.Second

// maxCloseReason is what fits in a close frame: 125 bytes of control payload
// minus the two bytes of the code.
const maxCloseReason = 123

// Implementation accepts websocket connections with gorilla/websocket for
// gqlgen's transport.Websocket. The zero value works and only accepts
// same-origin browsers (and clients that send no Origin header).
type Implementation struct {
	// CheckOrigin decides whether a request's Origin may open a websocket; a
	// refused origin gets HTTP 403 and no upgrade. Nil means same-origin only.
	// See OriginChecker.
	CheckOrigin func(r *http.Request) bool

	// ReadBufferSize and WriteBufferSize are gorilla's I/O buffer sizes; zero
	// reuses the 4 KiB buffers the HTTP server allocated. They do not limit
	// message size (that is transport.Websocket.PayloadReadLimit).
	//
	// There is deliberately no write buffer pool: gqlgen serves the whole
	// connection inside the HTTP handler, so net/http keeps its own write
	// buffer alive anyway and a pool saved nothing (BenchmarkIdleConnections).
	ReadBufferSize, WriteBufferSize int

	// HandshakeTimeout bounds writing the upgrade response; zero means none.
	HandshakeTimeout time.Duration

	// WriteTimeout bounds each message and close frame written to the client;
	// zero means DefaultWriteTimeout.
	WriteTimeout time.Duration

	// CloseTimeout bounds how long a connection the server closes waits for
	// the client's close frame before the socket is dropped; zero means
	// DefaultCloseTimeout. The wait happens in the background.
	CloseTimeout time.Duration

	// Logger, if set, records refused upgrades (status, reason, origin).
	Logger *slog.Logger
}

var _ transport.WebsocketImplementation = Implementation{}

// Accept upgrades r to a websocket, choosing the first of options.Subprotocols
// (gqlgen's order of preference) that the client offers. A client offering
// none of them gets no subprotocol, which gqlgen treats as graphql-ws.
//
// When the upgrade fails (refused origin, not a websocket handshake) the HTTP
// error response has already been written when Accept returns its error.
// gqlgen then logs the failure with the standard logger and tries to write a
// 400 of its own, which net/http reports as a superfluous WriteHeader; the
// client still sees the first status, e.g. 403 for a refused origin.
//
// gorilla needs w itself to be an http.Hijacker (it does not unwrap), so every
// middleware in front of the websocket route must pass Hijack through.
func (im Implementation) Accept(w http.ResponseWriter, r *http.Request, options transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	upgrader := websocket.Upgrader{
		HandshakeTimeout: im.HandshakeTimeout,
		ReadBufferSize:   im.ReadBufferSize,
		WriteBufferSize:  im.WriteBufferSize,
		Subprotocols:     append([]string(nil), options.Subprotocols...),
		CheckOrigin:      im.CheckOrigin,
		Error:            im.refuse,
	}
	ws, err := upgrader.Upgrade(w, r, options.ResponseHeader)
	if err != nil {
		return nil, fmt.Errorf("gorillaws: upgrade: %w", err)
	}
	writeTimeout := im.WriteTimeout
	if writeTimeout <= 0 {
		writeTimeout = DefaultWriteTimeout
	}
	closeTimeout := im.CloseTimeout
	if closeTimeout <= 0 {
		closeTimeout = DefaultCloseTimeout
	}
	c := &conn{ws: ws, writeTimeout: writeTimeout, closeTimeout: closeTimeout}
	if h := HandleFrom(r.Context()); h != nil {
		h.attach(c)
	}
	return c, nil
}

func (im Implementation) refuse(w http.ResponseWriter, r *http.Request, status int, reason error) {
	if im.Logger != nil {
		im.Logger.LogAttrs(r.Context(), slog.LevelInfo, "gorillaws: upgrade refused",
			slog.Int("status", status),
			slog.String("reason", reason.Error()),
			slog.String("origin", r.Header.Get("Origin")),
			slog.String("remote_addr", r.RemoteAddr),
		)
	}
	w.Header().Set("Sec-Websocket-Version", "13")
	http.Error(w, http.StatusText(status), status)
}

// conn adapts *websocket.Conn to gqlgen. gorilla allows one reader and one
// writer at a time; gqlgen reads from one goroutine but writes from every
// subscription, so writes take writeMu. WriteControl, Close and the deadline
// and limit setters are safe alongside them.
//
// Close finishes the closing handshake instead of dropping the socket at once:
// closing a TCP socket with unread client data sends a reset, which can
// destroy the close frame in flight, so a client refused for an oversized
// message would see 1006 instead of 1009.
type conn struct {
	ws           *websocket.Conn
	writeTimeout time.Duration
	closeTimeout time.Duration
	writeMu      sync.Mutex

	mu         sync.Mutex
	reading    bool // a NextReader call is waiting on the network
	readFailed bool // gorilla reported a read error: no frame can be parsed any more
	peerClosed bool // the client's close frame has arrived
	closeSent  bool // a close frame has gone out (by WriteClose or gorilla itself)
	closed     bool // Close has been called

	// closeCode and closeReason replace the code gqlgen sends when a
	// Handle ended the socket.
	closeCode   int
	closeReason string
}

func (c *conn) overrideClose(code int, reason string) {
	c.mu.Lock()
	c.closeCode, c.closeReason = code, reason
	c.mu.Unlock()
}

var (
	_ transport.WebsocketConn          = (*conn)(nil)
	_ transport.WebsocketReadLimiter   = (*conn)(nil)
	_ transport.WebsocketReadDeadliner = (*conn)(nil)
)

// NextReader returns the next message. A close frame with 1000, 1001 (the
// browser left the page) or no status is reported as
// transport.ErrWebsocketClosed, so gqlgen does not treat it as a failure.
//
// The message is read whole before it is returned, so nothing reads from
// gorilla outside this call and Close knows when the connection is idle.
func (c *conn) NextReader() (int, io.Reader, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, nil, fmt.Errorf("gorillaws: read: %w", net.ErrClosed)
	}
	c.reading = true
	c.mu.Unlock()

	messageType, data, err := c.ws.ReadMessage()

	c.mu.Lock()
	c.reading = false
	var closeErr *websocket.CloseError
	if err != nil {
		c.readFailed = true
		c.peerClosed = errors.As(err, &closeErr)
	}
	closed := c.closed
	c.mu.Unlock()

	if closed {
		// Close ran while this call waited and left the rest of the
		// handshake to it.
		if closeErr != nil {
			_ = c.ws.Close()
		} else {
			go c.finishClose(err != nil)
		}
	}
	switch {
	case closeErr != nil && (closeErr.Code == websocket.CloseNormalClosure ||
		closeErr.Code == websocket.CloseGoingAway ||
		closeErr.Code == websocket.CloseNoStatusReceived):
		return messageType, nil, transport.ErrWebsocketClosed
	case err != nil:
		return messageType, nil, fmt.Errorf("gorillaws: read: %w", err)
	case closed:
		return messageType, nil, fmt.Errorf("gorillaws: read: %w", net.ErrClosed)
	}
	return messageType, bytes.NewReader(data), nil
}

// WriteJSON writes one protocol message. Errors gqlgen's websocket
// transport writes without extensions.code (a subscribe payload that does
// not decode) get BAD_REQUEST, so clients read a code on every error.
func (c *conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("gorillaws: write: %w", err)
	}
	data = codeErrors(data)
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if err := c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout)); err != nil {
		return fmt.Errorf("gorillaws: write: %w", err)
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		return fmt.Errorf("gorillaws: write: %w", err)
	}
	return nil
}

// codeErrors adds "extensions":{"code":"BAD_REQUEST"} to the errors of an
// "error" message that carry no code; other messages are returned as is.
func codeErrors(data []byte) []byte {
	if !bytes.Contains(data, []byte(`"type":"error"`)) {
		return data
	}
	var msg map[string]json.RawMessage
	if json.Unmarshal(data, &msg) != nil {
		return data
	}
	var errs []map[string]any
	if json.Unmarshal(msg["payload"], &errs) != nil {
		return data
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		if _, ok := ext["code"]; !ok {
			ext["code"] = "BAD_REQUEST"
			changed = true
		}
	}
	if !changed {
		return data
	}
	payload, err := json.Marshal(errs)
	if err != nil {
		return data
	}
	msg["payload"] = payload
	out, err := json.Marshal(msg)
	if err != nil {
		return data
	}
	return out
}

// WriteClose sends a close frame with closeCode and message, cut to the 123
// bytes a close frame can carry. Only the first close frame is sent; a later
// one is a no-op (e.g. after gorilla's own 1009 for an oversized message).
func (c *conn) WriteClose(closeCode int, message string) error {
	c.mu.Lock()
	if c.closeCode != 0 {
		closeCode, message = c.closeCode, c.closeReason
	}
	c.mu.Unlock()
	data := websocket.FormatCloseMessage(closeCode, truncateReason(message))
	err := c.ws.WriteControl(websocket.CloseMessage, data, time.Now().Add(c.writeTimeout))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		return fmt.Errorf("gorillaws: close: %w", err)
	}
	c.mu.Lock()
	c.closeSent = true
	c.mu.Unlock()
	return nil
}

// Close drops the connection at once if no close frame went out or the
// client's close frame already came in. Otherwise it returns at once and lets
// the connection read (and discard) until the client's close frame, its end
// of the TCP connection or the close timeout, then drops it.
func (c *conn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	handshake := c.closeSent && !c.peerClosed
	reading, readFailed := c.reading, c.readFailed
	if handshake {
		// Under mu, so a late SetReadDeadline from gqlgen's ping loop
		// cannot undo it.
		_ = c.ws.SetReadDeadline(time.Now().Add(c.closeTimeout))
	}
	c.mu.Unlock()

	if !handshake {
		if err := c.ws.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("gorillaws: close: %w", err)
		}
		return nil
	}
	if !reading {
		go c.finishClose(readFailed)
	}
	return nil
}

// finishClose waits, within the read deadline Close set, for the client to
// finish the closing handshake, then closes the socket. Once gorilla has
// failed a read (as it does on an oversized message, mid-frame) frames
// cannot be parsed any more, so it discards raw bytes until the client hangs
// up.
func (c *conn) finishClose(readFailed bool) {
	if readFailed {
		_, _ = io.Copy(io.Discard, c.ws.NetConn())
	} else {
		for {
			if _, _, err := c.ws.ReadMessage(); err != nil {
				break
			}
		}
	}
	_ = c.ws.Close()
}

func (c *conn) Subprotocol() string { return c.ws.Subprotocol() }

// SetReadLimit makes gorilla refuse a larger message with close code 1009.
func (c *conn) SetReadLimit(limit int64) { c.ws.SetReadLimit(limit) }

// SetReadDeadline is how gqlgen drops a client that stops answering its
// pings. It is ignored once Close has set the deadline of the handshake.
func (c *conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	if err := c.ws.SetReadDeadline(t); err != nil {
		return fmt.Errorf("gorillaws: read deadline: %w", err)
	}
	return nil
}

// truncateReason cuts s to what fits in a close frame without splitting a
// UTF-8 sequence (the peer must fail a close frame with invalid UTF-8).
func truncateReason(s string) string {
	if len(s) <= maxCloseReason {
		return s
	}
	cut := maxCloseReason
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
