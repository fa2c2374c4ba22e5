package errtrack_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/errtrack"
	"github.com/twinme/twinme/internal/logx"
)

// Ingest is a fake Sentry ingestion endpoint. Shape relied on (Sentry's
// envelope endpoint, https://develop.sentry.dev/sdk/envelopes/):
// POST /api/<project id>/envelope/ with a newline-separated envelope
// (envelope header, item header, item payload = the event JSON); it answers
// 200 with {"id":"<event id>"}.
type Ingest struct {
	URL string
	mu  sync.Mutex
	bod []string
}

// NewIngest starts the fake for project 42.
func NewIngest(t *testing.T) *Ingest {
	in := &Ingest{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/42/envelope/" {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		in.mu.Lock()
		in.bod = append(in.bod, string(b))
		in.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"00000000000000000000000000000000"}`))
	}))
	t.Cleanup(srv.Close)
	in.URL = srv.URL
	return in
}

// DSN is the DSN pointing at the fake.
func (in *Ingest) DSN() string {
	return strings.Replace(in.URL, "http://", "http://publickey@", 1) + "/42"
}

// Bodies returns the envelopes received.
func (in *Ingest) Bodies() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.bod...)
}

func TestErrorsReachSentryWithoutPersonalData(t *testing.T) {
	in := NewIngest(t)
	tr, err := errtrack.New(errtrack.Options{DSN: in.DSN(), Environment: "test"})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(errtrack.Handler(slog.NewTextHandler(io.Discard, nil), tr))
	ctx := logx.WithRequestID(context.Background(), "req-7f3a")

	log.InfoContext(ctx, "ingest: synced", slog.String("platform", "spotify"))
	secretTok := "tm_" + strings.Repeat("Zq9", 15)
	log.ErrorContext(ctx, "graphql: internal error",
		slog.Any("error", errors.New(`store: load ada@example.com: upstream said {"email":"ada@example.com","name":"Ada"} with Authorization: Bearer `+secretTok+` and refresh_token=r-123`)),
		slog.String("email", "ada@example.com"),
		slog.String("platform", "spotify"))
	if !tr.Flush(5 * time.Second) {
		t.Fatal("events not sent")
	}
	bodies := in.Bodies()
	if len(bodies) != 1 {
		t.Fatalf("%d envelopes, want 1 (errors only): %q", len(bodies), bodies)
	}
	b := bodies[0]
	for _, want := range []string{"req-7f3a", "graphql: internal error", "spotify", `"environment":"test"`} {
		if !strings.Contains(b, want) {
			t.Errorf("event lacks %q: %s", want, b)
		}
	}
	for _, leak := range []string{"ada@example.com", "Ada", secretTok, "r-123", `"email"`} {
		if strings.Contains(b, leak) {
			t.Errorf("event leaks %q: %s", leak, b)
		}
	}
}

func TestScrub(t *testing.T) {
	cases := map[string]string{
		"mail bob.smith+x@mail.example.org now":              "mail [email] now",
		"Authorization: Bearer abc.def":                      "Authorization: Bearer [token]",
		"GET /cb?code=xyz&state=abc":                         "GET /cb?code=[redacted]&state=[redacted]",
		`body {"title":"secret"} end`:                        "body [payload] end",
		"k1:" + strings.Repeat("A", 43) + "=":                "k1:[redacted]",
		"github.com/twinme/twinme/graph.(*queryResolver).Me": "github.com/twinme/twinme/graph.(*queryResolver).Me",
	}
	for in, want := range cases {
		if got := errtrack.Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
}
