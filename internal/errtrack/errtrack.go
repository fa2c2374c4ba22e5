// Package errtrack sends panics and internal errors to Sentry when
// TWINME_SENTRY_DSN is set, without personal data.
//
// It hooks in at the log: every place that hides an internal error from a
// client (the GraphQL error presenter, the resolver and HTTP panic
// handlers, failed jobs) already logs it at ERROR level with the request
// id in the context. Handler wraps the service's slog handler and turns
// each ERROR record into a Sentry event: the message, an allow-list of
// attributes (error, panic, stack, path, platform, job, code, route,
// method), the request id as a tag — and nothing else. No request data,
// user, IP, breadcrumbs or payloads are sent, and emails, bearer tokens,
// token-looking strings and JSON bodies are scrubbed from every string
// that is.
package errtrack

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/getsentry/sentry-go"

	"github.com/twinme/twinme/internal/logx"
)

// Tracker sends events to one Sentry project.
type Tracker struct {
	hub *sentry.Hub
}

// Options configure New.
type Options struct {
	DSN         string
	Environment string
	Release     string
	// HTTPClient sends the events (tests point it anywhere; default
	// http.DefaultClient).
	HTTPClient *http.Client
}

// New returns a tracker for opts.DSN.
func New(opts Options) (*Tracker, error) {
	client, err := sentry.NewClient(sentry.ClientOptions{
		Dsn:              opts.DSN,
		Environment:      opts.Environment,
		Release:          opts.Release,
		SendDefaultPII:   false,
		AttachStacktrace: false,
		MaxBreadcrumbs:   -1, // none
		HTTPClient:       opts.HTTPClient,
		BeforeSend:       scrubEvent,
	})
	if err != nil {
		return nil, fmt.Errorf("errtrack: TWINME_SENTRY_DSN: %w", err)
	}
	return &Tracker{hub: sentry.NewHub(client, sentry.NewScope())}, nil
}

// Flush waits up to timeout for queued events to be sent.
func (t *Tracker) Flush(timeout time.Duration) bool {
	if t == nil {
		return true
	}
	return t.hub.Flush(timeout)
}

// attrsSent are the log attributes an event may carry; every other
// attribute (ids of users, emails, payloads) stays in the log.
var attrsSent = map[string]bool{
	"error": true, "panic": true, "stack": true, "path": true, "platform": true,
	"job": true, "code": true, "route": true, "method": true,
}

// Capture sends one error-level record.
func (t *Tracker) Capture(ctx context.Context, msg string, attrs map[string]string) {
	if t == nil {
		return
	}
	ev := sentry.NewEvent()
	ev.Level = sentry.LevelError
	ev.Logger = "twinme"
	ev.Message = Scrub(msg)
	ev.Tags = map[string]string{}
	if id := logx.RequestID(ctx); id != "" {
		ev.Tags["request_id"] = id
	}
	extra := map[string]any{}
	for k, v := range attrs {
		switch k {
		case "platform", "job", "code", "route", "method":
			ev.Tags[k] = Scrub(v)
		default:
			extra[k] = Scrub(v)
		}
	}
	if e, ok := extra["error"].(string); ok {
		ev.Exception = []sentry.Exception{{Type: "error", Value: e}}
	} else if p, ok := extra["panic"].(string); ok {
		ev.Exception = []sentry.Exception{{Type: "panic", Value: p}}
	}
	ev.Contexts = map[string]sentry.Context{"twinme": extra}
	ev.Fingerprint = []string{msg}
	t.hub.CaptureEvent(ev)
}

var (
	emailRe  = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	bearerRe = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[^\s"',;]+`)
	paramRe  = regexp.MustCompile(`(?i)\b(access_token|refresh_token|id_token|code|code_verifier|client_secret|password|token|state|key)=([^&\s"']+)`)
	jsonRe   = regexp.MustCompile(`\{[^{}]*"[^{}]*\}`)
	// Long runs of token alphabet (API tokens, OAuth tokens, ciphertexts,
	// keys) are never useful in an error report.
	tokenRe = regexp.MustCompile(`[A-Za-z0-9_\-+/=.]{32,}`)
)

// Scrub removes emails, credentials, token-looking strings and JSON
// bodies from s.
func Scrub(s string) string {
	s = emailRe.ReplaceAllString(s, "[email]")
	s = bearerRe.ReplaceAllString(s, "$1 [token]")
	s = paramRe.ReplaceAllString(s, "$1=[redacted]")
	s = jsonRe.ReplaceAllString(s, "[payload]")
	s = tokenRe.ReplaceAllStringFunc(s, func(m string) string {
		// Keep Go stack frames (paths and function names): they have
		// slashes and dots but are what the report is for.
		if strings.Contains(m, ".go") || strings.HasPrefix(m, "/") || strings.Contains(m, "github.com/") {
			return m
		}
		return "[redacted]"
	})
	return s
}

// scrubEvent is the last line: whatever an event carries beyond what
// Capture put there (the SDK adds contexts) loses personal fields.
func scrubEvent(ev *sentry.Event, _ *sentry.EventHint) *sentry.Event {
	ev.Request = nil
	ev.User = sentry.User{}
	ev.Breadcrumbs = nil
	ev.ServerName = ""
	ev.Message = Scrub(ev.Message)
	for i := range ev.Exception {
		ev.Exception[i].Value = Scrub(ev.Exception[i].Value)
	}
	return ev
}

// Handler wraps next so that records at ERROR or above are also sent to t.
func Handler(next slog.Handler, t *Tracker) slog.Handler {
	return &handler{next: next, t: t}
}

type handler struct {
	next  slog.Handler
	t     *Tracker
	attrs []slog.Attr
	group string
}

func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.next.Enabled(ctx, l)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	var err error
	if h.next.Enabled(ctx, r.Level) {
		err = h.next.Handle(ctx, r)
	}
	if r.Level >= slog.LevelError {
		attrs := map[string]string{}
		add := func(a slog.Attr) {
			if attrsSent[a.Key] {
				attrs[a.Key] = a.Value.Resolve().String()
			}
		}
		if h.group == "" {
			for _, a := range h.attrs {
				add(a)
			}
			r.Attrs(func(a slog.Attr) bool { add(a); return true })
		}
		h.t.Capture(ctx, r.Message, attrs)
	}
	return err
}

func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.next = h.next.WithAttrs(as)
	if h.group == "" {
		c.attrs = append(append([]slog.Attr{}, h.attrs...), as...)
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	c.next = h.next.WithGroup(name)
	if name != "" {
		c.group = name
	}
	return &c
}
