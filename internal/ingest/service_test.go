package ingest_test

import (
	"context"
	"testing"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestPlatformDataPagesOwnersDataAndDeleteData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db)
		s := service(e)
		c := e.connectUser("ada@example.com")
		other := e.connectUser("bob@example.com")
		e.feed.add(7)
		eng := e.engine()
		_, err := eng.RunDue(ctx)
		storetest.Must(t, err)

		first := 3
		var seen []string
		after := ""
		for {
			page, err := s.PlatformData(ctx, c.UserID, "SPOTIFY", "saved_track", &first, after)
			storetest.Must(t, err)
			for _, it := range page.Items {
				seen = append(seen, it.ExternalID)
				if it.Source != "api" || len(it.Payload) == 0 {
					t.Fatalf("item %+v", it)
				}
			}
			if !page.HasNextPage {
				break
			}
			after = page.EndCursor
		}
		if len(seen) != 7 || seen[0] != "track0006" {
			t.Fatalf("paged %v, want 7 newest first", seen)
		}
		bad := 0
		if _, err := s.PlatformData(ctx, c.UserID, "spotify", "", &bad, ""); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("first=0: %v", err)
		}
		if _, err := s.PlatformData(ctx, c.UserID, "spotify", "", nil, "garbage!"); apperr.CodeOf(err) != apperr.BadUserInput {
			t.Fatalf("bad cursor: %v", err)
		}

		n, err := s.DeleteData(ctx, c.UserID, "spotify")
		storetest.Must(t, err)
		if n != 7 {
			t.Fatalf("deleted %d", n)
		}
		page, err := s.PlatformData(ctx, c.UserID, "spotify", "", nil, "")
		storetest.Must(t, err)
		if len(page.Items) != 0 {
			t.Fatalf("left %d items", len(page.Items))
		}
		// The other user's data is untouched.
		page, err = s.PlatformData(ctx, other.UserID, "spotify", "", nil, "")
		storetest.Must(t, err)
		if len(page.Items) != 7 {
			t.Fatalf("other user has %d items", len(page.Items))
		}
	})
}
