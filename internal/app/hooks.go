package app

import (
	"context"

	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/twin"
)

// hooks are the side effects one service sets off in another. The producer
// is given its hook at wiring and calls it when the thing happened; what
// follows is decided here and nowhere else. The event bus is for
// subscribers (dashboards, other instances), not for these.
type hooks struct {
	dataChanged       events.AnalysisTrigger
	connectionChanged func(context.Context, store.Connection)
	cronRecorded      func(context.Context, store.CronExecution)
	sharedView        func(context.Context, store.ShareLink)
	guestAccess       func(ctx context.Context, who twin.Participant, kind, conversationID string)
	credentialEnded   func(auth.CredentialEnd)
	disconnectDelete  func(ctx context.Context, userID, platform string) (int64, error)
	accountDeleted    []func(ctx context.Context, userID string) error
}

// hooks lists every hook: producer → what it sets off.
func (a *App) hooks() hooks {
	return hooks{
		// ingest (sync runs, imports, observer batches), archive imports → debounced analysis of the user
		dataChanged: events.AnalysisTriggerFunc(a.analyseSoon),
		// token manager: a connection's status changed → the owner's dashboards
		connectionChanged: a.publishConnection,
		// scheduler: a cron run was recorded → admin dashboards
		cronRecorded: a.publishExecution,
		// soul: a share link showed the signature → the owner's access log
		sharedView: a.recordSharedView,
		// twin: a guest opened or wrote in a conversation → the owner's access log
		guestAccess: a.recordGuestAccess,
		// auth: a credential ended (here or on another instance) → cached responses of its user dropped
		credentialEnded: a.forgetResponses,
		// connect: disconnect with deleteData → ingest erases the platform's data
		disconnectDelete: a.deletePlatformData,
		// account: an account was deleted → its credentials end everywhere, its rate-limit counters go
		accountDeleted: []func(ctx context.Context, userID string) error{a.endCredentials, a.forgetRateLimits},
	}
}

// analyseSoon notifies the soul service's debounced analysis.
func (a *App) analyseSoon(ctx context.Context, userID, source string) {
	a.Soul.DataChanged(ctx, userID, source)
}

// publishConnection tells the owner's dashboards that a connection changed;
// the event names the row, subscribers read it as its owner.
func (a *App) publishConnection(ctx context.Context, c store.Connection) {
	events.Publish(context.WithoutCancel(ctx), a.Events, a.Log, c.UserID, string(c.Platform), events.ConnectionChanged{ID: c.ID})
}

// publishExecution pushes cronExecutionCompleted to admin dashboards.
func (a *App) publishExecution(ctx context.Context, ex store.CronExecution) {
	events.Publish(context.WithoutCancel(ctx), a.Events, a.Log, "", ex.JobName, events.CronExecutionDone{ID: ex.ID})
}

// recordSharedView logs a view of a signature through a share link.
func (a *App) recordSharedView(ctx context.Context, l store.ShareLink) {
	a.AccessLog.Record(ctx, accesslog.Visit{ShareLinkID: l.ID, OwnerUserID: l.UserID, Audience: l.Audience, Kind: store.AccessView})
}

// recordGuestAccess logs a guest's conversation or message.
func (a *App) recordGuestAccess(ctx context.Context, who twin.Participant, kind, conversationID string) {
	a.AccessLog.Record(ctx, accesslog.Visit{ShareLinkID: who.ShareLinkID, OwnerUserID: who.ShareOwnerID,
		Audience: string(who.Audience), Kind: kind, ConversationID: conversationID})
}

// forgetResponses drops the cached GraphQL responses of c's user.
func (a *App) forgetResponses(c auth.CredentialEnd) { a.responses.Forget(c.UserID) }

// deletePlatformData erases what userID holds of platform.
func (a *App) deletePlatformData(ctx context.Context, userID, platform string) (int64, error) {
	return a.Ingest.DeleteData(ctx, userID, platform)
}

// endCredentials ends every other token and session of a deleted user, on
// every instance, and closes their websockets.
func (a *App) endCredentials(ctx context.Context, userID string) error {
	a.Auth.UserDeleted(ctx, userID)
	return nil
}

// forgetRateLimits deletes a deleted user's rate-limit counters (in Redis
// they name the user id).
func (a *App) forgetRateLimits(ctx context.Context, userID string) error {
	_, err := a.Limits.Forget(ctx, userID)
	return err
}
