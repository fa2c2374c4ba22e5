package demo

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/soul"
)

// DayResult is what one live day added.
type DayResult struct {
	Day      int
	Stored   int // platform items written
	Observer int // browser events accepted
	Run      soul.RunResult
}

// liveIDBase spaces the numeric item ids of live days apart from the
// seeded year's and from each other.
const liveIDBase = 10_000_000

// FeedDay stores one more day of the demo person's life for userID (day k
// of the live run, k ≥ 1) through the same paths as the seeded year — the
// deduplicating platform upsert and the observer service — and analyses
// the user at once, so that subscribers to insightAdded and
// soulSignatureUpdated see what changed within seconds. The day is the
// synthetic year's activity for one day (its plays, videos, GitHub events,
// mail and browsing), stamped at its times of day over the 24 hours before
// now. The same k gives the same day.
func FeedDay(ctx context.Context, d Deps, userID string, k int) (DayResult, error) {
	res := DayResult{Day: k}
	now := d.Clock.Now().UTC()
	year := analysis.SyntheticYear(YearSeed+int64(k), now.Truncate(24*time.Hour).AddDate(0, 0, -365))
	day := oneDay(year, 365, now)

	for _, p := range []string{"spotify", "youtube", "github", "gmail"} {
		var keep = items(day, k*liveIDBase)[p]
		// Only the time-stamped streams: artists' genres, repositories,
		// servers and the profile are already there.
		n := 0
		for _, it := range keep {
			if it.DataType == string(platform.DataSpotifyTopArtist) || it.DataType == string(platform.DataGitHubRepo) {
				continue
			}
			keep[n] = it
			n++
		}
		c, err := store1(ctx, d.DB, userID, p, keep[:n], now)
		if err != nil {
			return res, err
		}
		res.Stored += c
	}
	raw := make([]observe.RawEvent, 0, len(day.Observer))
	for i, e := range day.Observer {
		raw = append(raw, rawEvent(e, e.At, fmt.Sprintf("demo-live-%d-%05d", k, i)))
	}
	for i := 0; i < len(raw); i += observe.MaxBatchEvents {
		accepted, _, err := d.Ingest.RecordEvents(ctx, userID, raw[i:min(i+observe.MaxBatchEvents, len(raw))])
		if err != nil {
			return res, fmt.Errorf("demo: live events: %w", err)
		}
		res.Observer += accepted
	}
	run, err := d.Soul.Analyze(ctx, userID)
	if err != nil {
		return res, fmt.Errorf("demo: live analysis: %w", err)
	}
	res.Run = run
	return res, nil
}

// oneDay keeps every n-th time-stamped item of a year (about one day's
// worth) and moves each to the same time of day within the 24 hours before
// now.
func oneDay(in analysis.Input, n int, now time.Time) analysis.Input {
	shift := func(t time.Time) time.Time {
		tod := t.Sub(t.Truncate(24 * time.Hour))
		at := now.Truncate(24 * time.Hour).Add(tod)
		if at.After(now) {
			at = at.AddDate(0, 0, -1)
		}
		return at
	}
	out := analysis.Input{}
	for _, p := range every(in.Plays, n) {
		p.At = shift(p.At)
		out.Plays = append(out.Plays, p)
	}
	for _, v := range every(in.Videos, n) {
		v.At = shift(v.At)
		out.Videos = append(out.Videos, v)
	}
	for _, e := range every(in.CodeEvents, n) {
		e.At = shift(e.At)
		out.CodeEvents = append(out.CodeEvents, e)
	}
	for _, m := range every(in.Mails, n) {
		m.At = shift(m.At)
		out.Mails = append(out.Mails, m)
	}
	for _, o := range every(in.Observer, n) {
		o.At = shift(o.At)
		out.Observer = append(out.Observer, o)
	}
	return out
}

// Live feeds the demo user a new day every interval until ctx ends,
// logging what each day changed.
func Live(ctx context.Context, d Deps, userID string, interval time.Duration) error {
	t := d.Clock.NewTicker(interval)
	defer t.Stop()
	for k := 1; ; k++ {
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
		r, err := FeedDay(ctx, d, userID, k)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		d.Logger.Info("demo: live day", slog.Int("day", k), slog.Int("stored", r.Stored), slog.Int("observer_events", r.Observer),
			slog.Int("insights_stored", r.Run.InsightsStored), slog.Bool("signature_changed", r.Run.SignatureChanged))
	}
}
