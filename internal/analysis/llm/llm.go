// Package llm lets a language model deepen the local analysis: it writes
// narrative summaries of a user's revealed insights and answers as the user's
// twin in chat.
//
// Everything here works on a privacy.View that the caller has already passed
// through privacy.Reveal for the audience at hand: the functions take nothing
// else about the user, so a model can never be sent what that audience may not
// see. Anthropic talks to the Anthropic Messages API; Local answers from the
// revealed insights without any network, for installations without a key;
// ModelFor picks between them.
package llm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/privacy"
)

// Message roles, as the Messages API names them.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// DefaultMaxTokens bounds a reply when a Request leaves MaxTokens at zero.
const DefaultMaxTokens = 1024

// Message is one turn of a conversation.
type Message struct {
	Role string // RoleUser or RoleAssistant
	Text string
}

// Request is one call to a model.
type Request struct {
	// System is the system prompt: who the model speaks as and the facts it
	// may use.
	System   string
	Messages []Message
	// MaxTokens bounds the reply; 0 means DefaultMaxTokens.
	MaxTokens int
	// Grounding is the revealed view the request is built from. Remote models
	// never send it (its content is already in System); Local answers from it.
	Grounding *privacy.View
}

// Usage counts tokens, as the model reports them. Output tokens are
// cumulative over the reply.
type Usage struct {
	InputTokens  int
	OutputTokens int
}

// Chunk is one piece of a streamed reply. A stream sends text chunks, then
// exactly one last chunk that either has Done set (with StopReason and Usage)
// or has Err set, and is then closed.
type Chunk struct {
	Text       string
	Err        error
	Done       bool
	StopReason string // "end_turn", "max_tokens", … (set on the Done chunk)
	Usage      Usage
}

// Model streams replies. Stream returns an error for a request that cannot be
// started (bad request, authentication, rate limit); errors after the reply
// has begun arrive as a Chunk with Err. The channel is closed after the last
// chunk, or as soon as ctx is done.
type Model interface {
	Stream(ctx context.Context, req Request) (<-chan Chunk, error)
}

// Reply is a whole, drained reply.
type Reply struct {
	Text       string
	StopReason string
	Usage      Usage
}

// ErrIncomplete is returned when a stream closes without its last chunk.
var ErrIncomplete = errors.New("llm: reply ended before it was complete")

// Complete streams req from m and collects the whole reply.
func Complete(ctx context.Context, m Model, req Request) (Reply, error) {
	ch, err := m.Stream(ctx, req)
	if err != nil {
		return Reply{}, err
	}
	var (
		b   strings.Builder
		out Reply
	)
	for c := range ch {
		if c.Err != nil {
			return Reply{}, c.Err
		}
		b.WriteString(c.Text)
		if c.Done {
			out.StopReason, out.Usage = c.StopReason, c.Usage
			out.Text = b.String()
			return out, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return Reply{}, fmt.Errorf("llm: %w", err)
	}
	return Reply{}, ErrIncomplete
}

// validateRequest checks what every model needs: at least one message, known
// roles, no empty turn.
func validateRequest(req Request) error {
	if len(req.Messages) == 0 {
		return apperr.New(apperr.Internal, "llm: request has no messages")
	}
	if req.MaxTokens < 0 {
		return apperr.New(apperr.Internal, "llm: max tokens %d is negative", req.MaxTokens)
	}
	for i, m := range req.Messages {
		if m.Role != RoleUser && m.Role != RoleAssistant {
			return apperr.New(apperr.Internal, "llm: message %d has role %q", i, m.Role)
		}
		if strings.TrimSpace(m.Text) == "" {
			return apperr.New(apperr.Internal, "llm: message %d is empty", i)
		}
	}
	return nil
}

// send delivers c unless ctx is done first; it reports whether c was sent.
func send(ctx context.Context, ch chan<- Chunk, c Chunk) bool {
	select {
	case ch <- c:
		return true
	case <-ctx.Done():
		return false
	}
}
