package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
)

// Defaults for AnthropicConfig.
const (
	DefaultBaseURL = "https://api.anthropic.com"
	// DefaultModel is the current Sonnet: platform.claude.com's models
	// overview names Claude Sonnet 5.5 the current Sonnet (Sonnet 5, id
	// "claude-sonnet-5", is marked legacy there). The id "claude-sonnet-5-5"
	// is how providers' model references spell it and matches the
	// "claude-opus-5-5" of the official streaming guide; set Model to pin
	// another.
	DefaultModel   = "claude-sonnet-5-5"
	DefaultTimeout = 2 * time.Minute
	// APIVersion is the anthropic-version header every request carries.
	APIVersion = "2023-06-01"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 64 << 10

// AnthropicConfig configures the Anthropic Messages API client.
type AnthropicConfig struct {
	// APIKey is sent as x-api-key and never logged or put in an error.
	APIKey string
	// Model is the model id; DefaultModel when empty.
	Model string
	// BaseURL is the API root without /v1; DefaultBaseURL when empty.
	BaseURL string
	// Timeout bounds a whole call, streaming included; DefaultTimeout when 0.
	Timeout time.Duration
	// HTTPClient sends the requests. When nil, a client on
	// http.DefaultTransport without a client-wide timeout is used: Timeout
	// applies per call through the context instead.
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Clock reads "now" for retry-after dates; the real clock when nil.
	Clock clockwork.Clock
	// Effort, when set ("low", "medium", "high"), is sent as
	// output_config.effort to bound how much current models think before
	// answering. Empty sends nothing, which suits models without the option.
	Effort string
}

// Anthropic is a Model on the Anthropic Messages API (POST /v1/messages with
// "stream": true), over plain net/http: the API surface used here is one
// endpoint and one event stream, which does not warrant the official SDK's
// dependency tree.
type Anthropic struct {
	key     string
	model   string
	baseURL string
	timeout time.Duration
	client  *http.Client
	log     *slog.Logger
	clock   clockwork.Clock
	effort  string
}

var _ Model = (*Anthropic)(nil)

// NewAnthropic returns a client, or a NOT_CONFIGURED error without a key.
func NewAnthropic(cfg AnthropicConfig) (*Anthropic, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, apperr.New(apperr.NotConfigured, "llm: no Anthropic API key is configured")
	}
	a := &Anthropic{
		key:     cfg.APIKey,
		model:   cfg.Model,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"),
		timeout: cfg.Timeout,
		client:  cfg.HTTPClient,
		log:     cfg.Logger,
		clock:   cfg.Clock,
		effort:  cfg.Effort,
	}
	if a.model == "" {
		a.model = DefaultModel
	}
	if a.baseURL == "" {
		a.baseURL = DefaultBaseURL
	}
	if a.timeout <= 0 {
		a.timeout = DefaultTimeout
	}
	if a.client == nil {
		a.client = &http.Client{}
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.clock == nil {
		a.clock = clockwork.NewRealClock()
	}
	return a, nil
}

// ModelFor returns an Anthropic model when cfg has a key and Local when it
// has none, so the twin always answers, and from a language model only when
// one is configured. It also reports which one it chose.
func ModelFor(cfg AnthropicConfig) (m Model, remote bool) {
	a, err := NewAnthropic(cfg)
	if err != nil {
		return Local{}, false
	}
	return a, true
}

// Model returns the model id requests use.
func (a *Anthropic) Model() string { return a.model }

// messagesRequest is the body of POST /v1/messages.
type messagesRequest struct {
	Model     string       `json:"model"`
	MaxTokens int          `json:"max_tokens"`
	System    string       `json:"system,omitempty"`
	Messages  []apiMessage `json:"messages"`
	Stream    bool         `json:"stream"`
	// OutputConfig carries effort; omitted unless configured.
	OutputConfig *outputConfig `json:"output_config,omitempty"`
}

type outputConfig struct {
	Effort string `json:"effort"`
}

type apiMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Stream sends req and streams the reply. Errors before the stream starts are
// returned; see APIError for their codes.
func (a *Anthropic) Stream(ctx context.Context, req Request) (<-chan Chunk, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	body := messagesRequest{Model: a.model, MaxTokens: req.MaxTokens, System: req.System, Stream: true}
	if body.MaxTokens == 0 {
		body.MaxTokens = DefaultMaxTokens
	}
	if a.effort != "" {
		body.OutputConfig = &outputConfig{Effort: a.effort}
	}
	for _, m := range req.Messages {
		body.Messages = append(body.Messages, apiMessage{Role: m.Role, Content: m.Text})
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "llm: encode request")
	}

	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	httpReq, err := http.NewRequestWithContext(ctx, http.MethodPost, a.baseURL+"/v1/messages", bytes.NewReader(raw))
	if err != nil {
		cancel()
		return nil, apperr.Wrap(err, apperr.Internal, "llm: build request")
	}
	httpReq.Header.Set("x-api-key", a.key)
	httpReq.Header.Set("anthropic-version", APIVersion)
	httpReq.Header.Set("content-type", "application/json")
	httpReq.Header.Set("accept", "text/event-stream")

	start := a.clock.Now()
	resp, err := a.client.Do(httpReq)
	if err != nil {
		cancel()
		// The transport's error names the URL, never a header.
		a.log.WarnContext(ctx, "llm: request failed", slog.String("model", a.model), slog.String("error", a.redact(err.Error())))
		cause := errors.New(a.redact(err.Error()))
		if ctxErr := ctx.Err(); ctxErr != nil {
			cause = fmt.Errorf("%w: %s", ctxErr, cause)
		}
		return nil, apperr.Wrap(cause, apperr.Internal, "llm: the AI service could not be reached")
	}
	if resp.StatusCode != http.StatusOK {
		defer cancel()
		defer resp.Body.Close()
		apiErr := a.readError(resp)
		a.log.WarnContext(ctx, "llm: request rejected", slog.String("model", a.model),
			slog.Int("status", apiErr.Status), slog.String("type", apiErr.Type), slog.String("request_id", apiErr.RequestID))
		return nil, apiErr.appErr()
	}
	if ct := resp.Header.Get("content-type"); !strings.HasPrefix(ct, "text/event-stream") {
		cancel()
		resp.Body.Close()
		return nil, apperr.New(apperr.Internal, "llm: expected an event stream, got content-type %q", ct)
	}

	ch := make(chan Chunk)
	go func() {
		defer cancel()
		defer close(ch)
		defer resp.Body.Close()
		usage, stop, err := a.relay(ctx, resp.Body, ch)
		attrs := []any{slog.String("model", a.model), slog.Duration("elapsed", a.clock.Since(start)),
			slog.Int("input_tokens", usage.InputTokens), slog.Int("output_tokens", usage.OutputTokens), slog.String("stop_reason", stop)}
		if err != nil {
			a.log.WarnContext(ctx, "llm: stream failed", append(attrs, slog.String("error", a.redact(err.Error())))...)
			// Sent under the caller's context: when only Timeout has run
			// out, the caller must still learn why the reply stopped.
			send(parent, ch, Chunk{Err: err})
			return
		}
		a.log.DebugContext(ctx, "llm: reply streamed", attrs...)
	}()
	return ch, nil
}

// The Messages API streams server-sent events; each event's data is JSON whose
// "type" repeats the event name. Shapes as the streaming reference
// (platform.claude.com/docs/build-with-claude/streaming) documents them:
//
//	event: message_start
//	data: {"type":"message_start","message":{"id":"msg_…","type":"message","role":"assistant","content":[],"model":"…","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":25,"output_tokens":1}}}
//
//	event: content_block_start
//	data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}
//
//	event: ping
//	data: {"type":"ping"}
//
//	event: content_block_delta
//	data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello"}}
//
//	event: content_block_stop
//	data: {"type":"content_block_stop","index":0}
//
//	event: message_delta
//	data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":15}}
//
//	event: message_stop
//	data: {"type":"message_stop"}
//
// and, at any point, an error that would have been an HTTP status outside a
// stream (overloaded_error ~ 529):
//
//	event: error
//	data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}
//
// The usage in message_delta is cumulative. Other delta types (thinking_delta,
// signature_delta, input_json_delta) carry no reply text and are skipped, and
// unknown event types are ignored, as the reference's versioning policy asks.
type streamEvent struct {
	Type    string `json:"type"`
	Message *struct {
		Usage apiUsage `json:"usage"`
	} `json:"message"`
	Delta *struct {
		Type       string `json:"type"`
		Text       string `json:"text"`
		StopReason string `json:"stop_reason"`
	} `json:"delta"`
	Usage *apiUsage       `json:"usage"`
	Error *apiErrorDetail `json:"error"`
}

type apiUsage struct {
	InputTokens  int `json:"input_tokens"`
	OutputTokens int `json:"output_tokens"`
}

type apiErrorDetail struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// relay reads the event stream and sends text chunks and the final chunk.
// It returns the error to report, if any.
func (a *Anthropic) relay(ctx context.Context, body io.Reader, ch chan<- Chunk) (Usage, string, error) {
	var (
		usage Usage
		stop  string
	)
	events := newSSEReader(body)
	for {
		ev, err := events.next()
		if err == io.EOF {
			return usage, stop, apperr.Wrap(ErrIncomplete, apperr.Internal, "llm: the AI service closed the reply early")
		}
		if err != nil {
			if ctx.Err() != nil {
				return usage, stop, apperr.Wrap(ctx.Err(), apperr.Internal, "llm: reply cut off")
			}
			return usage, stop, apperr.Wrap(err, apperr.Internal, "llm: read reply")
		}
		if len(ev.data) == 0 {
			continue
		}
		var se streamEvent
		if err := json.Unmarshal(ev.data, &se); err != nil {
			return usage, stop, apperr.Wrap(fmt.Errorf("llm: event %q: %w", ev.name, err), apperr.Internal, "llm: unreadable reply")
		}
		if se.Type == "" {
			se.Type = ev.name
		}
		switch se.Type {
		case "message_start":
			if se.Message != nil {
				usage.InputTokens = se.Message.Usage.InputTokens
				usage.OutputTokens = se.Message.Usage.OutputTokens
			}
		case "content_block_delta":
			if se.Delta != nil && se.Delta.Type == "text_delta" && se.Delta.Text != "" {
				if !send(ctx, ch, Chunk{Text: se.Delta.Text}) {
					return usage, stop, apperr.Wrap(ctx.Err(), apperr.Internal, "llm: reply cut off")
				}
			}
		case "message_delta":
			if se.Delta != nil && se.Delta.StopReason != "" {
				stop = se.Delta.StopReason
			}
			if se.Usage != nil {
				if se.Usage.InputTokens > 0 {
					usage.InputTokens = se.Usage.InputTokens
				}
				usage.OutputTokens = se.Usage.OutputTokens
			}
		case "message_stop":
			send(ctx, ch, Chunk{Done: true, StopReason: stop, Usage: usage})
			return usage, stop, nil
		case "error":
			e := &APIError{Type: "api_error"}
			if se.Error != nil {
				e.Type, e.Message = se.Error.Type, a.redact(se.Error.Message)
			}
			return usage, stop, e.appErr()
		}
	}
}

// APIError is an error the Messages API answered with, as an HTTP status or
// as an error event inside a stream (Status 0). Message is the API's text with
// the key removed should it ever appear.
type APIError struct {
	Status     int
	Type       string // authentication_error, rate_limit_error, overloaded_error, …
	Message    string
	RequestID  string
	RetryAfter time.Duration // from retry-after on 429 and 529; 0 when absent
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("llm: anthropic")
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Type != "" {
		b.WriteString(" " + e.Type)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Retryable reports whether the same request may succeed later.
func (e *APIError) Retryable() bool {
	switch e.Type {
	case "rate_limit_error", "overloaded_error", "api_error", "timeout_error":
		return true
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// appErr wraps e with the code and the client-safe message callers show.
func (e *APIError) appErr() *apperr.Error {
	switch {
	case e.Status == http.StatusTooManyRequests || e.Type == "rate_limit_error":
		msg := "the AI service is rate limited; try again later"
		if e.RetryAfter > 0 {
			msg = fmt.Sprintf("the AI service is rate limited; try again in %s", e.RetryAfter)
		}
		return apperr.Wrap(e, apperr.RateLimited, "%s", msg)
	case e.Status == http.StatusUnauthorized || e.Type == "authentication_error":
		return apperr.Wrap(e, apperr.Internal, "llm: the Anthropic API rejected the configured API key")
	case e.Status == 529 || e.Type == "overloaded_error":
		return apperr.Wrap(e, apperr.Internal, "llm: the AI service is overloaded")
	case e.Status == 0:
		return apperr.Wrap(e, apperr.Internal, "llm: the AI service failed during the reply")
	default:
		return apperr.Wrap(e, apperr.Internal, "llm: the AI service answered %d", e.Status)
	}
}

// RetryAfter returns how long the service asked callers to wait, if err
// carries an APIError with a retry-after.
func RetryAfter(err error) (time.Duration, bool) {
	var e *APIError
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// HTTP errors have the same shape as stream errors, plus a request id:
//
//	{"type":"error","error":{"type":"rate_limit_error","message":"…"},"request_id":"req_…"}
//
// 429 carries retry-after (seconds); 529 may.
func (a *Anthropic) readError(resp *http.Response) *APIError {
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("request-id")}
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		Error     apiErrorDetail `json:"error"`
		RequestID string         `json:"request_id"`
	}
	if json.Unmarshal(raw, &body) == nil {
		e.Type, e.Message = body.Error.Type, a.redact(body.Error.Message)
		if body.RequestID != "" {
			e.RequestID = body.RequestID
		}
	}
	if e.Type == "" {
		e.Type = http.StatusText(resp.StatusCode)
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("retry-after"), a.clock.Now())
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact removes the API key from s, should a server or transport ever echo it.
func (a *Anthropic) redact(s string) string {
	if a.key == "" {
		return s
	}
	return strings.ReplaceAll(s, a.key, "[redacted]")
}
