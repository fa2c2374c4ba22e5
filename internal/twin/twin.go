// Package twin runs conversations with a person's digital twin: the owner
// chatting with their own twin, and visitors chatting with it through a share
// link. Messages are stored; each reply streams from the configured model
// (Anthropic when a key is set, the local responder otherwise) to the
// twinReply subscription through the events bus, and is stored whole when it
// ends.
//
// What the twin knows comes from Views, and is always a revealed view: a
// visitor's twin is given the view of the link's audience; the owner's own
// twin, whose replies come from a model (a third party, or the local
// responder standing in for one), the view of the ASSISTANT audience, and
// for a preview as another audience what both that audience and the
// assistant may see. When that view cannot be loaded the message is
// refused: the twin fails closed. Nothing is ever sent to a model from an
// unfiltered view.
package twin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/store"
)

// Defaults for Config.
const (
	// DefaultRateLimit AI operations per DefaultRatePeriod per participant.
	DefaultRateLimit  = 50
	DefaultRatePeriod = 15 * time.Minute
	// DefaultReplyTimeout bounds one whole reply, streaming included.
	DefaultReplyTimeout = 2 * time.Minute
	// DefaultMaxInFlight bounds the replies one owner's twin writes at once
	// (the owner's own and every visitor's together).
	DefaultMaxInFlight = 4
)

// maxEventText bounds the reply text of one event. Go's JSON encoder may
// spell a byte as six ("<" is \u003c), so 1,000 bytes stay well under the
// 8,000-byte NOTIFY limit the PostgreSQL bus carries events in.
const maxEventText = 1000

// finishTimeout bounds storing and announcing the end of a reply after the
// reply's own time has run out.
const finishTimeout = 10 * time.Second

// Client-safe reasons a reply stopped early.
const (
	ErrMsgFailed      = "The twin could not finish its reply. Please try again."
	ErrMsgTimeout     = "The twin took too long to reply. Please try again."
	ErrMsgInterrupted = "The twin's reply was interrupted. Please try again."
)

// Participant is who chats. The owner chatting with their own twin has only
// UserID. A visitor through a share link has ShareLinkID, ShareOwnerID (whose
// twin) and Audience (the link's), as resolved from the link's token by
// Guest; UserID is the visitor's own account when signed in, "" otherwise.
type Participant struct {
	UserID       string
	ShareLinkID  string
	ShareOwnerID string
	Audience     privacy.Audience
}

// Owner is the participant of a user chatting with their own twin.
func Owner(userID string) Participant { return Participant{UserID: userID} }

// IsGuest reports whether p chats through a share link.
func (p Participant) IsGuest() bool { return p.ShareLinkID != "" }

func (p Participant) storeParticipant() store.TwinParticipant {
	return store.TwinParticipant{UserID: p.UserID, ShareLinkID: p.ShareLinkID}
}

// rateKey is the AI allowance a message of p in conversation convID draws
// on: a signed-in person's one allowance (AIKey, shared with analysis)
// wherever they chat; for an anonymous guest, their conversation through
// the link, so guests of one link are told apart and one visitor cannot
// use up the others' allowance. (A new conversation is a fresh allowance;
// the owner's cap on replies in flight bounds what all visitors together
// can make the twin do.)
func (p Participant) rateKey(convID string) string {
	if p.UserID != "" {
		return AIKey(p.UserID)
	}
	return "ai:guest:" + p.ShareLinkID + ":" + convID
}

// AIKey is the one AI allowance of a user: analyses they request and
// their twin messages count against it together.
func AIKey(userID string) string { return "ai:" + userID }

// ShareLink is a share link as Views resolves it from its token.
type ShareLink = domain.ShareLink

// Views gives the twin what it may know about its owner.
type Views interface {
	// View returns what every one of audiences may see of ownerID's soul
	// signature (soul.Service.RevealedView). Any error means nothing may be
	// shown.
	View(ctx context.Context, ownerID string, audiences ...privacy.Audience) (privacy.View, error)
	// ResolveShare returns the live share link of token; an unknown or
	// revoked token is an error (NOT_FOUND).
	ResolveShare(ctx context.Context, token string) (ShareLink, error)
}

// Config is what a Service needs.
type Config struct {
	DB    *store.DB
	Views Views
	Bus   events.Bus
	// Model writes the replies. When nil, llm.ModelFor(Anthropic) picks
	// Anthropic when Anthropic.APIKey is set and llm.Local otherwise.
	Model     llm.Model
	Anthropic llm.AnthropicConfig
	// Limiter counts AI operations per participant; when nil,
	// DefaultRateLimit per DefaultRatePeriod.
	Limiter *ratelimit.Limiter
	// ReplyTimeout bounds one reply; DefaultReplyTimeout when 0. It runs on
	// Clock.
	ReplyTimeout time.Duration
	// MaxInFlight bounds the replies one owner's twin writes at once;
	// DefaultMaxInFlight when 0.
	MaxInFlight int
	Clock       clockwork.Clock
	Logger      *slog.Logger
	// OnGuestAccess is told of each conversation a share-link guest starts
	// and each message one sends (kind store.AccessConversation or
	// store.AccessMessage; the access log). The owner's own chats never
	// reach it.
	OnGuestAccess func(ctx context.Context, who Participant, kind, conversationID string)
}

// Service runs twin conversations. Replies run in the background: call
// Shutdown before closing the database.
type Service struct {
	db      *store.DB
	views   Views
	bus     events.Bus
	model   llm.Model
	source  string
	limiter *ratelimit.Limiter
	timeout time.Duration
	clock   clockwork.Clock
	log     *slog.Logger
	onGuest func(ctx context.Context, who Participant, kind, conversationID string)

	maxInFlight int
	inFlight    map[string]int // by owner, under mu

	// base is cancelled by Shutdown to interrupt replies still running.
	base    context.Context
	stop    context.CancelFunc
	mu      sync.Mutex
	closed  bool
	running sync.WaitGroup
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{
		db: cfg.DB, views: cfg.Views, bus: cfg.Bus, model: cfg.Model,
		limiter: cfg.Limiter, timeout: cfg.ReplyTimeout, clock: cfg.Clock, log: cfg.Logger,
		onGuest:     cfg.OnGuestAccess,
		maxInFlight: cfg.MaxInFlight, inFlight: map[string]int{},
	}
	if s.maxInFlight <= 0 {
		s.maxInFlight = DefaultMaxInFlight
	}
	if s.model == nil {
		ac := cfg.Anthropic
		if ac.Logger == nil {
			ac.Logger = cfg.Logger
		}
		if ac.Clock == nil {
			ac.Clock = cfg.Clock
		}
		s.model, _ = llm.ModelFor(ac)
	}
	s.source = SourceOf(s.model)
	if s.limiter == nil {
		s.limiter = ratelimit.New(DefaultRateLimit, DefaultRatePeriod)
	}
	if s.timeout <= 0 {
		s.timeout = DefaultReplyTimeout
	}
	if s.clock == nil {
		s.clock = clockwork.NewRealClock()
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.base, s.stop = context.WithCancel(context.Background())
	return s
}

// SourceOf is the stored source of m's replies: local for the local
// responder, llm for any language model.
func SourceOf(m llm.Model) string {
	switch m.(type) {
	case llm.Local, *llm.Local:
		return store.TwinSourceLocal
	}
	return store.TwinSourceLLM
}

// Guest resolves a share-link token into the participant of a visitor,
// viewerUserID being the visitor's account when signed in ("" otherwise). An
// unknown or revoked token, or any doubt about the link, is NOT_FOUND.
func (s *Service) Guest(ctx context.Context, token, viewerUserID string) (Participant, error) {
	if strings.TrimSpace(token) == "" {
		return Participant{}, apperr.New(apperr.NotFound, "share link not found")
	}
	link, err := s.views.ResolveShare(ctx, token)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Internal {
			s.log.ErrorContext(ctx, "twin: resolve share link", slog.Any("error", err))
		}
		return Participant{}, apperr.Wrap(err, apperr.NotFound, "share link not found or revoked")
	}
	if link.ID == "" || link.OwnerID == "" || !link.Audience.Valid() {
		return Participant{}, apperr.New(apperr.NotFound, "share link not found or revoked")
	}
	return Participant{UserID: viewerUserID, ShareLinkID: link.ID, ShareOwnerID: link.OwnerID, Audience: link.Audience}, nil
}

// StartConversation starts a conversation for who. The owner talks with
// their own twin: unfiltered when audience is "", or as audience would see
// it (a preview) otherwise; an unknown audience is BAD_USER_INPUT. A visitor
// talks with the twin of the link's owner as the link's audience; audience
// must then be "" or the link's. Errors: UNAUTHENTICATED without a user or a
// link, NOT_FOUND for an incomplete share participant.
func (s *Service) StartConversation(ctx context.Context, who Participant, audience privacy.Audience) (domain.TwinConversation, error) {
	c, err := s.startConversation(ctx, who, audience)
	if err != nil {
		return domain.TwinConversation{}, err
	}
	return c.Domain(), nil
}

func (s *Service) startConversation(ctx context.Context, who Participant, audience privacy.Audience) (store.TwinConversation, error) {
	now := s.clock.Now()
	c := store.TwinConversation{CreatedAt: now, UpdatedAt: now}
	switch {
	case who.IsGuest():
		if who.ShareOwnerID == "" || !who.Audience.Valid() {
			return store.TwinConversation{}, apperr.New(apperr.NotFound, "share link not found or revoked")
		}
		if audience != "" && audience != who.Audience {
			return store.TwinConversation{}, apperr.Invalid("audience", "this share link shows the twin to its %s audience only", who.Audience)
		}
		c.OwnerUserID = who.ShareOwnerID
		c.ShareLinkID = &who.ShareLinkID
		c.Audience = string(who.Audience)
		if who.UserID != "" {
			c.ViewerUserID = &who.UserID
		}
	case who.UserID != "":
		if audience != "" {
			a, err := privacy.ParseAudience(string(audience))
			if err != nil {
				return store.TwinConversation{}, err
			}
			audience = a
		}
		c.OwnerUserID = who.UserID
		c.ViewerUserID = &who.UserID
		c.Audience = string(audience)
	default:
		return store.TwinConversation{}, apperr.New(apperr.Unauthenticated, "sign in or open a share link to chat with a twin")
	}
	if err := s.db.CreateTwinConversation(ctx, &c); err != nil {
		return store.TwinConversation{}, err
	}
	if who.IsGuest() && s.onGuest != nil {
		s.onGuest(ctx, who, store.AccessConversation, c.ID)
	}
	return c, nil
}

// Conversation returns conversation id if who takes part in it; NOT_FOUND
// otherwise.
func (s *Service) Conversation(ctx context.Context, who Participant, id string) (domain.TwinConversation, error) {
	c, err := s.conversation(ctx, who, id)
	if err != nil {
		return domain.TwinConversation{}, err
	}
	return c.Domain(), nil
}

func (s *Service) conversation(ctx context.Context, who Participant, id string) (store.TwinConversation, error) {
	c, err := s.db.TwinConversation(ctx, id, who.storeParticipant())
	if err != nil {
		return store.TwinConversation{}, err
	}
	// A conversation through a link belongs to that link's owner and
	// audience; a participant claiming another is not its participant.
	if who.IsGuest() && (c.OwnerUserID != who.ShareOwnerID || c.Audience != string(who.Audience)) {
		return store.TwinConversation{}, apperr.New(apperr.NotFound, "conversation not found")
	}
	return *c, nil
}

// Conversations returns up to limit of who's conversations with their own
// twin, most recently active first, after the cursor (UpdatedAt and ID of
// the last one seen). A share-link guest has no list: they come back to a
// conversation by its id.
func (s *Service) Conversations(ctx context.Context, who Participant, after *store.Cursor, limit int) ([]store.TwinConversation, error) {
	if who.IsGuest() || who.UserID == "" {
		return nil, apperr.New(apperr.Unauthenticated, "sign in to list your conversations")
	}
	return s.db.ListTwinConversations(ctx, who.UserID, after, limit)
}

// RecoverStale finishes, with ErrMsgInterrupted, every reply still pending
// that began longer ago than the reply timeout (and so can no longer be
// running anywhere), and returns how many. Run it at start and from the
// maintenance job.
func (s *Service) RecoverStale(ctx context.Context) (int64, error) {
	n, err := s.db.FailStaleTwinMessages(ctx, s.clock.Now().Add(-s.timeout-finishTimeout), ErrMsgInterrupted)
	if n > 0 {
		s.log.InfoContext(ctx, "twin: finished stale replies", slog.Int64("count", n))
	}
	return n, err
}

// Messages returns up to limit messages of conversation id, oldest first,
// after the cursor; NOT_FOUND unless who takes part in it.
func (s *Service) Messages(ctx context.Context, who Participant, id string, after *store.Cursor, limit int) ([]store.TwinMessage, error) {
	if _, err := s.conversation(ctx, who, id); err != nil {
		return nil, err
	}
	return s.db.ListTwinMessages(ctx, id, after, limit)
}

// MessagesOf pages through the messages of c, a conversation the caller
// already read for its participant (Conversation), oldest first.
//
// Errors: BAD_USER_INPUT for a bad first or cursor.
func (s *Service) MessagesOf(ctx context.Context, c domain.TwinConversation, first *int, after string) ([]domain.TwinMessage, error) {
	n, err := domain.PageSize(first, 50, 200)
	if err != nil {
		return nil, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ListTwinMessages(ctx, c.ID, cur, n)
	return store.Domains(rows, (*store.TwinMessage).Domain), err
}

// Send stores who's message text in conversation conversationID and starts
// the twin's reply, which streams as ReplyEvents on the TwinReply topic
// (keyed by conversation id) and is stored when it ends. It returns at once
// with the stored user message and the pending twin message. Events are not
// replayed: a client subscribes (Subscribe) before it sends, and one that
// missed events (a gap in Seq) reads the stored reply with Messages after
// the Done event.
//
// Errors: BAD_USER_INPUT for an empty message or one over
// llm.MaxChatChars characters; RATE_LIMITED past the AI rate limit;
// NOT_FOUND unless who takes part in the conversation; INTERNAL when what
// the twin may know cannot be loaded (nothing is sent to any model then).
func (s *Service) Send(ctx context.Context, who Participant, conversationID, text string) (userMsg, twinMsg domain.TwinMessage, err error) {
	u, t, err := s.send(ctx, who, conversationID, text)
	if err != nil {
		return userMsg, twinMsg, err
	}
	return u.Domain(), t.Domain(), nil
}

func (s *Service) send(ctx context.Context, who Participant, conversationID, text string) (userMsg, twinMsg store.TwinMessage, err error) {
	if err := llm.ValidateChatMessage(text); err != nil {
		return userMsg, twinMsg, err
	}
	conv, err := s.conversation(ctx, who, conversationID)
	if err != nil {
		return userMsg, twinMsg, err
	}
	if err := s.limiter.Check(ctx, who.rateKey(conv.ID), "twin messages"); err != nil {
		return userMsg, twinMsg, err
	}
	if !s.reserve(conv.OwnerUserID) {
		return userMsg, twinMsg, apperr.New(apperr.RateLimited, "this twin is answering too many messages at once; try again in a moment")
	}
	reserved := true
	defer func() {
		if reserved {
			s.release(conv.OwnerUserID)
		}
	}()
	view, err := s.view(ctx, conv)
	if err != nil {
		return userMsg, twinMsg, err
	}
	past, err := s.db.LastTwinMessages(ctx, conv.ID, llm.MaxHistory)
	if err != nil {
		return userMsg, twinMsg, err
	}
	history := historyOf(past)

	now := s.clock.Now()
	userMsg = store.TwinMessage{ConversationID: conv.ID, Role: store.TwinRoleUser, Text: text, Completed: true, CreatedAt: now}
	twinMsg = store.TwinMessage{ConversationID: conv.ID, Role: store.TwinRoleTwin, CreatedAt: now}
	if err := s.db.AppendTwinMessages(ctx, &userMsg, &twinMsg); err != nil {
		return store.TwinMessage{}, store.TwinMessage{}, err
	}
	if who.IsGuest() && s.onGuest != nil {
		s.onGuest(ctx, who, store.AccessMessage, conv.ID)
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.finish(ctx, who, twinMsg.ID, conv.ID, "", 0, ErrMsgInterrupted)
		return userMsg, twinMsg, nil
	}
	s.running.Add(1)
	s.mu.Unlock()
	reserved = false // the reply releases it
	go func() {
		defer s.running.Done()
		defer s.release(conv.OwnerUserID)
		s.reply(context.WithoutCancel(ctx), who, conv.ID, twinMsg.ID, view, history, text)
	}()
	return userMsg, twinMsg, nil
}

// reserve takes one of owner's reply slots; false when all are in use.
func (s *Service) reserve(ownerID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight[ownerID] >= s.maxInFlight {
		return false
	}
	s.inFlight[ownerID]++
	return true
}

func (s *Service) release(ownerID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inFlight[ownerID]--; s.inFlight[ownerID] <= 0 {
		delete(s.inFlight, ownerID)
	}
}

// view loads what the twin of conv may know: always a revealed view. A
// conversation through a link sees the link's audience; the owner's own
// conversation the assistant's (the model is that audience), and a
// preview as another audience what both it and the assistant may see. Any
// error refuses the message.
func (s *Service) view(ctx context.Context, conv store.TwinConversation) (privacy.View, error) {
	audience := privacy.Audience(conv.Audience)
	var audiences []privacy.Audience
	switch {
	case conv.ShareLinkID != nil && audience.Valid():
		audiences = []privacy.Audience{audience}
	case conv.ShareLinkID == nil && audience == "":
		audiences = []privacy.Audience{privacy.AudienceAssistant}
	case conv.ShareLinkID == nil && audience.Valid():
		audiences = []privacy.Audience{audience, privacy.AudienceAssistant}
	default:
		s.log.ErrorContext(ctx, "twin: conversation has no valid audience", slog.String("conversation", conv.ID))
		return privacy.View{}, apperr.New(apperr.Internal, "twin: the twin cannot answer in this conversation")
	}
	v, err := s.views.View(ctx, conv.OwnerUserID, audiences...)
	if err != nil {
		s.log.ErrorContext(ctx, "twin: load view", slog.String("conversation", conv.ID), slog.Any("error", err))
		if code := apperr.CodeOf(err); code == apperr.NotFound {
			return privacy.View{}, apperr.Wrap(err, code, "%s", apperr.MessageOf(err))
		}
		return privacy.View{}, apperr.Wrap(err, apperr.Internal, "twin: the twin cannot answer right now")
	}
	return v, nil
}

// historyOf turns stored messages into the model's turns: the visitor's
// messages and the twin's finished replies (a pending or empty one says
// nothing the model should build on).
func historyOf(ms []store.TwinMessage) []llm.Message {
	out := make([]llm.Message, 0, len(ms))
	for _, m := range ms {
		switch {
		case m.Role == store.TwinRoleUser:
			out = append(out, llm.Message{Role: llm.RoleUser, Text: m.Text})
		case m.Role == store.TwinRoleTwin && m.Completed && strings.TrimSpace(m.Text) != "":
			out = append(out, llm.Message{Role: llm.RoleAssistant, Text: m.Text})
		}
	}
	return out
}

// ReplyEvent is the payload of a TwinReply event. Events of one reply carry
// Seq 0, 1, 2 … so a client can tell it missed one; the last has Done set,
// and Error when the reply stopped early (the text before it stays).
type ReplyEvent struct {
	MessageID string `json:"messageId"`
	Seq       int    `json:"seq"`
	Text      string `json:"text,omitempty"`
	Done      bool   `json:"done,omitempty"`
	Error     string `json:"error,omitempty"`
}

// Topic implements events.Payload.
func (ReplyEvent) Topic() string { return events.TwinReply }

// reply streams the twin's answer under its own deadline, then stores and
// announces its end.
func (s *Service) reply(ctx context.Context, who Participant, convID, msgID string, view privacy.View, history []llm.Message, text string) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := s.clock.AfterFunc(s.timeout, func() { cancel(errReplyTimeout) })
	defer timer.Stop()
	stopOnShutdown := context.AfterFunc(s.base, func() { cancel(errShutdown) })
	defer stopOnShutdown()

	var (
		b      strings.Builder
		seq    int
		errMsg string
	)
	ch, err := llm.TwinReply(ctx, s.model, view, history, text)
	if err != nil {
		errMsg = s.safeError(ctx, msgID, err)
	} else {
		errMsg = s.relay(ctx, who, convID, msgID, ch, &b, &seq)
	}
	s.finish(ctx, who, msgID, convID, b.String(), seq, errMsg)
}

var (
	errReplyTimeout = errors.New("twin: reply timed out")
	errShutdown     = errors.New("twin: shutting down")
)

// relay publishes each chunk of ch and collects the text; it returns the
// safe error message when the reply stopped early, "" when it completed.
func (s *Service) relay(ctx context.Context, who Participant, convID, msgID string, ch <-chan llm.Chunk, b *strings.Builder, seq *int) string {
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				return s.safeError(ctx, msgID, llm.ErrIncomplete)
			}
			if c.Err != nil {
				return s.safeError(ctx, msgID, c.Err)
			}
			for _, piece := range split(c.Text, maxEventText) {
				b.WriteString(piece)
				s.publish(ctx, who, convID, ReplyEvent{MessageID: msgID, Seq: *seq, Text: piece})
				*seq++
			}
			if c.Done {
				return ""
			}
		case <-ctx.Done():
			return s.safeError(ctx, msgID, context.Cause(ctx))
		}
	}
}

// safeError logs err and returns what a participant may read about it.
func (s *Service) safeError(ctx context.Context, msgID string, err error) string {
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	s.log.WarnContext(ctx, "twin: reply stopped early", slog.String("message", msgID), slog.Any("error", err))
	switch {
	case errors.Is(err, errReplyTimeout), errors.Is(err, context.DeadlineExceeded):
		return ErrMsgTimeout
	case errors.Is(err, errShutdown):
		return ErrMsgInterrupted
	}
	if code := apperr.CodeOf(err); code != apperr.Internal {
		return apperr.MessageOf(err)
	}
	return ErrMsgFailed
}

// finish stores the reply and then announces its end, so a client that
// reloads on Done finds it stored. It runs past the reply's own deadline.
func (s *Service) finish(ctx context.Context, who Participant, msgID, convID, text string, seq int, errMsg string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := s.db.FinishTwinMessage(ctx, msgID, text, s.source, errMsg, s.clock.Now()); err != nil {
		s.log.ErrorContext(ctx, "twin: store reply", slog.String("message", msgID), slog.Any("error", err))
		if errMsg == "" {
			errMsg = ErrMsgFailed
		}
	}
	s.publish(ctx, who, convID, ReplyEvent{MessageID: msgID, Seq: seq, Done: true, Error: errMsg})
}

func (s *Service) publish(ctx context.Context, who Participant, convID string, ev ReplyEvent) {
	events.Publish(ctx, s.bus, s.log, who.UserID, convID, ev)
}

// Subscribe returns the reply events of conversation id for who, after
// checking that who takes part in it (NOT_FOUND otherwise). The channel is
// closed when ctx ends or the bus drops a subscriber that fell behind.
func (s *Service) Subscribe(ctx context.Context, who Participant, id string) (<-chan ReplyEvent, error) {
	if _, err := s.conversation(ctx, who, id); err != nil {
		return nil, err
	}
	in := s.bus.Subscribe(ctx, events.Filter{Topic: events.TwinReply, UserID: who.UserID, Key: id})
	out := make(chan ReplyEvent, 16)
	go func() {
		defer close(out)
		for e := range in {
			ev, err := DecodeReplyEvent(e)
			if err != nil {
				s.log.WarnContext(ctx, "twin: undecodable reply event", slog.Any("error", err))
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Shutdown stops taking replies, waits for running ones until ctx ends, then
// interrupts the rest (they are stored with ErrMsgInterrupted) and waits for
// them to be stored.
func (s *Service) Shutdown(ctx context.Context) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.running.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.stop()
		<-done
	}
	s.stop()
}

// split cuts s into pieces of at most n bytes, never inside a UTF-8
// sequence.
func split(s string, n int) []string {
	if len(s) <= n {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var out []string
	for len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = n
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}

// DecodeReplyEvent reads the payload of a TwinReply event.
func DecodeReplyEvent(e events.Event) (ReplyEvent, error) {
	var ev ReplyEvent
	if err := json.Unmarshal(e.Payload, &ev); err != nil {
		return ReplyEvent{}, fmt.Errorf("twin: decode reply event: %w", err)
	}
	return ev, nil
}
