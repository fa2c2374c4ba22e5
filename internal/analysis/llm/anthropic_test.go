package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/apperr"
)

func newTestAnthropic(t *testing.T, srv *llmtest.Server, key string, log *slog.Logger) *Anthropic {
	t.Helper()
	a, err := NewAnthropic(AnthropicConfig{APIKey: key, BaseURL: srv.URL, Model: "claude-test", Timeout: 10 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func hello() Request {
	return Request{System: "be brief", Messages: []Message{{Role: RoleUser, Text: "Hi"}}, MaxTokens: 300}
}

func collect(t *testing.T, ch <-chan Chunk) []Chunk {
	t.Helper()
	var out []Chunk
	for c := range ch {
		out = append(out, c)
	}
	return out
}

func TestAnthropicStreamsDeltasInOrder(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	resp := llmtest.Text("I ", "listen ", "at ", "night.")
	resp.StopReason, resp.InputTokens, resp.OutputTokens = "end_turn", 31, 9
	srv.Respond(resp)
	a := newTestAnthropic(t, srv, llmtest.Key, nil)

	ch, err := a.Stream(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	chunks := collect(t, ch)
	var texts []string
	for _, c := range chunks[:len(chunks)-1] {
		if c.Err != nil || c.Done {
			t.Fatalf("unexpected chunk before the last: %+v", c)
		}
		texts = append(texts, c.Text)
	}
	if got, want := strings.Join(texts, "|"), "I |listen |at |night."; got != want {
		t.Fatalf("deltas = %q, want %q", got, want)
	}
	last := chunks[len(chunks)-1]
	if !last.Done || last.Err != nil || last.StopReason != "end_turn" || last.Usage != (Usage{InputTokens: 31, OutputTokens: 9}) {
		t.Fatalf("last chunk = %+v", last)
	}
}

func TestAnthropicSendsDocumentedRequest(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	req := Request{System: "sys", MaxTokens: 0, Messages: []Message{
		{Role: RoleUser, Text: "one"}, {Role: RoleAssistant, Text: "two"}, {Role: RoleUser, Text: "three"}}}
	if _, err := Complete(context.Background(), a, req); err != nil {
		t.Fatal(err)
	}
	got, ok := srv.Last()
	if !ok {
		t.Fatal("no request recorded")
	}
	if got.Header.Get("anthropic-version") != "2023-06-01" || got.Header.Get("x-api-key") != llmtest.Key ||
		got.Header.Get("content-type") != "application/json" {
		t.Fatalf("headers = %v", got.Header)
	}
	p := got.Parsed
	if p.Model != "claude-test" || p.MaxTokens != DefaultMaxTokens || p.System != "sys" || !p.Stream || len(p.Messages) != 3 ||
		p.Messages[1] != (llmtest.Message{Role: "assistant", Content: "two"}) {
		t.Fatalf("body = %s", got.Body)
	}
	// The grounding view never goes over the wire.
	var raw map[string]any
	if err := json.Unmarshal(got.Body, &raw); err != nil {
		t.Fatal(err)
	}
	for k := range raw {
		switch k {
		case "model", "max_tokens", "system", "messages", "stream":
		default:
			t.Errorf("unexpected body field %q", k)
		}
	}
}

func TestAnthropicTextArrivesBeforeReplyEnds(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	gate := make(chan struct{})
	resp := llmtest.Text("first", " second")
	resp.Gate = gate
	srv.Respond(resp)
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	ch, err := a.Stream(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	// The server holds the rest of the stream until the first chunk is read.
	if c := <-ch; c.Text != "first" {
		t.Fatalf("first chunk = %+v", c)
	}
	close(gate)
	rest := collect(t, ch)
	if len(rest) != 2 || rest[0].Text != " second" || !rest[1].Done {
		t.Fatalf("rest = %+v", rest)
	}
}

func TestAnthropicMidStreamErrorIsAnErrorChunk(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	srv.Respond(llmtest.MidStreamError(2, "overloaded_error", "Overloaded", "a", "b", "c"))
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	ch, err := a.Stream(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	chunks := collect(t, ch)
	if len(chunks) != 3 || chunks[0].Text != "a" || chunks[1].Text != "b" {
		t.Fatalf("chunks = %+v", chunks)
	}
	last := chunks[2]
	if last.Err == nil || last.Done {
		t.Fatalf("last chunk = %+v, want an error", last)
	}
	var apiErr *APIError
	if !errors.As(last.Err, &apiErr) || apiErr.Type != "overloaded_error" || !apiErr.Retryable() {
		t.Fatalf("error = %v, want overloaded_error", last.Err)
	}
	if _, err := Complete(context.Background(), a, hello()); err == nil || apperr.CodeOf(err) != apperr.Internal {
		t.Fatalf("Complete error = %v", err)
	}
}

func TestAnthropicStreamEndingEarlyIsAnError(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	resp := llmtest.Text("half")
	resp.Truncate = true
	srv.Respond(resp)
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	_, err := Complete(context.Background(), a, hello())
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err = %v, want ErrIncomplete", err)
	}
}

func TestAnthropicRateLimited(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	srv.Respond(llmtest.RateLimited("17"))
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	_, err := a.Stream(context.Background(), hello())
	if apperr.CodeOf(err) != apperr.RateLimited {
		t.Fatalf("code = %s (%v), want RATE_LIMITED", apperr.CodeOf(err), err)
	}
	if d, ok := RetryAfter(err); !ok || d != 17*time.Second {
		t.Fatalf("RetryAfter = %v, %v; want 17s", d, ok)
	}
	if msg := apperr.MessageOf(err); !strings.Contains(msg, "17s") {
		t.Fatalf("client message %q does not say when to retry", msg)
	}
}

func TestAnthropicOverloaded(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	srv.Respond(llmtest.Overloaded())
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	_, err := a.Stream(context.Background(), hello())
	var apiErr *APIError
	if apperr.CodeOf(err) != apperr.Internal || !errors.As(err, &apiErr) || apiErr.Status != 529 || !apiErr.Retryable() {
		t.Fatalf("err = %v", err)
	}
}

func TestAnthropicBadKeyNeverShowsTheKey(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	const wrong = "sk-ant-WRONG-secret-key-value"
	var logs bytes.Buffer
	a := newTestAnthropic(t, srv, wrong, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	_, err := a.Stream(context.Background(), hello())
	if err == nil {
		t.Fatal("no error for a rejected key")
	}
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Type != "authentication_error" || apiErr.Retryable() {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "rejected the configured API key") {
		t.Fatalf("error %q does not say the key was rejected", err)
	}
	for _, s := range []string{err.Error(), apperr.MessageOf(err), logs.String()} {
		if strings.Contains(s, wrong) {
			t.Fatalf("key leaked in %q", s)
		}
	}
	if logs.Len() == 0 {
		t.Fatal("rejection was not logged")
	}
}

func TestAnthropicRedactsAnEchoedKey(t *testing.T) {
	a := &Anthropic{key: "sk-secret"}
	if got := a.redact(`bad key "sk-secret"`); strings.Contains(got, "sk-secret") {
		t.Fatalf("redact = %q", got)
	}
}

func TestNewAnthropicNeedsKey(t *testing.T) {
	_, err := NewAnthropic(AnthropicConfig{APIKey: "  "})
	if apperr.CodeOf(err) != apperr.NotConfigured {
		t.Fatalf("err = %v, want NOT_CONFIGURED", err)
	}
	a, err := NewAnthropic(AnthropicConfig{APIKey: "k"})
	if err != nil || a.Model() != DefaultModel || a.baseURL != DefaultBaseURL {
		t.Fatalf("defaults: %v %+v", err, a)
	}
}

func TestAnthropicRejectsBadRequestBeforeSending(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	for name, req := range map[string]Request{
		"no messages": {},
		"bad role":    {Messages: []Message{{Role: "system", Text: "x"}}},
		"empty turn":  {Messages: []Message{{Role: RoleUser, Text: " "}}},
	} {
		if _, err := a.Stream(context.Background(), req); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

func TestAnthropicStopsWhenCallerLeaves(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	gate := make(chan struct{}) // never opened: the server would wait forever
	resp := llmtest.Text("a", "b")
	resp.Gate = gate
	srv.Respond(resp)
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := a.Stream(ctx, hello())
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	cancel()
	for range ch { // must close, not hang
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"30", 30 * time.Second},
		{"1.5", 1500 * time.Millisecond},
		{"-3", 0},
		{"Sun, 29 Nov 2026 10:01:00 GMT", time.Minute},
		{"Sun, 29 Nov 2026 09:59:00 GMT", 0},
		{"soon", 0},
	} {
		if got := parseRetryAfter(tc.in, now); got != tc.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestAnthropicRetryAfterDateUsesClock(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 29, 10, 0, 0, 0, time.UTC))
	srv.Respond(llmtest.RateLimited("Sun, 29 Nov 2026 10:00:45 GMT"))
	a, err := NewAnthropic(AnthropicConfig{APIKey: llmtest.Key, BaseURL: srv.URL, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Stream(context.Background(), hello())
	if d, ok := RetryAfter(err); !ok || d != 45*time.Second {
		t.Fatalf("RetryAfter = %v %v", d, ok)
	}
}

func TestModelForPicksLocalWithoutKey(t *testing.T) {
	if m, remote := ModelFor(AnthropicConfig{}); remote {
		t.Fatalf("ModelFor without key = %T, remote", m)
	} else if _, ok := m.(Local); !ok {
		t.Fatalf("ModelFor without key = %T", m)
	}
	if m, remote := ModelFor(AnthropicConfig{APIKey: "k"}); !remote {
		t.Fatalf("ModelFor with key = %T, not remote", m)
	}
}

func TestAnthropicSendsEffortOnlyWhenConfigured(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	a, err := NewAnthropic(AnthropicConfig{APIKey: llmtest.Key, BaseURL: srv.URL, Effort: "low"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Complete(context.Background(), a, hello()); err != nil {
		t.Fatal(err)
	}
	last, _ := srv.Last()
	var body struct {
		OutputConfig *struct {
			Effort string `json:"effort"`
		} `json:"output_config"`
	}
	if err := json.Unmarshal(last.Body, &body); err != nil || body.OutputConfig == nil || body.OutputConfig.Effort != "low" {
		t.Fatalf("body = %s", last.Body)
	}
}

func TestAnthropicTimeoutMidStreamIsAnErrorChunk(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	gate := make(chan struct{}) // never opened: the reply stalls after one delta
	resp := llmtest.Text("a", "b")
	resp.Gate = gate
	srv.Respond(resp)
	a, err := NewAnthropic(AnthropicConfig{APIKey: llmtest.Key, BaseURL: srv.URL, Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ch, err := a.Stream(context.Background(), hello())
	if err != nil {
		t.Fatal(err)
	}
	chunks := collect(t, ch) // waits for the deadline, no sleeping
	last := chunks[len(chunks)-1]
	if last.Err == nil || !errors.Is(last.Err, context.DeadlineExceeded) {
		t.Fatalf("chunks = %+v, want a deadline error last", chunks)
	}
}

func TestAnthropicUnauthorizedResponse(t *testing.T) {
	srv := llmtest.NewServer(t, "")
	srv.Respond(llmtest.Unauthorized())
	a := newTestAnthropic(t, srv, llmtest.Key, nil)
	_, err := a.Stream(context.Background(), hello())
	var apiErr *APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 401 || strings.Contains(err.Error(), llmtest.Key) {
		t.Fatalf("err = %v", err)
	}
}
