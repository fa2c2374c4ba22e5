package soul

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// A reader turns the stored rows of one platform's data type into the
// analyser's input. It decodes each row into the payload type the row's
// writers encode (internal/platform/payloads.go); an error means the row
// does not parse and is skipped.
type reader struct {
	platform platform.ID
	dataType platform.DataType
	read     func(l *loader, r store.DataRow) error
}

// readers, in the order Load runs them: genres before plays, so plays take
// their artist's genres as they are read, and repositories before events,
// which take their repository's language. The other stored data types
// (Spotify episode and audiobook plays and top tracks; YouTube's channel,
// subscriptions and searches; GitHub stars; Slack) have no counterpart in
// the analyser's input and are not read.
var readers = []reader{
	{platform.Spotify, platform.DataSpotifyTopArtist, (*loader).topArtist},
	{platform.Spotify, platform.DataSpotifyPlay, (*loader).play},
	{platform.YouTube, platform.DataYouTubeLikedVideo, (*loader).likedVideo},
	{platform.YouTube, platform.DataYouTubeWatch, (*loader).watch},
	{platform.GitHub, platform.DataGitHubRepo, (*loader).repo},
	{platform.GitHub, platform.DataGitHubEvent, (*loader).event},
	{platform.Discord, platform.DataDiscordGuild, (*loader).guild},
	{platform.Gmail, platform.DataGmailMessage, (*loader).mail},
	{platform.LinkedIn, platform.DataLinkedInProfile, (*loader).profile},
}

// loader builds one user's input as the rows are read, oldest first.
type loader struct {
	in       analysis.Input
	genres   map[string][]string // artistKey → the latest genres named
	repoLang map[string]string   // repository full name → language
	skipped  int                 // rows that did not parse
}

// Load reads everything stored of userID (platform data and observer
// events) into the analyser's input. Rows are streamed, one query per data
// type, oldest first: only the row being decoded is held besides the input,
// which keeps one small struct per item. Observer events keep their
// whitelisted numeric data.
func (s *Service) Load(ctx context.Context, userID string) (analysis.Input, error) {
	l := loader{genres: map[string][]string{}, repoLang: map[string]string{}}
	for _, rd := range readers {
		err := s.db.EachPlatformData(ctx, userID, string(rd.platform), string(rd.dataType), func(r store.DataRow) error {
			if rd.read(&l, r) != nil {
				l.skipped++
			}
			return nil
		})
		if err != nil {
			return l.in, fmt.Errorf("soul: load %s %s: %w", rd.platform, rd.dataType, err)
		}
	}
	if err := s.db.EachObserverEvent(ctx, userID, l.observerEvent); err != nil {
		return l.in, fmt.Errorf("soul: load observer events: %w", err)
	}
	if l.skipped > 0 {
		s.log.Warn("soul: skipped unreadable payloads", slog.Int("skipped", l.skipped))
	}
	l.sortByTime()
	return l.in, nil
}

// sortByTime orders the time series oldest first, as the analyser reads
// them: videos come from two data types.
func (l *loader) sortByTime() {
	slices.SortStableFunc(l.in.Plays, func(a, b analysis.Play) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(l.in.Videos, func(a, b analysis.Video) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(l.in.CodeEvents, func(a, b analysis.CodeEvent) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(l.in.Mails, func(a, b analysis.Mail) int { return a.At.Compare(b.At) })
}

// artistKey is how plays find their artist's genres: neither plays source
// names genres, top artists do.
func artistKey(name string) string { return strings.ToLower(strings.TrimSpace(name)) }

// topArtist keeps an artist's genres; the latest snapshot naming an artist
// wins.
func (l *loader) topArtist(r store.DataRow) error {
	var p platform.SpotifyTopArtistPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	if p.Name != "" && len(p.Genres) > 0 {
		l.genres[artistKey(p.Name)] = p.Genres
	}
	return nil
}

// play reads a play in its source's shape. From the API: no skip data (the
// API has none), the first artist, and the track's duration taken as the
// time played. A row labelled "api" without the API's fields is read in
// the exports' shape, as every play was read before the two were told
// apart.
func (l *loader) play(r store.DataRow) error {
	if string(r.Source) == platform.SourceAPI {
		var p platform.SpotifyPlayPayload
		if err := json.Unmarshal(r.Payload, &p); err != nil {
			return err
		}
		if len(p.Artists) > 0 || p.DurationMS > 0 {
			pl := analysis.Play{TrackID: p.TrackURI, Track: p.Track, MsPlayed: int(p.DurationMS)}
			if len(p.Artists) > 0 {
				pl.Artist = p.Artists[0]
			}
			l.addPlay(r, pl)
			return nil
		}
	}
	var p platform.SpotifyExportPlayPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	l.addPlay(r, analysis.Play{TrackID: p.TrackURI, Track: p.Track, Artist: p.Artist,
		MsPlayed: int(p.MsPlayed), Skipped: p.Skipped, ReasonEnd: p.ReasonEnd})
	return nil
}

func (l *loader) addPlay(r store.DataRow, pl analysis.Play) {
	pl.At = r.OccurredAt
	pl.Genres = l.genres[artistKey(pl.Artist)]
	l.in.Plays = append(l.in.Plays, pl)
}

func (l *loader) likedVideo(r store.DataRow) error {
	var p platform.YouTubeLikedVideoPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	l.in.Videos = append(l.in.Videos, analysis.Video{At: r.OccurredAt, Title: p.Title, Channel: p.ChannelTitle,
		CategoryID: p.CategoryID, Source: analysis.VideoLike})
	return nil
}

// watch reads a Takeout watch; a removed video has no title or channel.
func (l *loader) watch(r store.DataRow) error {
	var p platform.YouTubeWatchPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	l.in.Videos = append(l.in.Videos, analysis.Video{At: r.OccurredAt, Title: p.Title, Channel: p.Channel, Source: analysis.VideoWatch})
	return nil
}

func (l *loader) repo(r store.DataRow) error {
	var p platform.GitHubRepoPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	if p.FullName == "" {
		return nil
	}
	var langs map[string]int
	if p.Languages != nil {
		langs = make(map[string]int, len(p.Languages))
		for lang, n := range p.Languages {
			langs[lang] = int(n)
		}
	}
	l.in.Repos = append(l.in.Repos, analysis.Repo{Name: p.FullName, Language: p.Language, Languages: langs, Stars: p.Stars})
	l.repoLang[p.FullName] = p.Language
	return nil
}

// event reads a GitHub event; its language is its repository's.
func (l *loader) event(r store.DataRow) error {
	var p platform.GitHubEventPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	if p.Type != "" {
		l.in.CodeEvents = append(l.in.CodeEvents, analysis.CodeEvent{At: r.OccurredAt, Type: p.Type, Repo: p.Repo, Language: l.repoLang[p.Repo]})
	}
	return nil
}

func (l *loader) guild(r store.DataRow) error {
	var p platform.DiscordGuildPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	l.in.Guilds = append(l.in.Guilds, analysis.Guild{Name: p.Name, Owner: p.Owner})
	return nil
}

func (l *loader) mail(r store.DataRow) error {
	var p platform.GmailMessagePayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	l.in.Mails = append(l.in.Mails, analysis.Mail{At: r.OccurredAt, From: p.From, Labels: p.LabelIDs})
	return nil
}

// profile reads the LinkedIn userinfo; rows come oldest first, so the
// latest profile wins.
func (l *loader) profile(r store.DataRow) error {
	var p platform.LinkedInProfilePayload
	if err := json.Unmarshal(r.Payload, &p); err != nil {
		return err
	}
	if p.Sub != "" {
		l.in.LinkedIn = &analysis.Profile{Sub: p.Sub, Name: p.Name, GivenName: p.GivenName, FamilyName: p.FamilyName,
			Picture: p.Picture, Email: p.Email, EmailVerified: p.EmailVerified, Locale: p.Locale}
	}
	return nil
}

func (l *loader) observerEvent(r store.EventRow) error {
	l.in.Observer = append(l.in.Observer, analysis.ObserverEvent{At: r.OccurredAt, Type: r.Type, Domain: r.Domain, Data: observerData(r.Data)})
	return nil
}

// observerData keeps the numeric fields of a stored event's data; the
// extension's scroll speed field is renamed to the analyser's.
func observerData(raw []byte) map[string]float64 {
	if len(raw) == 0 || string(raw) == "{}" {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		f, ok := v.(float64)
		if !ok {
			continue
		}
		if k == "speed_px_s" {
			k = "speed"
		}
		out[k] = f
	}
	return out
}
