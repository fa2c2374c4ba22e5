package graph

import (
	"context"
	"strings"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/twin"
)

type twinConversationResolver struct{ *Resolver }

// participant is who chats: a share-link guest when shareToken is given
// (signed in or not), otherwise the signed-in owner of the twin.
func (r *Resolver) participant(ctx context.Context, shareToken *string) (twin.Participant, error) {
	viewerID := ""
	if v := auth.ViewerFrom(ctx); v != nil {
		if !v.Has(auth.ScopeFull) {
			return twin.Participant{}, apperr.New(apperr.Forbidden, "this token's scopes do not allow twin chat")
		}
		viewerID = v.User.ID
	}
	if t := deref(shareToken); t != "" {
		return r.Twin.Guest(ctx, t, viewerID)
	}
	if viewerID == "" {
		return twin.Participant{}, apperr.New(apperr.Unauthenticated, "sign in, or pass the share token you were given")
	}
	return twin.Owner(viewerID), nil
}

func (r *mutationResolver) StartTwinConversation(ctx context.Context, audience *domain.Audience, shareToken *string) (*domain.TwinConversation, error) {
	who, err := r.participant(ctx, shareToken)
	if err != nil {
		return nil, err
	}
	var a domain.Audience
	if audience != nil {
		a = *audience
	}
	if who.IsGuest() {
		a = who.Audience // a guest meets the twin as the link's audience, whatever they ask
	}
	c, err := r.Twin.StartConversation(ctx, who, a)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (r *mutationResolver) SendTwinMessage(ctx context.Context, conversationID string, text string, shareToken *string) (*model.SendTwinMessagePayload, error) {
	who, err := r.participant(ctx, shareToken)
	if err != nil {
		return nil, err
	}
	um, tm, err := r.Twin.Send(ctx, who, conversationID, text)
	if err != nil {
		return nil, err
	}
	return &model.SendTwinMessagePayload{Message: um, Reply: tm}, nil
}

func (r *queryResolver) TwinConversation(ctx context.Context, id string, shareToken *string) (*domain.TwinConversation, error) {
	who, err := r.participant(ctx, shareToken)
	if err != nil {
		return nil, err
	}
	c, err := r.Twin.Conversation(ctx, who, id)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

func (r *subscriptionResolver) TwinReply(ctx context.Context, conversationID string, shareToken *string) (<-chan *model.TwinReplyChunk, error) {
	who, err := r.participant(ctx, shareToken)
	if err != nil {
		return nil, err
	}
	in, err := r.Twin.Subscribe(ctx, who, conversationID)
	if err != nil {
		return nil, err
	}
	out := make(chan *model.TwinReplyChunk, 1)
	go func() {
		defer close(out)
		for ev := range in {
			select {
			case out <- &model.TwinReplyChunk{MessageID: ev.MessageID, Seq: ev.Seq, Text: ev.Text, Done: ev.Done, Error: optString(ev.Error)}:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

func (r *mutationResolver) DeleteMyAccount(ctx context.Context, confirm string) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if !strings.EqualFold(strings.TrimSpace(confirm), v.User.Email) {
		return false, apperr.Invalid("confirm", "type your account's email address to confirm")
	}
	if err := r.Accounts.Delete(ctx, v); err != nil {
		return false, err
	}
	return true, nil
}

// Messages are read for a conversation its parent resolver already
// authorised for the viewer.
func (r *twinConversationResolver) Messages(ctx context.Context, obj *domain.TwinConversation, first *int, after *string) ([]domain.TwinMessage, error) {
	return r.Twin.MessagesOf(ctx, *obj, first, deref(after))
}
