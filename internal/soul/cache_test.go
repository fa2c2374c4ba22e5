package soul_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

// The service keeps decoded signatures and revealed views while the
// owner's data version holds. Whatever it serves must equal what a
// service with nothing cached (another instance) computes from the
// database at that moment: never another user's or audience's view, never
// one from before a privacy change or a new analysis made elsewhere.
func TestCachedViewsAreNeverAnotherUsersOrStale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, nil)
		ada := seedUser(t, e, "ada@example.com")
		bob := seedUser(t, e, "bob@example.com")
		e.gitHub(t, bob, 5) // Bob's data differs from Ada's
		for _, u := range []string{ada, bob} {
			_, err := e.soul.Analyze(ctx, u)
			storetest.Must(t, err)
		}
		_, err := e.soul.SetClusterPrivacy(ctx, ada, "creative", 100, "friends")
		storetest.Must(t, err)
		_, err = e.soul.SetClusterPrivacy(ctx, ada, "creative", 10, "everyone")
		storetest.Must(t, err)
		// other is a second instance: its own caches, the same database.
		other := soul.New(db, soul.Options{Clock: e.clock, Logger: quiet()})

		check := func(what string) {
			t.Helper()
			fresh := soul.New(db, soul.Options{Clock: e.clock, Logger: quiet()})
			for _, owner := range []string{ada, bob} {
				for _, s := range []*soul.Service{e.soul, e.soul, other} { // twice: a cache hit too
					got, err := s.Signature(ctx, owner, owner, "")
					storetest.Must(t, err)
					want, err := fresh.Signature(ctx, owner, owner, "")
					storetest.Must(t, err)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("%s: owner %s's own view differs from the database's", what, owner)
					}
					for _, a := range []privacy.Audience{privacy.AudienceFriends, privacy.AudienceEveryone, privacy.AudienceAssistant} {
						got, err := s.Signature(ctx, "", owner, a)
						storetest.Must(t, err)
						want, err := fresh.Signature(ctx, "", owner, a)
						storetest.Must(t, err)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("%s: %s's view for %s differs from the database's", what, owner, a)
						}
					}
					got2, err := s.RevealedView(ctx, owner, privacy.AudienceFriends, privacy.AudienceEveryone)
					storetest.Must(t, err)
					want2, err := fresh.RevealedView(ctx, owner, privacy.AudienceFriends, privacy.AudienceEveryone)
					storetest.Must(t, err)
					if !reflect.DeepEqual(got2, want2) {
						t.Fatalf("%s: %s's view for friends and everyone differs from the database's", what, owner)
					}
				}
			}
		}
		check("first reads")
		friends, _ := e.soul.Signature(ctx, "", ada, privacy.AudienceFriends)
		everyone, _ := e.soul.Signature(ctx, "", ada, privacy.AudienceEveryone)
		bobFriends, _ := e.soul.Signature(ctx, "", bob, privacy.AudienceFriends)
		if reflect.DeepEqual(friends.View, everyone.View) || reflect.DeepEqual(friends.View, bobFriends.View) {
			t.Fatal("the fixture does not tell audiences or users apart")
		}

		// A privacy change made through the other instance.
		_, err = other.SetClusterPrivacy(ctx, ada, "creative", 0, "friends")
		storetest.Must(t, err)
		check("after a privacy change elsewhere")
		if got, _ := e.soul.Signature(ctx, "", ada, privacy.AudienceFriends); clusterOf(got.View, privacy.Creative) != 0 {
			t.Fatal("friends still see the cluster hidden from them")
		}

		// A new analysis (more data) made through the other instance.
		e.gitHub(t, ada, 90)
		before, _ := e.soul.Signature(ctx, ada, ada, "")
		_, err = other.Analyze(ctx, ada)
		storetest.Must(t, err)
		check("after a new analysis elsewhere")
		if after, _ := e.soul.Signature(ctx, ada, ada, ""); reflect.DeepEqual(before, after) {
			t.Fatal("the fixture's new analysis changed nothing")
		}
	})
}
