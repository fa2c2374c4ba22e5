package connect_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/oauth2"

	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/testutil"
)

var start = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// env is one database, one provider fake and a token manager over them.
type env struct {
	t      testing.TB
	db     *store.DB
	fake   *platformtest.Fake
	clock  *clockwork.FakeClock
	keys   *secret.Keyring
	m      *connect.Manager
	logs   *testutil.SyncBuffer
	user   *store.User
	mu     sync.Mutex
	events []store.Connection
}

type envOpt func(*connect.Options)

func newEnv(t testing.TB, db *store.DB, fake *platformtest.Fake, opts ...envOpt) *env {
	t.Helper()
	e := &env{t: t, db: db, fake: fake, clock: clockwork.NewFakeClockAt(start), keys: testutil.Keyring(t), logs: &testutil.SyncBuffer{}}
	e.m = e.manager(opts...)
	e.user = &store.User{Email: "ada@example.com", CreatedAt: start, UpdatedAt: start}
	storetest.Must(t, db.CreateUser(context.Background(), e.user))
	return e
}

// manager builds a token manager on e's database, clock and keys.
func (e *env) manager(opts ...envOpt) *connect.Manager {
	o := connect.Options{
		Clock:  e.clock,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
		OnStatusChange: func(_ context.Context, c store.Connection) {
			e.mu.Lock()
			e.events = append(e.events, c)
			e.mu.Unlock()
		},
	}
	for _, f := range opts {
		f(&o)
	}
	return connect.NewManager(e.db, e.keys, map[platform.ID]connect.Platform{
		e.fake.ID: {Provider: e.fake.Provider(), OAuth: e.fake.Config()},
	}, o)
}

func (e *env) statusEvents() []store.ConnectionStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []store.ConnectionStatus
	for _, c := range e.events {
		out = append(out, c.Status)
	}
	return out
}

// connectUser runs the OAuth code flow against the fake and stores the
// connection as the connect callback does; it returns the connection and
// the tokens the provider issued.
func (e *env) connectUser(u *store.User) (*store.Connection, *oauth2.Token) {
	e.t.Helper()
	ctx := context.Background()
	p := e.fake.Provider().WithClock(e.clock)
	cfg := e.fake.Config()
	verifier := oauth2.GenerateVerifier()
	code := e.fake.IssueCode(p.AuthCodeURL(cfg, "state", verifier))
	tok, err := p.Exchange(ctx, cfg, code, verifier)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	c := &store.Connection{UserID: u.ID, Platform: e.fake.ID, AccountID: "wizzler", AccountName: "JM Wizzler",
		Scopes: "user-read-recently-played", ConnectedAt: e.clock.Now()}
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry
		c.TokenExpiresAt = &exp
	}
	storetest.Must(e.t, e.db.UpsertConnection(ctx, c, func(id string) (store.ConnectionTokens, error) { return e.m.Seal(id, tok) }))
	return c, tok
}

func (e *env) reload(id string) *store.Connection {
	e.t.Helper()
	c, err := e.db.ConnectionByID(context.Background(), id)
	storetest.Must(e.t, err)
	return c
}

func (e *env) storedTokens(id string) *oauth2.Token {
	e.t.Helper()
	tok, err := e.m.Tokens(e.reload(id))
	storetest.Must(e.t, err)
	return tok
}
