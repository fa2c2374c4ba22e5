package store

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
)

// Twin message roles and sources.
const (
	TwinRoleUser = "user"
	TwinRoleTwin = "twin"

	TwinSourceLLM   = "llm"
	TwinSourceLocal = "local"
)

// TwinConversation is one conversation with a digital twin.
type TwinConversation struct {
	bun.BaseModel `bun:"table:twin_conversations"`

	ID          string `bun:"id,pk"`
	OwnerUserID string `bun:"owner_user_id,notnull"` // whose twin
	// ViewerUserID is who chats: the owner, a signed-in visitor through a
	// share link, or nil for an anonymous share-link guest.
	ViewerUserID *string `bun:"viewer_user_id"`
	// ShareLinkID is set when the conversation goes through a share link.
	ShareLinkID *string `bun:"share_link_id"`
	// Audience the twin answers as; "" for the owner's unfiltered twin.
	Audience  string    `bun:"audience,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// TwinMessage is one turn of a conversation. A twin message is stored
// pending (Completed false) when its reply starts and finished by
// FinishTwinMessage.
type TwinMessage struct {
	bun.BaseModel `bun:"table:twin_messages"`

	ID             string `bun:"id,pk"`
	ConversationID string `bun:"conversation_id,notnull"`
	Role           string `bun:"role,notnull"`   // TwinRoleUser or TwinRoleTwin
	Text           string `bun:"text,notnull"`   // whole reply once completed
	Source         string `bun:"source,notnull"` // TwinSourceLLM, TwinSourceLocal; "" for user messages
	Completed      bool   `bun:"completed,notnull"`
	// Error is the client-safe reason a reply stopped early; "" otherwise.
	Error     string    `bun:"error_message,notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// TwinParticipant is who asks for a conversation. With no ShareLinkID it is
// the owner chatting with their own twin (UserID required); with one, a
// visitor through that share link, signed in (UserID) or anonymous ("").
type TwinParticipant struct {
	UserID      string
	ShareLinkID string
}

// CreateTwinConversation inserts c, filling ID when empty.
func (db *DB) CreateTwinConversation(ctx context.Context, c *TwinConversation) error {
	if c.ID == "" {
		c.ID = NewID()
	}
	c.CreatedAt, c.UpdatedAt = UTC(c.CreatedAt), UTC(c.UpdatedAt)
	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("store: create twin conversation: %w", err)
	}
	return nil
}

// TwinConversation returns conversation id if p takes part in it: the owner
// in a conversation with their own twin (not one through a share link), or
// the same share-link visitor (same link, same signed-in user or the
// anonymous guest). Anyone else gets NOT_FOUND, so nobody learns that a
// conversation exists.
func (db *DB) TwinConversation(ctx context.Context, id string, p TwinParticipant) (*TwinConversation, error) {
	if id == "" || (p.UserID == "" && p.ShareLinkID == "") {
		return nil, apperr.New(apperr.NotFound, "conversation not found")
	}
	c := new(TwinConversation)
	q := db.NewSelect().Model(c).Where("id = ?", id)
	if p.ShareLinkID == "" {
		q = q.Where("share_link_id IS NULL AND owner_user_id = ? AND viewer_user_id = ?", p.UserID, p.UserID)
	} else {
		q = q.Where("share_link_id = ?", p.ShareLinkID)
		if p.UserID == "" {
			q = q.Where("viewer_user_id IS NULL")
		} else {
			q = q.Where("viewer_user_id = ?", p.UserID)
		}
	}
	if err := q.Scan(ctx); err != nil {
		return nil, notFound(err, "conversation")
	}
	return c, nil
}

// AppendTwinMessages stores msgs in order in one transaction (filling IDs
// with time-ordered ones) and moves their conversation's updated_at to the
// last message's time. Every message must belong to the same conversation.
func (db *DB) AppendTwinMessages(ctx context.Context, msgs ...*TwinMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	conv := msgs[0].ConversationID
	for _, m := range msgs {
		if m.ConversationID != conv {
			return fmt.Errorf("store: append twin messages: messages of two conversations")
		}
		if m.ID == "" {
			m.ID = newTimeOrderedID()
		}
		m.CreatedAt = UTC(m.CreatedAt)
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&msgs).Exec(ctx); err != nil {
			return err
		}
		return touchTwinConversation(ctx, tx, conv, msgs[len(msgs)-1].CreatedAt)
	})
	if err != nil {
		return fmt.Errorf("store: append twin messages: %w", err)
	}
	return nil
}

// FinishTwinMessage completes the pending twin message id with its whole
// text, its source and errMsg ("" when the reply ended normally). A message
// that is not a pending twin message is NOT_FOUND: a reply is finished once.
func (db *DB) FinishTwinMessage(ctx context.Context, id, text, source, errMsg string, at time.Time) error {
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var conv string
		err := tx.NewUpdate().Model((*TwinMessage)(nil)).
			Set("text = ?", text).
			Set("source = ?", source).
			Set("error_message = ?", errMsg).
			Set("completed = ?", true).
			Where("id = ? AND role = ? AND completed = ?", id, TwinRoleTwin, false).
			Returning("conversation_id").
			Scan(ctx, &conv)
		if err != nil {
			return err
		}
		return touchTwinConversation(ctx, tx, conv, UTC(at))
	})
	if IsNoRows(err) {
		return apperr.New(apperr.NotFound, "pending twin message not found")
	}
	if err != nil {
		return fmt.Errorf("store: finish twin message: %w", err)
	}
	return nil
}

func touchTwinConversation(ctx context.Context, tx bun.IDB, id string, at time.Time) error {
	_, err := tx.NewUpdate().Model((*TwinConversation)(nil)).
		Set("updated_at = ?", at).
		Where("id = ? AND updated_at < ?", id, at).
		Exec(ctx)
	return err
}

// TwinMessage returns message id of conversation conversationID, or
// NOT_FOUND. Callers check the conversation's participant first.
func (db *DB) TwinMessage(ctx context.Context, conversationID, id string) (*TwinMessage, error) {
	m := new(TwinMessage)
	err := db.NewSelect().Model(m).Where("id = ? AND conversation_id = ?", id, conversationID).Scan(ctx)
	if err != nil {
		return nil, notFound(err, "message")
	}
	return m, nil
}

// ListTwinMessages returns up to limit messages of conversationID, oldest
// first ((created_at, id) ascending), after the keyset cursor. Callers check
// the conversation's participant first.
func (db *DB) ListTwinMessages(ctx context.Context, conversationID string, after *Cursor, limit int) ([]TwinMessage, error) {
	var out []TwinMessage
	q := db.NewSelect().Model(&out).
		Where("conversation_id = ?", conversationID).
		OrderExpr("created_at ASC, id ASC").
		Limit(int64(limit))
	if after != nil {
		t := UTC(after.Time)
		q = q.Where("(created_at, id) > (?, ?)", UTC(t), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list twin messages: %w", err)
	}
	return out, nil
}

// LastTwinMessages returns the last n messages of conversationID, oldest
// first: the history a reply is written after.
func (db *DB) LastTwinMessages(ctx context.Context, conversationID string, n int) ([]TwinMessage, error) {
	var out []TwinMessage
	err := db.NewSelect().Model(&out).
		Where("conversation_id = ?", conversationID).
		OrderExpr("created_at DESC, id DESC").
		Limit(int64(n)).
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: last twin messages: %w", err)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, nil
}

// Cursor returns m's keyset position in its conversation.
func (m TwinMessage) Cursor() Cursor { return Cursor{Time: m.CreatedAt, ID: m.ID} }

// ListTwinConversations returns up to limit of userID's conversations with
// their own twin, most recently active first ((updated_at, id) descending),
// after the keyset cursor (a conversation's UpdatedAt and ID).
func (db *DB) ListTwinConversations(ctx context.Context, userID string, after *Cursor, limit int) ([]TwinConversation, error) {
	var out []TwinConversation
	q := db.NewSelect().Model(&out).
		Where("owner_user_id = ? AND viewer_user_id = ? AND share_link_id IS NULL", userID, userID).
		OrderExpr("updated_at DESC, id DESC").
		Limit(int64(limit))
	if after != nil {
		t := UTC(after.Time)
		q = q.Where("(updated_at, id) < (?, ?)", UTC(t), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list twin conversations: %w", err)
	}
	return out, nil
}

// FailStaleTwinMessages finishes every twin message still pending that was
// created before before, with errMsg, and returns how many it finished: the
// replies of an instance that stopped without storing them would otherwise
// show as "typing" forever.
func (db *DB) FailStaleTwinMessages(ctx context.Context, before time.Time, errMsg string) (int64, error) {
	res, err := db.NewUpdate().Model((*TwinMessage)(nil)).
		Set("error_message = ?", errMsg).
		Set("completed = ?", true).
		Where("role = ? AND completed = ? AND created_at < ?", TwinRoleTwin, false, UTC(before)).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: fail stale twin messages: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: fail stale twin messages: %w", err)
	}
	return n, nil
}
