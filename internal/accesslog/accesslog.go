// Package accesslog records who saw a twin: every view of it by anyone but
// its owner, through a share link (the shared signature, each guest
// conversation and each guest message). The owner's own previews
// (soulSignature(audience)) and conversations are never recorded.
//
// What is kept of the visitor is coarse on purpose: the user-agent family
// ("Firefox on Linux") and a truncated HMAC of the client address keyed per
// owner, so an owner can tell "the same visitor again" apart from "someone
// new" without anyone (the owner, an operator, or two owners comparing
// notes) recovering or correlating the address. No raw address is stored.
package accesslog

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
)

// TopicAccessed is published (to the owner) for each new entry.
const TopicAccessed = events.TwinAccessed

// DefaultRetention is how long entries are kept unless configured.
const DefaultRetention = 90 * 24 * time.Hour

// hashHexChars is how much of the HMAC is kept: 48 bits tell a handful of
// visitors apart and are far too few to look an address up.
const hashHexChars = 12

// Client is what is known of the HTTP client of a request.
type Client struct {
	Addr      string // the TCP peer's host, never stored
	UserAgent string
}

type clientKey struct{}

// WithClient stores r's client in ctx.
func WithClient(ctx context.Context, r *http.Request) context.Context {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return context.WithValue(ctx, clientKey{}, Client{Addr: host, UserAgent: r.UserAgent()})
}

// ClientFrom returns the client WithClient stored (zero when none).
func ClientFrom(ctx context.Context) Client {
	c, _ := ctx.Value(clientKey{}).(Client)
	return c
}

// Middleware puts every request's client into its context (websocket
// operations inherit the upgrade request's).
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithClient(r.Context(), r)))
	})
}

// Options configure a Service.
type Options struct {
	// Salt keys the client-address HMAC; instances sharing a database must
	// share it.
	Salt      []byte
	Retention time.Duration
	Bus       events.Bus
	Clock     clockwork.Clock
	Logger    *slog.Logger
}

// Service records and lists access log entries.
type Service struct {
	db   *store.DB
	opts Options
}

// New returns a Service.
func New(db *store.DB, opts Options) *Service {
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opts: opts}
}

// Visit is one non-owner access to a twin.
type Visit struct {
	ShareLinkID    string
	OwnerUserID    string
	Audience       string
	Kind           string // store.AccessView, AccessConversation, AccessMessage
	ConversationID string
}

// Record stores v with the client of ctx, unless the signed-in viewer is
// the twin's owner (an owner opening their own link sees nothing new). A
// failure is logged, never returned: the visitor's request goes on.
func (s *Service) Record(ctx context.Context, v Visit) {
	if v.ShareLinkID == "" || v.OwnerUserID == "" {
		return
	}
	if viewer := auth.ViewerFrom(ctx); viewer != nil && viewer.User != nil && viewer.User.ID == v.OwnerUserID {
		return
	}
	c := ClientFrom(ctx)
	e := &store.AccessLogEntry{
		ID: store.NewID(), OwnerUserID: v.OwnerUserID, ShareLinkID: v.ShareLinkID, Audience: v.Audience,
		Kind: v.Kind, UserAgentFamily: UserAgentFamily(c.UserAgent), ClientHash: s.clientHash(v.OwnerUserID, c.Addr),
		OccurredAt: s.opts.Clock.Now(),
	}
	if v.ConversationID != "" {
		id := v.ConversationID
		e.ConversationID = &id
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.db.InsertAccessLog(ctx, e); err != nil {
		s.opts.Logger.WarnContext(ctx, "accesslog: record", slog.Any("error", err))
		return
	}
	events.Publish(ctx, s.opts.Bus, s.opts.Logger, v.OwnerUserID, v.ShareLinkID, events.TwinAccess{ID: e.ID})
}

// clientHash is the truncated HMAC-SHA256 of the address, keyed by the
// salt and the owner; "" without an address.
func (s *Service) clientHash(ownerID, addr string) string {
	if addr == "" {
		return ""
	}
	m := hmac.New(sha256.New, s.opts.Salt)
	m.Write([]byte(ownerID))
	m.Write([]byte{0})
	m.Write([]byte(addr))
	return hex.EncodeToString(m.Sum(nil))[:hashHexChars]
}

// List returns ownerID's entries (of one share link when shareLinkID is
// not ""), newest first.
//
// Errors: BAD_USER_INPUT for a bad page size or cursor; NOT_FOUND for a
// share link that is not ownerID's.
func (s *Service) List(ctx context.Context, ownerID, shareLinkID string, first *int, after string) (domain.Page[domain.AccessLogEntry], error) {
	n, err := domain.PageSize(first, 20, 100)
	if err != nil {
		return domain.Page[domain.AccessLogEntry]{}, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return domain.Page[domain.AccessLogEntry]{}, err
	}
	if shareLinkID != "" {
		if _, err := s.db.ShareLinkByID(ctx, ownerID, shareLinkID); err != nil {
			return domain.Page[domain.AccessLogEntry]{}, err
		}
	}
	rows, err := s.db.ListAccessLog(ctx, ownerID, shareLinkID, cur, n+1)
	if err != nil {
		return domain.Page[domain.AccessLogEntry]{}, err
	}
	return domain.NewPage(store.Domains(rows, (*store.AccessLogEntry).Domain), n, domain.AccessLogEntry.Cursor), nil
}

// Entry returns ownerID's entry id (NOT_FOUND otherwise).
func (s *Service) Entry(ctx context.Context, ownerID, id string) (*domain.AccessLogEntry, error) {
	e, err := s.db.AccessLogEntryByID(ctx, ownerID, id)
	if err != nil {
		return nil, err
	}
	d := e.Domain()
	return &d, nil
}

// Prune deletes entries older than the retention (the maintenance job).
func (s *Service) Prune(ctx context.Context) (int64, error) {
	return s.db.DeleteAccessLogBefore(ctx, s.opts.Clock.Now().Add(-s.opts.Retention))
}

// UserAgentFamily reduces a User-Agent header to a browser family and an
// operating system family, e.g. "Firefox on Linux"; nothing finer (no
// versions, no devices) is kept.
func UserAgentFamily(ua string) string {
	if strings.TrimSpace(ua) == "" {
		return "unknown"
	}
	l := strings.ToLower(ua)
	browser := "other"
	for _, b := range []struct{ needle, name string }{
		{"bot", "bot"}, {"crawl", "bot"}, {"spider", "bot"},
		{"curl/", "curl"}, {"wget/", "wget"}, {"python", "script"}, {"go-http-client", "script"},
		{"edg/", "Edge"}, {"opr/", "Opera"}, {"firefox/", "Firefox"}, {"fxios/", "Firefox"},
		{"crios/", "Chrome"}, {"chrome/", "Chrome"}, {"chromium/", "Chrome"}, {"safari/", "Safari"},
	} {
		if strings.Contains(l, b.needle) {
			browser = b.name
			break
		}
	}
	os := ""
	for _, o := range []struct{ needle, name string }{
		{"android", "Android"}, {"iphone", "iOS"}, {"ipad", "iOS"}, {"windows", "Windows"},
		{"mac os", "macOS"}, {"cros", "ChromeOS"}, {"linux", "Linux"},
	} {
		if strings.Contains(l, o.needle) {
			os = o.name
			break
		}
	}
	if os == "" {
		return browser
	}
	return browser + " on " + os
}
