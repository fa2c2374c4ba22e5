// Package graph is the gqlgen adapter: hand-written resolvers per domain that
// call internal services and convert, the access rules for root fields, the
// error presenter and the handler. Generated code lives in graph/generated.
package graph

import (
	"log/slog"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/graph/generated"
	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/account"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/connect"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/fleet"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/retention"
	"github.com/twinme/twinme/internal/scheduler"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/twin"
)

// Resolver holds every dependency of the resolvers; main wires it.
type Resolver struct {
	Auth     *auth.Service
	Clock    clockwork.Clock
	Log      *slog.Logger
	Events   events.Bus
	Connect  *connect.Flow
	Tokens   *connect.Manager
	Provider map[platform.ID]platform.Provider // every platform, configured or not
	Jobs     *scheduler.Scheduler
	Ingest   *ingest.Service
	Sync     *ingest.Engine
	Soul     *soul.Service
	Twin     *twin.Service
	Fleet    *fleet.Service
	// AILimit bounds AI operations (analysis, twin chat) per user.
	AILimit *ratelimit.Limiter
	// Accounts erases the viewer and everything held of them.
	Accounts *account.Service
	// Data rights: exports and their import, the access log, retention.
	Exports       *export.Service
	ArchiveImport *export.Importer
	AccessLog     *accesslog.Service
	Retentions    *retention.Service
	// Views feeds subscriptions: one bus subscription and one rendering per
	// event per view, shared by every subscriber of that view.
	Views *Views
}

var _ generated.ResolverRoot = (*Resolver)(nil)

func (r *Resolver) Query() generated.QueryResolver       { return &queryResolver{r} }
func (r *Resolver) Mutation() generated.MutationResolver { return &mutationResolver{r} }
func (r *Resolver) TwinConversation() generated.TwinConversationResolver {
	return &twinConversationResolver{r}
}
func (r *Resolver) Subscription() generated.SubscriptionResolver {
	return &subscriptionResolver{r}
}

type queryResolver struct{ *Resolver }
type mutationResolver struct{ *Resolver }
type subscriptionResolver struct{ *Resolver }
