package soul

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/store"
)

// Platforms and data types Load reads, as the importer and the platform
// streams store them (internal/ingest/importer, internal/platform/sync_*.go).
const (
	platformSpotify  = "spotify"
	platformYouTube  = "youtube"
	platformGitHub   = "github"
	platformDiscord  = "discord"
	platformGmail    = "gmail"
	platformLinkedIn = "linkedin"

	dataPlay         = "play"         // importer.DataPlay, Spotify recently-played
	dataTopArtist    = "top_artist"   // platform.DataSpotifyTopArtist
	dataWatch        = "watch"        // importer.DataWatch (Takeout)
	dataLikedVideo   = "liked_video"  // platform.DataYouTubeLikedVideo
	dataSubscription = "subscription" // platform.DataYouTubeSubscription
	dataEvent        = "event"        // platform.DataGitHubEvent
	dataRepo         = "repo"         // platform.DataGitHubRepo
	dataGuild        = "guild"        // platform.DataDiscordGuild
	dataMessage      = "message"      // platform.DataGmailMessage
	dataProfile      = "profile"      // platform.DataLinkedInProfile
)

// decoded unmarshals a row's payload into v; false (and a skip) when it
// does not parse.
func decoded(r store.DataRow, v any, skipped *int) bool {
	if err := json.Unmarshal(r.Payload, v); err != nil {
		*skipped++
		return false
	}
	return true
}

// Load reads everything stored of userID (platform data and observer
// events) into the analyser's input. Rows are streamed, one query per data
// type, oldest first: only the row being decoded is held besides the input,
// which keeps one small struct per item.
//
// Payload shapes (source of each: importer for exports, platform streams
// for API items):
//   - spotify play: {track, artist, track_uri, ms_played, skipped,
//     reason_end} from exports; {track, artists[], track_id, track_uri,
//     duration_ms} from recently-played (no skip data: the API has none,
//     and ms_played is taken as the track's duration).
//   - spotify top_artist: {name, genres[]}: genres reach plays by artist
//     name, as neither plays source names genres.
//   - youtube liked_video: {title, channel_title, category_id}; watch
//     (Takeout): {title, channel, removed}. Subscriptions have no
//     counterpart in the analyser's input and are not read.
//   - github event: {type, repo}; repo: {full_name, language, languages,
//     stargazers_count}; an event's language is its repository's.
//   - discord guild: {name, owner}; gmail message: {label_ids, from};
//     linkedin profile: the OIDC userinfo fields.
//   - observer events: their whitelisted numeric data; scroll speed is
//     stored as speed_px_s and read as the analyser's "speed".
func (s *Service) Load(ctx context.Context, userID string) (analysis.Input, error) {
	var in analysis.Input
	skipped := 0
	load := func(platform, dataType string, fn func(r store.DataRow) error) error {
		if err := s.db.EachPlatformData(ctx, userID, platform, dataType, fn); err != nil {
			return fmt.Errorf("soul: load %s %s: %w", platform, dataType, err)
		}
		return nil
	}

	// Genres first, so plays can take them as they are read. Rows come
	// oldest first: the latest snapshot naming an artist wins.
	genres := map[string][]string{}
	if err := load(platformSpotify, dataTopArtist, func(r store.DataRow) error {
		var p struct {
			Name   string   `json:"name"`
			Genres []string `json:"genres"`
		}
		if decoded(r, &p, &skipped) && p.Name != "" && len(p.Genres) > 0 {
			genres[strings.ToLower(strings.TrimSpace(p.Name))] = p.Genres
		}
		return nil
	}); err != nil {
		return in, err
	}
	if err := load(platformSpotify, dataPlay, func(r store.DataRow) error {
		var p struct {
			Track      string   `json:"track"`
			Artist     string   `json:"artist"`
			Artists    []string `json:"artists"`
			TrackURI   string   `json:"track_uri"`
			MsPlayed   *int     `json:"ms_played"`
			DurationMS int      `json:"duration_ms"`
			Skipped    *bool    `json:"skipped"`
			ReasonEnd  string   `json:"reason_end"`
		}
		if !decoded(r, &p, &skipped) {
			return nil
		}
		artist := p.Artist
		if artist == "" && len(p.Artists) > 0 {
			artist = p.Artists[0]
		}
		pl := analysis.Play{At: r.OccurredAt, TrackID: p.TrackURI, Track: p.Track, Artist: artist,
			MsPlayed: p.DurationMS, Skipped: p.Skipped, ReasonEnd: p.ReasonEnd}
		if p.MsPlayed != nil {
			pl.MsPlayed = *p.MsPlayed
		}
		pl.Genres = genres[strings.ToLower(strings.TrimSpace(artist))]
		in.Plays = append(in.Plays, pl)
		return nil
	}); err != nil {
		return in, err
	}

	if err := load(platformYouTube, dataLikedVideo, func(r store.DataRow) error {
		var p struct {
			Title        string `json:"title"`
			ChannelTitle string `json:"channel_title"`
			CategoryID   string `json:"category_id"`
		}
		if decoded(r, &p, &skipped) {
			in.Videos = append(in.Videos, analysis.Video{At: r.OccurredAt, Title: p.Title, Channel: p.ChannelTitle,
				CategoryID: p.CategoryID, Source: analysis.VideoLike})
		}
		return nil
	}); err != nil {
		return in, err
	}
	if err := load(platformYouTube, dataWatch, func(r store.DataRow) error {
		var p struct {
			Title   string `json:"title"`
			Channel string `json:"channel"`
		}
		if decoded(r, &p, &skipped) {
			in.Videos = append(in.Videos, analysis.Video{At: r.OccurredAt, Title: p.Title, Channel: p.Channel, Source: analysis.VideoWatch})
		}
		return nil
	}); err != nil {
		return in, err
	}

	repoLang := map[string]string{}
	if err := load(platformGitHub, dataRepo, func(r store.DataRow) error {
		var p struct {
			FullName  string         `json:"full_name"`
			Language  string         `json:"language"`
			Languages map[string]int `json:"languages"`
			Stars     int            `json:"stargazers_count"`
		}
		if decoded(r, &p, &skipped) && p.FullName != "" {
			in.Repos = append(in.Repos, analysis.Repo{Name: p.FullName, Language: p.Language, Languages: p.Languages, Stars: p.Stars})
			repoLang[p.FullName] = p.Language
		}
		return nil
	}); err != nil {
		return in, err
	}
	if err := load(platformGitHub, dataEvent, func(r store.DataRow) error {
		var p struct {
			Type string `json:"type"`
			Repo string `json:"repo"`
		}
		if decoded(r, &p, &skipped) && p.Type != "" {
			in.CodeEvents = append(in.CodeEvents, analysis.CodeEvent{At: r.OccurredAt, Type: p.Type, Repo: p.Repo, Language: repoLang[p.Repo]})
		}
		return nil
	}); err != nil {
		return in, err
	}

	if err := load(platformDiscord, dataGuild, func(r store.DataRow) error {
		var p struct {
			Name  string `json:"name"`
			Owner bool   `json:"owner"`
		}
		if decoded(r, &p, &skipped) {
			in.Guilds = append(in.Guilds, analysis.Guild{Name: p.Name, Owner: p.Owner})
		}
		return nil
	}); err != nil {
		return in, err
	}
	if err := load(platformGmail, dataMessage, func(r store.DataRow) error {
		var p struct {
			LabelIDs []string `json:"label_ids"`
			From     string   `json:"from"`
		}
		if decoded(r, &p, &skipped) {
			in.Mails = append(in.Mails, analysis.Mail{At: r.OccurredAt, From: p.From, Labels: p.LabelIDs})
		}
		return nil
	}); err != nil {
		return in, err
	}
	if err := load(platformLinkedIn, dataProfile, func(r store.DataRow) error {
		var p struct {
			Sub           string `json:"sub"`
			Name          string `json:"name"`
			GivenName     string `json:"given_name"`
			FamilyName    string `json:"family_name"`
			Picture       string `json:"picture"`
			Locale        string `json:"locale"`
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
		}
		if decoded(r, &p, &skipped) && p.Sub != "" { // oldest first: the latest profile wins
			in.LinkedIn = &analysis.Profile{Sub: p.Sub, Name: p.Name, GivenName: p.GivenName, FamilyName: p.FamilyName,
				Picture: p.Picture, Email: p.Email, EmailVerified: p.EmailVerified, Locale: p.Locale}
		}
		return nil
	}); err != nil {
		return in, err
	}

	if err := s.db.EachObserverEvent(ctx, userID, func(r store.EventRow) error {
		in.Observer = append(in.Observer, analysis.ObserverEvent{At: r.OccurredAt, Type: r.Type, Domain: r.Domain, Data: observerData(r.Data)})
		return nil
	}); err != nil {
		return in, fmt.Errorf("soul: load observer events: %w", err)
	}
	if skipped > 0 {
		s.log.Warn("soul: skipped unreadable payloads", slog.Int("skipped", skipped))
	}
	// Videos come from two data types; the analyser reads time series
	// oldest first.
	slices.SortStableFunc(in.Plays, func(a, b analysis.Play) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(in.Videos, func(a, b analysis.Video) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(in.CodeEvents, func(a, b analysis.CodeEvent) int { return a.At.Compare(b.At) })
	slices.SortStableFunc(in.Mails, func(a, b analysis.Mail) int { return a.At.Compare(b.At) })
	return in, nil
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
