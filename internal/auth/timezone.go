package auth

import (
	"strings"
	"time"

	"github.com/twinme/twinme/internal/apperr"
)

// ValidTimeZone checks an IANA time zone name against the tz database
// embedded in the binary (store imports time/tzdata) and returns it
// trimmed; "" is valid and means "no choice". "Local" (the server's own
// zone) and anything that does not load are BAD_USER_INPUT.
func ValidTimeZone(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	bad := apperr.Invalid("timeZone", "time zone must be an IANA name such as Europe/Berlin or America/Los_Angeles")
	if len(name) > 64 || name == "Local" {
		return "", bad
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "", bad
	}
	return name, nil
}
