// Package demo creates a demo user with a year of synthetic activity on every
// platform, sent through the same storage path as real data (the
// deduplicating platform-data upsert the importer and poller use, and the
// observer service's RecordEvents), then analyses it, so a newcomer sees a
// full soul signature without connecting anything.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/itemkey"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
)

// YearSeed is the fixed seed of the demo year: every demo user has the
// same life (shifted to end at the time of seeding).
const YearSeed = 20261129

// DefaultEmail is the demo user's address when none is given.
const DefaultEmail = "demo@twinme.local"

// Deps are the services the demo goes through.
type Deps struct {
	DB     *store.DB
	Auth   *auth.Service
	Ingest *ingest.Service
	Soul   *soul.Service
	Clock  clockwork.Clock
	Logger *slog.Logger
	// Every keeps one time-stamped item in Every (0 or 1: all of them), a
	// thinner year for tests that run under the race detector.
	Every int
}

// Result is what Seed did.
type Result struct {
	UserID string
	// Token is a new API token of the demo user (scope full), shown once.
	Token string
	// Stored counts platform items written (new or changed), Observer the
	// browser events accepted.
	Stored   int
	Observer int
	Run      soul.RunResult
}

// upsertBatch is how many items one transaction stores.
const upsertBatch = 2000

// SeedUser creates the demo user email (or reuses it: seeding again stores
// nothing new), stores one synthetic year of activity ending now through
// the ingest path, analyses it and returns the user id and a new API token.
func SeedUser(ctx context.Context, d Deps, email string) (Result, error) {
	var res Result
	if email == "" {
		email = DefaultEmail
	}
	if d.Clock == nil {
		d.Clock = clockwork.NewRealClock()
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	u, err := d.Auth.CreateUser(ctx, email, "Sam Synthetic (demo)", false)
	if apperr.CodeOf(err) == apperr.Conflict {
		u, err = d.DB.UserByEmail(ctx, email)
	}
	if err != nil {
		return res, fmt.Errorf("demo: user: %w", err)
	}
	res.UserID = u.ID

	now := d.Clock.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	start := today.AddDate(0, 0, -364)
	year := thin(analysis.SyntheticYear(YearSeed, start), d.Every)

	items := Items(year)
	for _, p := range []string{"spotify", "youtube", "github", "gmail", "discord", "linkedin"} {
		n, err := store1(ctx, d.DB, u.ID, p, items[p], now)
		if err != nil {
			return res, err
		}
		res.Stored += n
	}

	if _, err := d.Ingest.SetObserverSettings(ctx, u.ID, true, false); err != nil {
		return res, fmt.Errorf("demo: observer settings: %w", err)
	}
	raw := ObserverEvents(year.Observer, start, today)
	for i := 0; i < len(raw); i += observe.MaxBatchEvents {
		accepted, _, err := d.Ingest.RecordEvents(ctx, u.ID, raw[i:min(i+observe.MaxBatchEvents, len(raw))])
		if err != nil {
			return res, fmt.Errorf("demo: observer events: %w", err)
		}
		res.Observer += accepted
	}

	if res.Run, err = d.Soul.Analyze(ctx, u.ID); err != nil {
		return res, fmt.Errorf("demo: analyze: %w", err)
	}
	token, _, err := d.Auth.CreateAPIToken(ctx, u.ID, "demo "+now.Format("2006-01-02 15:04"), []string{auth.ScopeFull}, nil)
	if err != nil {
		return res, fmt.Errorf("demo: token: %w", err)
	}
	res.Token = token
	d.Logger.Info("demo: seeded", slog.String("user_id", u.ID), slog.Int("stored", res.Stored),
		slog.Int("observer_events", res.Observer), slog.Int("insights_stored", res.Run.InsightsStored))
	return res, nil
}

// Seed is SeedUser returning the user id and token only.
func Seed(ctx context.Context, d Deps, email string) (userID, token string, err error) {
	r, err := SeedUser(ctx, d, email)
	return r.UserID, r.Token, err
}

// thin keeps every n-th play, video, code event, mail and observer event.
func thin(in analysis.Input, n int) analysis.Input {
	if n <= 1 {
		return in
	}
	in.Plays = every(in.Plays, n)
	in.Videos = every(in.Videos, n)
	in.CodeEvents = every(in.CodeEvents, n)
	in.Mails = every(in.Mails, n)
	in.Observer = every(in.Observer, n)
	return in
}

func every[T any](s []T, n int) []T {
	out := make([]T, 0, len(s)/n+1)
	for i := 0; i < len(s); i += n {
		out = append(out, s[i])
	}
	return out
}

// store1 upserts one platform's items in transactions of upsertBatch, as
// an import does.
func store1(ctx context.Context, db *store.DB, userID, platform string, items []store.PlatformItem, now time.Time) (int, error) {
	stored := 0
	for i := 0; i < len(items); i += upsertBatch {
		chunk := items[i:min(i+upsertBatch, len(items))]
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx store.Tx) error {
			c, err := store.UpsertPlatformData(ctx, tx, userID, platform, chunk, now)
			stored += c.Stored()
			return err
		})
		if err != nil {
			return stored, fmt.Errorf("demo: store %s: %w", platform, err)
		}
	}
	return stored, nil
}

// item builds an upsert item whose content hash is the importer's
// canonical one, as ingest computes it.
func item(platformName string, dataType platform.DataType, externalID string, at time.Time, source string, payload any) store.PlatformItem {
	raw, err := json.Marshal(payload)
	if err != nil {
		panic(err) // only plain structs and maps reach here
	}
	r := importer.Record{Platform: platformName, DataType: dataType, ExternalID: externalID, OccurredAt: at.UTC(), Payload: raw}
	return store.PlatformItem{DataType: string(dataType), ExternalID: externalID, OccurredAt: at.UTC(), Payload: raw,
		ContentHash: r.ContentHash(), Source: source}
}

// Items converts a synthetic year into the platform items the importer
// and the platform streams would have stored, by platform, in the same
// payload shapes (see soul.Load for the fields read back):
//   - plays with skip data as Spotify extended-history export rows, the
//     others as Web API recently-played items; each artist's genres as a
//     long-term top-artist item (Spotify gives genres per artist only);
//   - liked videos as Data API items, watches as Takeout rows;
//   - GitHub events and repositories, Gmail metadata, Discord guilds and
//     the LinkedIn userinfo as their streams store them.
func Items(in analysis.Input) map[string][]store.PlatformItem { return items(in, 0) }

// items is Items with numeric item ids starting at base, so that live
// days (see FeedDay) never collide with the seeded year's ids.
func items(in analysis.Input, base int) map[string][]store.PlatformItem {
	out := map[string][]store.PlatformItem{}
	add := func(p string, it store.PlatformItem) { out[p] = append(out[p], it) }

	genres := map[string][]string{}
	var artists []string
	for _, p := range in.Plays {
		if _, ok := genres[p.Artist]; !ok {
			artists = append(artists, p.Artist)
			genres[p.Artist] = p.Genres
		}
		if p.Skipped != nil {
			add("spotify", item("spotify", platform.DataSpotifyPlay, itemkey.SpotifyPlayID(p.Artist, p.Track, p.At), p.At, store.SourceExtendedHistory, importer.PlayPayload{
				Source: store.SourceExtendedHistory, Track: p.Track, Artist: p.Artist, TrackURI: p.TrackID,
				MsPlayed: int64(p.MsPlayed), ReasonEnd: p.ReasonEnd, Skipped: p.Skipped,
			}))
			continue
		}
		add("spotify", item("spotify", platform.DataSpotifyPlay, itemkey.SpotifyPlayID(p.Artist, p.Track, p.At), p.At, store.SourceAPI, platform.SpotifyPlayPayload{
			Source: "api", TrackID: p.TrackID, TrackURI: p.TrackID, Track: p.Track, Artists: []string{p.Artist},
			DurationMS: int64(p.MsPlayed), PlayedAt: p.At.UTC().Format(time.RFC3339Nano),
		}))
	}
	last := time.Time{}
	if n := len(in.Plays); n > 0 {
		last = in.Plays[n-1].At
	}
	snapshot := last.UTC().Format("2006-01-02")
	for i, a := range artists {
		id := fmt.Sprintf("demoartist%04d", i)
		add("spotify", item("spotify", platform.DataSpotifyTopArtist, "long_term:"+snapshot+":"+id, last, store.SourceAPI, platform.SpotifyTopArtistPayload{
			Source: "api", TimeRange: "long_term", Snapshot: snapshot, Rank: i + 1, ArtistID: id, URI: "spotify:artist:" + id,
			Name: a, Genres: append([]string{}, genres[a]...), Popularity: 50,
		}))
	}

	for i, v := range in.Videos {
		vid := fmt.Sprintf("demo%07d", base+i)
		if v.Source == analysis.VideoLike {
			add("youtube", item("youtube", platform.DataYouTubeLikedVideo, vid, v.At, store.SourceAPI, platform.YouTubeLikedVideoPayload{
				Source: "api", VideoID: vid, Title: v.Title, ChannelID: "UC" + v.Channel, ChannelTitle: v.Channel,
				CategoryID: v.CategoryID, Tags: []string{}, PublishedAt: v.At.UTC().Format(time.RFC3339),
			}))
			continue
		}
		add("youtube", item("youtube", platform.DataYouTubeWatch, importer.YouTubeWatchID(vid, v.At), v.At, platform.SourceTakeout, platform.YouTubeWatchPayload{
			Source: platform.SourceTakeout, VideoID: vid, Title: v.Title, Channel: v.Channel,
		}))
	}

	repoIDs := map[string]int64{}
	for i, r := range in.Repos {
		id := int64(1000 + i)
		repoIDs[r.Name] = id
		langs := make(map[string]int64, len(r.Languages))
		for l, n := range r.Languages {
			langs[l] = int64(n)
		}
		add("github", item("github", platform.DataGitHubRepo, strconv.FormatInt(id, 10), last, store.SourceAPI, platform.GitHubRepoPayload{
			Source: "api", FullName: r.Name, Language: r.Language, Languages: langs, Topics: []string{}, Stars: r.Stars,
			CreatedAt: last.UTC().Format(time.RFC3339), PushedAt: last.UTC().Format(time.RFC3339), URL: "https://github.com/" + r.Name,
		}))
	}
	for i, e := range in.CodeEvents {
		add("github", item("github", platform.DataGitHubEvent, strconv.Itoa(40_000_000+base+i), e.At, store.SourceAPI, platform.GitHubEventPayload{
			Source: "api", Type: e.Type, Repo: e.Repo, RepoID: repoIDs[e.Repo], Public: true, CreatedAt: e.At.UTC().Format(time.RFC3339),
		}))
	}

	for i, m := range in.Mails {
		id := fmt.Sprintf("18c%013x", base+i)
		add("gmail", item("gmail", platform.DataGmailMessage, id, m.At, store.SourceAPI, platform.GmailMessagePayload{
			Source: "api", ID: id, ThreadID: id, LabelIDs: m.Labels, InternalDate: strconv.FormatInt(m.At.UnixMilli(), 10),
			From: m.From, Date: m.At.UTC().Format(time.RFC1123Z),
		}))
	}
	for i, g := range in.Guilds {
		id := strconv.Itoa(900_000_000_000 + i)
		add("discord", item("discord", platform.DataDiscordGuild, id, last, store.SourceAPI, platform.DiscordGuildPayload{
			Source: "api", GuildID: id, Name: g.Name, Owner: g.Owner, Permissions: "0", Features: []string{}, Members: 40 + 10*i,
		}))
	}
	if p := in.LinkedIn; p != nil {
		add("linkedin", item("linkedin", platform.DataLinkedInProfile, p.Sub, last, store.SourceAPI, platform.LinkedInProfilePayload{
			Source: "api", Sub: p.Sub, Name: p.Name, GivenName: p.GivenName, FamilyName: p.FamilyName,
			Locale: p.Locale, Email: p.Email, EmailVerified: p.EmailVerified,
		}))
	}
	return out
}

// ObserverEvents converts synthetic browser events into the extension's
// batch format. The observer refuses events older than its retention (30
// days by default), so the year is folded into the four weeks before
// today: an event keeps its weekday and time of day, and lands on the
// same day of a 28-day cycle.
func ObserverEvents(evs []analysis.ObserverEvent, start, today time.Time) []observe.RawEvent {
	window := today.AddDate(0, 0, -28)
	out := make([]observe.RawEvent, 0, len(evs))
	for i, e := range evs {
		offset := e.At.Sub(start)
		day := int(offset / (24 * time.Hour))
		tod := offset - time.Duration(day)*24*time.Hour
		// start and window are 28·k days apart, so weekdays are kept.
		at := window.AddDate(0, 0, day%28).Add(tod)
		out = append(out, rawEvent(e, at, fmt.Sprintf("demo-%06d", i)))
	}
	return out
}

// rawEvent is e as the extension would post it, at the given time.
func rawEvent(e analysis.ObserverEvent, at time.Time, id string) observe.RawEvent {
	data := map[string]float64{}
	for k, v := range e.Data {
		if k == "speed" {
			k = "speed_px_s"
		}
		data[k] = v
	}
	raw, _ := json.Marshal(data)
	return observe.RawEvent{
		ClientEventID: id,
		Type:          e.Type,
		OccurredAt:    at.UTC().Format(time.RFC3339Nano),
		URL:           "https://" + e.Domain + "/",
		Data:          raw,
	}
}
