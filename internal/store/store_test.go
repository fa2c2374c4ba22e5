package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestMigrateUpDownUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		st, err := db.MigrationStatus(ctx)
		storetest.Must(t, err)
		for _, m := range st {
			if !m.Applied {
				t.Fatalf("migration %s not applied after Migrate", m.Name)
			}
		}
		// A second Migrate is a no-op.
		again, err := db.Migrate(ctx)
		storetest.Must(t, err)
		if len(again) != 0 {
			t.Fatalf("second migrate applied %v", again)
		}
		undone, err := db.Rollback(ctx)
		storetest.Must(t, err)
		if len(undone) == 0 {
			t.Fatal("rollback undid nothing")
		}
		if _, err := db.UserByEmail(ctx, "x@example.com"); err == nil {
			t.Fatal("users table still usable after rollback")
		}
		_, err = db.Migrate(ctx)
		storetest.Must(t, err)
	})
}

func TestUsersAndPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i, email := range []string{"a@x.io", "b@x.io", "c@y.io", "d@y.io", "e@y.io"} {
			at := base.Add(time.Duration(i) * time.Second)
			storetest.Must(t, db.CreateUser(ctx, &store.User{Email: email, Name: "N" + email, CreatedAt: at, UpdatedAt: at}))
		}
		err := db.CreateUser(ctx, &store.User{Email: "A@X.io", CreatedAt: base, UpdatedAt: base})
		if apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("duplicate email (other case): got %v, want CONFLICT", err)
		}
		page, err := db.ListUsers(ctx, "", nil, 2)
		storetest.Must(t, err)
		if len(page) != 2 || page[0].Email != "a@x.io" || page[1].Email != "b@x.io" {
			t.Fatalf("first page = %+v", page)
		}
		cur := &store.Cursor{Time: page[1].CreatedAt, ID: page[1].ID}
		dec, err := domain.DecodeCursor(cur.Encode())
		storetest.Must(t, err)
		page, err = db.ListUsers(ctx, "", dec, 10)
		storetest.Must(t, err)
		if len(page) != 3 || page[0].Email != "c@y.io" {
			t.Fatalf("second page = %+v", page)
		}
		page, err = db.ListUsers(ctx, "Y.IO", nil, 10)
		storetest.Must(t, err)
		if len(page) != 3 {
			t.Fatalf("search y.io found %d users", len(page))
		}
		page, err = db.ListUsers(ctx, "%", nil, 10)
		storetest.Must(t, err)
		if len(page) != 0 {
			t.Fatalf("search %% must be literal, found %d", len(page))
		}
		if _, err := domain.DecodeCursor("!!"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}
