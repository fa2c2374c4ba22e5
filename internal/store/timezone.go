package store

import (
	"context"
	"fmt"
	"time"
	_ "time/tzdata" // IANA names resolve the same on every machine

	"github.com/twinme/twinme/internal/domain"
)

// Bounds of a UTC offset a browser may report: UTC−12:00 to UTC+14:00, in
// whole quarter hours (every offset in use is one).
const (
	MinUTCOffsetMinutes = -12 * 60
	MaxUTCOffsetMinutes = 14 * 60
)

// ValidUTCOffset reports whether minutes is an offset some place uses.
func ValidUTCOffset(minutes int) bool {
	return minutes >= MinUTCOffsetMinutes && minutes <= MaxUTCOffsetMinutes && minutes%15 == 0
}

// Time zone sources, as TimeZoneSource reports them.
const (
	TimeZoneChosen    = domain.TimeZoneChosen
	TimeZoneExtension = domain.TimeZoneExtension
	TimeZoneDefault   = domain.TimeZoneDefault
)

// TimeZone is the zone the person's analyses read hours and days in: the
// IANA name they chose; until they choose, the offset the browser extension
// first reported, written "UTC+05:30"; else "UTC".
func (u *User) TimeZone() string {
	if u.ChosenTimeZone != "" {
		return u.ChosenTimeZone
	}
	if u.UTCOffsetMinutes != nil && ValidUTCOffset(*u.UTCOffsetMinutes) {
		return offsetName(*u.UTCOffsetMinutes)
	}
	return "UTC"
}

// TimeZoneSource says where TimeZone comes from.
func (u *User) TimeZoneSource() domain.TimeZoneSource {
	switch {
	case u.ChosenTimeZone != "":
		return TimeZoneChosen
	case u.UTCOffsetMinutes != nil && ValidUTCOffset(*u.UTCOffsetMinutes):
		return TimeZoneExtension
	}
	return TimeZoneDefault
}

// Location is TimeZone as a location. A chosen name carries its daylight
// saving rules; an offset from the extension is fixed (it says nothing about
// DST) until the person chooses a zone. A stored name that no longer loads
// falls back to the offset, then UTC.
func (u *User) Location() *time.Location {
	if u.ChosenTimeZone != "" {
		if loc, err := time.LoadLocation(u.ChosenTimeZone); err == nil {
			return loc
		}
	}
	if u.UTCOffsetMinutes != nil && ValidUTCOffset(*u.UTCOffsetMinutes) {
		return time.FixedZone(offsetName(*u.UTCOffsetMinutes), *u.UTCOffsetMinutes*60)
	}
	return time.UTC
}

func offsetName(minutes int) string {
	sign := '+'
	if minutes < 0 {
		sign, minutes = '-', -minutes
	}
	return fmt.Sprintf("UTC%c%02d:%02d", sign, minutes/60, minutes%60)
}

// SetDefaultUTCOffset records the browser extension's UTC offset for userID
// unless one is already recorded: the first valid offset seen is the
// default until the person chooses a zone (which it never overrides). It
// reports whether it stored the offset.
func (db *DB) SetDefaultUTCOffset(ctx context.Context, userID string, minutes int, now time.Time) (bool, error) {
	if !ValidUTCOffset(minutes) {
		return false, nil
	}
	res, err := db.NewUpdate().Table("users").
		Set("utc_offset_minutes = ?", minutes).Set("updated_at = ?", UTC(now)).
		Where("id = ?", userID).Where("utc_offset_minutes IS NULL").
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: set default utc offset: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
