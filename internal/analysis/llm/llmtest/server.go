// Package llmtest is a fake Anthropic Messages API for tests: it checks the
// headers and body of POST /v1/messages the way the real API does, answers
// with the documented server-sent event stream in several deltas, and can
// answer 401, 429 with retry-after, 529, or break off a stream with an error
// event. It records every request so tests can assert what was sent.
package llmtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Key is the API key the server accepts unless NewServer is given another.
const Key = "sk-ant-test-0123456789abcdef"

// Response is what the server answers the next requests with.
type Response struct {
	// Deltas are the reply's text_delta pieces, sent in order.
	Deltas []string
	// StopReason goes in message_delta; "end_turn" when empty.
	StopReason   string
	InputTokens  int
	OutputTokens int // cumulative count in message_delta; len(Deltas) when 0

	// ErrorAfter, when ≥ 0 with ErrorType set, sends an error event after that
	// many deltas and ends the stream without message_stop.
	ErrorAfter   int
	ErrorType    string // e.g. "overloaded_error"
	ErrorMessage string

	// Status, when not 200 or 0, answers an error body instead of a stream:
	// {"type":"error","error":{"type":ErrorType,"message":ErrorMessage},"request_id":…}.
	Status     int
	RetryAfter string // retry-after header value on an error status

	// Gate, when set, holds the stream after the first delta until it is
	// closed (or the client goes away), so a test can see that text arrives
	// before the reply is complete.
	Gate <-chan struct{}
	// Truncate ends the stream after the deltas with no message_stop.
	Truncate bool
}

// Text is a normal reply made of deltas.
func Text(deltas ...string) Response {
	return Response{Deltas: deltas, ErrorAfter: -1, InputTokens: 42}
}

// MidStreamError sends after deltas, then an error event of errType.
func MidStreamError(after int, errType, message string, deltas ...string) Response {
	return Response{Deltas: deltas, ErrorAfter: after, ErrorType: errType, ErrorMessage: message, InputTokens: 42}
}

// RateLimited is a 429 rate_limit_error with retry-after.
func RateLimited(retryAfter string) Response {
	return Response{Status: http.StatusTooManyRequests, ErrorType: "rate_limit_error",
		ErrorMessage: "Number of request tokens has exceeded your per-minute rate limit", RetryAfter: retryAfter, ErrorAfter: -1}
}

// Unauthorized is a 401 authentication_error whatever key was sent (a
// request with a key other than the server's gets one anyway).
func Unauthorized() Response {
	return Response{Status: http.StatusUnauthorized, ErrorType: "authentication_error", ErrorMessage: "invalid x-api-key", ErrorAfter: -1}
}

// Overloaded is a 529 overloaded_error.
func Overloaded() Response {
	return Response{Status: 529, ErrorType: "overloaded_error", ErrorMessage: "Overloaded", ErrorAfter: -1}
}

// Request is one recorded call.
type Request struct {
	Header http.Header
	Body   []byte
	// Parsed is Body decoded; zero when it did not decode.
	Parsed MessagesRequest
}

// MessagesRequest is the request body as the API documents it.
type MessagesRequest struct {
	Model     string    `json:"model"`
	MaxTokens int       `json:"max_tokens"`
	System    string    `json:"system"`
	Messages  []Message `json:"messages"`
	Stream    bool      `json:"stream"`
}

// Message is one entry of messages, with content as a plain string.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Server is the fake API. Its zero value is not usable; call NewServer.
type Server struct {
	URL string
	key string

	mu       sync.Mutex
	resp     Response
	requests []Request
}

// NewServer starts a fake that accepts key (Key when empty) and answers
// Text("Hello", " from", " the fake.") until told otherwise. It is closed
// when the test ends.
func NewServer(t testing.TB, key string) *Server {
	t.Helper()
	if key == "" {
		key = Key
	}
	s := &Server{key: key, resp: Text("Hello", " from", " the fake.")}
	ts := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(ts.Close)
	s.URL = ts.URL
	return s
}

// Respond sets what the following requests are answered with.
func (s *Server) Respond(r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resp = r
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Last returns the last request received; ok is false when there was none.
func (s *Server) Last() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return s.requests[len(s.requests)-1], true
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := Request{Header: r.Header.Clone(), Body: body}
	parseErr := json.Unmarshal(body, &rec.Parsed)
	s.mu.Lock()
	s.requests = append(s.requests, rec)
	resp := s.resp
	s.mu.Unlock()

	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		writeError(w, http.StatusNotFound, "not_found_error", "Not found", "")
		return
	}
	if r.Header.Get("x-api-key") != s.key {
		writeError(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key", "")
		return
	}
	if r.Header.Get("anthropic-version") == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required", "")
		return
	}
	if !strings.HasPrefix(r.Header.Get("content-type"), "application/json") {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "content-type must be application/json", "")
		return
	}
	if msg := validate(parseErr, rec.Parsed); msg != "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", msg, "")
		return
	}
	if resp.Status != 0 && resp.Status != http.StatusOK {
		writeError(w, resp.Status, resp.ErrorType, resp.ErrorMessage, resp.RetryAfter)
		return
	}
	s.stream(w, r, rec.Parsed, resp)
}

func validate(parseErr error, p MessagesRequest) string {
	switch {
	case parseErr != nil:
		return "request body is not valid JSON"
	case p.Model == "":
		return "model: Field required"
	case p.MaxTokens <= 0:
		return "max_tokens: Field required"
	case len(p.Messages) == 0:
		return "messages: at least one message is required"
	case !p.Stream:
		return "this fake only streams"
	}
	for i, m := range p.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i)
		}
		if m.Content == "" {
			return fmt.Sprintf("messages.%d: all messages must have non-empty content", i)
		}
	}
	return ""
}

// writeError answers the documented error shape:
//
//	{"type":"error","error":{"type":"rate_limit_error","message":"…"},"request_id":"req_…"}
func writeError(w http.ResponseWriter, status int, typ, msg, retryAfter string) {
	w.Header().Set("content-type", "application/json")
	w.Header().Set("request-id", "req_fake01")
	if retryAfter != "" {
		w.Header().Set("retry-after", retryAfter)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":       "error",
		"error":      map[string]string{"type": typ, "message": msg},
		"request_id": "req_fake01",
	})
}

// stream answers the event sequence of the streaming reference
// (platform.claude.com/docs/build-with-claude/streaming):
//
//	event: message_start        {"type":"message_start","message":{"id":"msg_…","type":"message","role":"assistant","content":[],"model":…,"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":N,"output_tokens":1}}}
//	event: content_block_start  {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
//	event: ping                 {"type":"ping"}
//	event: content_block_delta  {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"…"}}  (one per delta)
//	event: content_block_stop   {"type":"content_block_stop","index":0}
//	event: message_delta        {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":N}}
//	event: message_stop         {"type":"message_stop"}
//
// or, mid-stream, event: error {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, req MessagesRequest, resp Response) {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("content-type", "text/event-stream; charset=utf-8")
	w.Header().Set("cache-control", "no-cache")
	w.WriteHeader(http.StatusOK)
	event := func(name string, data any) {
		raw, _ := json.Marshal(data)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, raw)
		if flusher != nil {
			flusher.Flush()
		}
	}
	event("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake01", "type": "message", "role": "assistant", "content": []any{}, "model": req.Model,
		"stop_reason": nil, "stop_sequence": nil,
		"usage": map[string]int{"input_tokens": resp.InputTokens, "output_tokens": 1},
	}})
	event("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]string{"type": "text", "text": ""}})
	event("ping", map[string]string{"type": "ping"})
	for i, d := range resp.Deltas {
		if resp.ErrorType != "" && resp.ErrorAfter == i {
			event("error", map[string]any{"type": "error", "error": map[string]string{"type": resp.ErrorType, "message": resp.ErrorMessage}})
			return
		}
		event("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]string{"type": "text_delta", "text": d}})
		if i == 0 && resp.Gate != nil {
			select {
			case <-resp.Gate:
			case <-r.Context().Done():
				return
			}
		}
	}
	if resp.ErrorType != "" && resp.ErrorAfter >= len(resp.Deltas) {
		event("error", map[string]any{"type": "error", "error": map[string]string{"type": resp.ErrorType, "message": resp.ErrorMessage}})
		return
	}
	if resp.Truncate {
		return
	}
	event("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	stop := resp.StopReason
	if stop == "" {
		stop = "end_turn"
	}
	out := resp.OutputTokens
	if out == 0 {
		out = len(resp.Deltas)
	}
	event("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": stop, "stop_sequence": nil},
		"usage": map[string]int{"output_tokens": out}})
	event("message_stop", map[string]string{"type": "message_stop"})
}
