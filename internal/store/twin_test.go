package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestTwinConversationScopedToParticipant(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada := newUser(t, db, "ada@example.com")
		bob := newUser(t, db, "bob@example.com")
		own := &store.TwinConversation{OwnerUserID: ada.ID, ViewerUserID: &ada.ID, CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, own))
		guest := &store.TwinConversation{OwnerUserID: ada.ID, ShareLinkID: ptr("link1"), Audience: "friends", CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, guest))
		signedIn := &store.TwinConversation{OwnerUserID: ada.ID, ViewerUserID: &bob.ID, ShareLinkID: ptr("link1"), Audience: "friends", CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, signedIn))

		cases := []struct {
			name string
			id   string
			p    store.TwinParticipant
			ok   bool
		}{
			{"owner reads own", own.ID, store.TwinParticipant{UserID: ada.ID}, true},
			{"other user reads owner's", own.ID, store.TwinParticipant{UserID: bob.ID}, false},
			{"share guest reads owner's", own.ID, store.TwinParticipant{ShareLinkID: "link1"}, false},
			{"owner through a link reads own", own.ID, store.TwinParticipant{UserID: ada.ID, ShareLinkID: "link1"}, false},
			{"nobody", own.ID, store.TwinParticipant{}, false},
			{"guest reads guest's", guest.ID, store.TwinParticipant{ShareLinkID: "link1"}, true},
			{"guest of another link", guest.ID, store.TwinParticipant{ShareLinkID: "link2"}, false},
			{"owner reads a guest's", guest.ID, store.TwinParticipant{UserID: ada.ID}, false},
			{"signed-in user reads anonymous guest's", guest.ID, store.TwinParticipant{UserID: bob.ID, ShareLinkID: "link1"}, false},
			{"signed-in visitor reads own", signedIn.ID, store.TwinParticipant{UserID: bob.ID, ShareLinkID: "link1"}, true},
			{"anonymous guest reads signed-in visitor's", signedIn.ID, store.TwinParticipant{ShareLinkID: "link1"}, false},
			{"signed-in visitor without the link", signedIn.ID, store.TwinParticipant{UserID: bob.ID}, false},
			{"unknown id", "nope", store.TwinParticipant{UserID: ada.ID}, false},
		}
		for _, tc := range cases {
			c, err := db.TwinConversation(ctx, tc.id, tc.p)
			switch {
			case tc.ok && err != nil:
				t.Errorf("%s: %v", tc.name, err)
			case tc.ok && c.ID != tc.id:
				t.Errorf("%s: got conversation %s", tc.name, c.ID)
			case !tc.ok && apperr.CodeOf(err) != apperr.NotFound:
				t.Errorf("%s: err = %v, want NOT_FOUND", tc.name, err)
			}
		}
	})
}

func TestTwinMessagesAppendListFinish(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada := newUser(t, db, "ada@example.com")
		c := &store.TwinConversation{OwnerUserID: ada.ID, ViewerUserID: &ada.ID, CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, c))
		other := &store.TwinConversation{OwnerUserID: ada.ID, ViewerUserID: &ada.ID, CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, other))

		// Five exchanges, the user's message and the pending reply stored at
		// the same instant, as the service does.
		var pending []string
		for i := range 5 {
			at := t0.Add(time.Duration(i) * time.Minute)
			u := &store.TwinMessage{ConversationID: c.ID, Role: store.TwinRoleUser, Text: "question", Completed: true, CreatedAt: at}
			r := &store.TwinMessage{ConversationID: c.ID, Role: store.TwinRoleTwin, CreatedAt: at}
			storetest.Must(t, db.AppendTwinMessages(ctx, u, r))
			pending = append(pending, r.ID)
		}
		storetest.Must(t, db.AppendTwinMessages(ctx, &store.TwinMessage{ConversationID: other.ID, Role: store.TwinRoleUser, Text: "elsewhere", Completed: true, CreatedAt: t0}))

		end := t0.Add(10 * time.Minute)
		storetest.Must(t, db.FinishTwinMessage(ctx, pending[4], "I like jazz.", store.TwinSourceLocal, "", end))
		if err := db.FinishTwinMessage(ctx, pending[4], "again", store.TwinSourceLocal, "", end); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("finishing twice: %v, want NOT_FOUND", err)
		}
		storetest.Must(t, db.FinishTwinMessage(ctx, pending[3], "I li", store.TwinSourceLLM, "The reply was cut off.", end))

		// Paged oldest first, user message before its reply.
		var all []store.TwinMessage
		var after *store.Cursor
		for {
			page, err := db.ListTwinMessages(ctx, c.ID, after, 3)
			storetest.Must(t, err)
			all = append(all, page...)
			if len(page) < 3 {
				break
			}
			cur := page[len(page)-1].Cursor()
			after = &cur
		}
		if len(all) != 10 {
			t.Fatalf("listed %d messages, want 10", len(all))
		}
		for i, m := range all {
			wantRole := store.TwinRoleUser
			if i%2 == 1 {
				wantRole = store.TwinRoleTwin
			}
			if m.Role != wantRole || m.ConversationID != c.ID {
				t.Fatalf("message %d: role %s conversation %s", i, m.Role, m.ConversationID)
			}
		}
		if got := all[9]; got.ID != pending[4] || !got.Completed || got.Text != "I like jazz." || got.Source != store.TwinSourceLocal || got.Error != "" {
			t.Fatalf("finished reply %+v", got)
		}
		if got := all[7]; !got.Completed || got.Error != "The reply was cut off." || got.Text != "I li" {
			t.Fatalf("cut-off reply %+v", got)
		}
		if got := all[1]; got.Completed || got.Text != "" {
			t.Fatalf("pending reply %+v", got)
		}

		last, err := db.LastTwinMessages(ctx, c.ID, 3)
		storetest.Must(t, err)
		if len(last) != 3 || last[0].ID != all[7].ID || last[2].ID != all[9].ID {
			t.Fatalf("last 3 = %v", ids(last))
		}

		// The conversation moved to the reply's end; the other one did not.
		convs, err := db.ListTwinConversations(ctx, ada.ID, nil, 10)
		storetest.Must(t, err)
		if len(convs) != 2 || convs[0].ID != c.ID || !convs[0].UpdatedAt.Equal(end) {
			t.Fatalf("conversations %+v", convs)
		}
	})
}

func TestFailStaleTwinMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ada := newUser(t, db, "ada@example.com")
		c := &store.TwinConversation{OwnerUserID: ada.ID, ViewerUserID: &ada.ID, CreatedAt: t0, UpdatedAt: t0}
		storetest.Must(t, db.CreateTwinConversation(ctx, c))
		old := &store.TwinMessage{ConversationID: c.ID, Role: store.TwinRoleTwin, CreatedAt: t0}
		done := &store.TwinMessage{ConversationID: c.ID, Role: store.TwinRoleTwin, CreatedAt: t0}
		fresh := &store.TwinMessage{ConversationID: c.ID, Role: store.TwinRoleTwin, CreatedAt: t0.Add(time.Hour)}
		storetest.Must(t, db.AppendTwinMessages(ctx, old, done, fresh))
		storetest.Must(t, db.FinishTwinMessage(ctx, done.ID, "fine", store.TwinSourceLocal, "", t0))

		n, err := db.FailStaleTwinMessages(ctx, t0.Add(30*time.Minute), "interrupted")
		storetest.Must(t, err)
		if n != 1 {
			t.Fatalf("failed %d stale messages, want 1", n)
		}
		for _, tc := range []struct {
			m         *store.TwinMessage
			completed bool
			errMsg    string
		}{{old, true, "interrupted"}, {done, true, ""}, {fresh, false, ""}} {
			got, err := db.TwinMessage(ctx, c.ID, tc.m.ID)
			storetest.Must(t, err)
			if got.Completed != tc.completed || got.Error != tc.errMsg {
				t.Fatalf("message %+v, want completed=%v error %q", got, tc.completed, tc.errMsg)
			}
		}
	})
}

func ids(ms []store.TwinMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}
