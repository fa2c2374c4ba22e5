package app_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/store"
)

// The time zone: UTC until known, the browser extension's first valid
// offset until the person chooses, then the IANA name they chose (checked
// against the embedded tz database); analyses read it.
func TestTimeZone(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		ctx := context.Background()
		u, full := e.user("tz@example.com", false)
		ext, _, err := e.app.Auth.CreateAPIToken(ctx, u.ID, "extension", []string{auth.ScopeObserverWrite}, nil)
		if err != nil {
			t.Fatal(err)
		}
		me := func() (string, string) {
			t.Helper()
			e.clock.Advance(20 * time.Second) // past the credential cache
			r := e.gql(full, `{ me { timeZone timeZoneSource } }`, nil)
			zone, _ := dig(r.Data, "me", "timeZone").(string)
			src, _ := dig(r.Data, "me", "timeZoneSource").(string)
			if zone == "" {
				t.Fatalf("me: %s", r.Raw)
			}
			return zone, src
		}
		location := func() string {
			t.Helper()
			loc, err := e.app.Soul.Location(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return loc.String()
		}
		if z, s := me(); z != "UTC" || s != "DEFAULT" {
			t.Fatalf("new user: %s %s", z, s)
		}
		if r := e.gql(full, `mutation { setObservation(enabled: true) { enabled } }`, nil); r.code() != "" {
			t.Fatal(r.Raw)
		}
		now := e.clock.Now().UTC()
		post := func(id, at, offset string) {
			t.Helper()
			extra := ""
			if offset != "" {
				extra = `,"utcOffsetMinutes":` + offset
			}
			body := fmt.Sprintf(`{"events":[{"clientEventId":%q,"type":"focus","occurredAt":%q%s}]}`, id, at, extra)
			if code, out := e.postObserver(ext, body); code != http.StatusOK || out["accepted"] != 1.0 {
				t.Fatalf("post %s: %d %v", id, code, out)
			}
		}
		// An offset no place uses is ignored; the event is still kept.
		post("a", now.Format(time.RFC3339), "1000")
		post("b", now.Format(time.RFC3339), "")
		if z, s := me(); z != "UTC" || s != "DEFAULT" {
			t.Fatalf("after invalid and absent offsets: %s %s", z, s)
		}
		// The first valid offset (here written in the timestamp) becomes
		// the default; later ones do not move it.
		post("c", now.In(time.FixedZone("", 330*60)).Format(time.RFC3339), "")
		post("d", now.Format(time.RFC3339), "-480")
		if z, s := me(); z != "UTC+05:30" || s != "EXTENSION" {
			t.Fatalf("after the extension's offsets: %s %s", z, s)
		}
		if got := location(); got != "UTC+05:30" {
			t.Fatalf("analysis zone %s", got)
		}

		// A name that is not in the tz database is refused and changes nothing.
		for _, bad := range []string{"Mars/Olympus_Mons", "Local", "../../etc/passwd", "+05:30"} {
			r := e.gql(full, `mutation($z: String) { updateProfile(input: {timeZone: $z}) { timeZone } }`, map[string]any{"z": bad})
			if r.code() != "BAD_USER_INPUT" {
				t.Fatalf("timeZone %q: %s", bad, r.Raw)
			}
		}
		r := e.gql(full, `mutation { updateProfile(input: {timeZone: "America/Los_Angeles"}) { timeZone timeZoneSource } }`, nil)
		if dig(r.Data, "updateProfile", "timeZone") != "America/Los_Angeles" || dig(r.Data, "updateProfile", "timeZoneSource") != "CHOSEN" {
			t.Fatalf("updateProfile: %s", r.Raw)
		}
		post("e", now.Format(time.RFC3339), "60")
		if z, s := me(); z != "America/Los_Angeles" || s != "CHOSEN" {
			t.Fatalf("after choosing: %s %s", z, s)
		}
		if got := location(); got != "America/Los_Angeles" {
			t.Fatalf("analysis zone %s", got)
		}
		// Clearing the choice brings the extension's default back.
		r = e.gql(full, `mutation { updateProfile(input: {timeZone: ""}) { timeZone timeZoneSource } }`, nil)
		if dig(r.Data, "updateProfile", "timeZone") != "UTC+05:30" || dig(r.Data, "updateProfile", "timeZoneSource") != "EXTENSION" {
			t.Fatalf("clearing: %s", r.Raw)
		}
	})
}
