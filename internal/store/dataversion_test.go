package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// Every write a dashboard query could see — insert, update or delete of a
// user's connections, privacy settings, signature or insights — raises
// that user's data version, and only that user's: a cached response
// tagged with an older version is never served again.
func TestUserDataVersionRisesWithEveryWriteOfTheUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		u := newUser(t, db, "ada@example.com")
		other := newUser(t, db, "bob@example.com")
		version := func(id string) int64 {
			t.Helper()
			v, err := db.UserDataVersion(ctx, id)
			storetest.Must(t, err)
			return v
		}
		if v, err := db.UserDataVersion(ctx, "no-such-user"); err != nil || v != 0 {
			t.Fatalf("unknown user: version %d, %v; want 0", v, err)
		}
		theirs := version(other.ID)
		last := version(u.ID)
		rose := func(what string) {
			t.Helper()
			now := version(u.ID)
			if now <= last {
				t.Fatalf("%s: version %d, was %d: it must rise", what, now, last)
			}
			last = now
			if v := version(other.ID); v != theirs {
				t.Fatalf("%s: the other user's version moved %d → %d", what, theirs, v)
			}
		}

		connect(t, db, u.ID, "github", nil, "")
		rose("connection inserted")
		_, _, err := db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, []privacy.Insight{insight("music.chronotype", privacy.Creative, "Evening listener", 20)}, t0)
		storetest.Must(t, err)
		rose("insight inserted")
		_, err = db.PutSoulSignature(ctx, store.SoulSignature{UserID: u.ID, AnalyzedAt: t0, Features: "{}", ContentHash: "h1", UpdatedAt: t0})
		storetest.Must(t, err)
		rose("signature inserted")
		_, err = db.SetPrivacyLevel(ctx, u.ID, privacy.Creative, "", 80, t0)
		storetest.Must(t, err)
		rose("privacy level set")

		for _, table := range []string{"platform_connections", "insights", "soul_signatures", "privacy_settings"} {
			_, err := db.NewRaw("UPDATE "+table+" SET user_id = user_id WHERE user_id = ?", u.ID).Exec(ctx)
			storetest.Must(t, err)
			rose(table + " updated")
		}
		_, _, err = db.SaveInsights(ctx, u.ID, store.InsightSourcePattern, nil, t0.Add(time.Hour))
		storetest.Must(t, err)
		rose("insights deleted by a new analysis")
		for _, table := range []string{"platform_connections", "soul_signatures", "privacy_settings"} {
			_, err := db.NewRaw("DELETE FROM "+table+" WHERE user_id = ?", u.ID).Exec(ctx)
			storetest.Must(t, err)
			rose(table + " deleted")
		}
		// The version goes with its user, and the deletion's cascade
		// leaves none behind.
		connect(t, db, u.ID, "spotify", nil, "")
		storetest.Must(t, db.DeleteUser(ctx, u.ID))
		var rows int
		storetest.Must(t, db.NewRaw("SELECT count(*) FROM user_data_versions WHERE user_id = ?", u.ID).Scan(ctx, &rows))
		if rows != 0 {
			t.Fatalf("%d version rows left after the user's deletion", rows)
		}
		if v := version(other.ID); v != theirs {
			t.Fatalf("deleting a user moved another's version %d → %d", theirs, v)
		}
	})
}
