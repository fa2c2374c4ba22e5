package importer

import (
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/platform"
)

// Spotify "Account data" streaming history: StreamingHistory_music_<n>.json,
// an array of {"endTime":"2021-03-04 12:34","artistName":"…","trackName":"…",
// "msPlayed":215000}; endTime is UTC at minute precision (PROVIDERS.md §10).
type accountMusicRow struct {
	EndTime    *string `json:"endTime"`
	ArtistName *string `json:"artistName"`
	TrackName  *string `json:"trackName"`
	MsPlayed   *int64  `json:"msPlayed"`
}

// StreamingHistory_podcast_<n>.json: {"endTime","podcastName","episodeName","msPlayed"}.
type accountPodcastRow struct {
	EndTime     *string `json:"endTime"`
	PodcastName *string `json:"podcastName"`
	EpisodeName *string `json:"episodeName"`
	MsPlayed    *int64  `json:"msPlayed"`
}

const accountTimeLayout = "2006-01-02 15:04"

// Payloads are the stored types of internal/platform/payloads.go, which
// analysis decodes: field names are the normalised vocabulary analysis
// reads; the source says which export the row came from.

// PlayPayload is a Spotify play as the exports store it (account data and
// extended streaming history; the richer fields only from the latter).
type PlayPayload = platform.SpotifyExportPlayPayload

const (
	sourceAccountData = platform.SourceSpotifyAccountData
	sourceExtended    = platform.SourceSpotifyExtendedHistory
	sourceTakeout     = platform.SourceTakeout
)

func parseAccountMusic(fs *fileState, r io.Reader) error {
	const expected = "a Spotify account-data streaming history (objects with endTime, artistName, trackName, msPlayed)"
	return streamArray(fs, r, expected,
		func(v *accountMusicRow) bool { return v.EndTime != nil && (v.TrackName != nil || v.ArtistName != nil) },
		func(n int, v *accountMusicRow) error {
			end, reason := fs.accountTime(v.EndTime)
			if reason != "" {
				fs.reject(n, reason)
				return nil
			}
			track, artist := fs.str(v.TrackName), fs.str(v.ArtistName)
			if track == "" {
				fs.reject(n, "missing trackName")
				return nil
			}
			ms, reason := msPlayed(v.MsPlayed, "msPlayed")
			if reason != "" {
				fs.reject(n, reason)
				return nil
			}
			return fs.emit(Record{
				Platform:   PlatformSpotify,
				DataType:   DataPlay,
				ExternalID: SpotifyPlayID(artist, track, end),
				OccurredAt: end,
				Payload:    mustJSON(PlayPayload{Source: sourceAccountData, Track: track, Artist: artist, MsPlayed: ms}),
			})
		})
}

func parseAccountPodcast(fs *fileState, r io.Reader) error {
	const expected = "a Spotify account-data podcast history (objects with endTime, podcastName, episodeName, msPlayed)"
	return streamArray(fs, r, expected,
		func(v *accountPodcastRow) bool {
			return v.EndTime != nil && (v.PodcastName != nil || v.EpisodeName != nil)
		},
		func(n int, v *accountPodcastRow) error {
			end, reason := fs.accountTime(v.EndTime)
			if reason != "" {
				fs.reject(n, reason)
				return nil
			}
			show, episode := fs.str(v.PodcastName), fs.str(v.EpisodeName)
			if episode == "" {
				fs.reject(n, "missing episodeName")
				return nil
			}
			ms, reason := msPlayed(v.MsPlayed, "msPlayed")
			if reason != "" {
				fs.reject(n, reason)
				return nil
			}
			return fs.emit(Record{
				Platform:   PlatformSpotify,
				DataType:   DataEpisodePlay,
				ExternalID: SpotifyEpisodePlayID(show, episode, end),
				OccurredAt: end,
				Payload:    mustJSON(platform.SpotifyEpisodePlayPayload{Source: sourceAccountData, Show: show, Episode: episode, MsPlayed: ms}),
			})
		})
}

func (fs *fileState) accountTime(p *string) (time.Time, string) {
	s := fs.str(p)
	if s == "" {
		return time.Time{}, "missing endTime"
	}
	t, err := time.Parse(accountTimeLayout, s)
	if err != nil {
		return time.Time{}, "bad endTime " + quoteShort(s)
	}
	return t, fs.checkTime(t)
}

// extendedRow is one element of the extended streaming history
// (Streaming_History_Audio_*.json, endsong_*.json). Fields absent from this
// struct are never decoded: username, ip_addr, ip_addr_decrypted and
// user_agent_decrypted identify the person or their network and are dropped
// on read (privacy), as are offline_timestamp and the episode/audiobook
// fields we do not analyse.
type extendedRow struct {
	Ts              *string `json:"ts"`
	Platform        string  `json:"platform"`
	MsPlayed        *int64  `json:"ms_played"`
	ConnCountry     string  `json:"conn_country"`
	TrackName       string  `json:"master_metadata_track_name"`
	AlbumArtistName string  `json:"master_metadata_album_artist_name"`
	AlbumName       string  `json:"master_metadata_album_album_name"`
	TrackURI        string  `json:"spotify_track_uri"`
	EpisodeName     string  `json:"episode_name"`
	EpisodeShowName string  `json:"episode_show_name"`
	EpisodeURI      string  `json:"spotify_episode_uri"`
	AudiobookTitle  string  `json:"audiobook_title"`
	AudiobookURI    string  `json:"audiobook_uri"`
	ChapterURI      string  `json:"audiobook_chapter_uri"`
	ChapterTitle    string  `json:"audiobook_chapter_title"`
	ReasonStart     string  `json:"reason_start"`
	ReasonEnd       string  `json:"reason_end"`
	Shuffle         *bool   `json:"shuffle"`
	Skipped         *bool   `json:"skipped"`
	Offline         *bool   `json:"offline"`
	IncognitoMode   *bool   `json:"incognito_mode"`
}

const expectedExtended = "a Spotify extended streaming history (objects with ts, ms_played, master_metadata_track_name …)"

func confirmExtended(v *extendedRow) bool { return v.Ts != nil && v.MsPlayed != nil }

// Skip reasons of the extended history.
const (
	skipPrivateSession = "played in a private session"
	skipNoMetadata     = "no track, episode or audiobook metadata"
	skipVideo          = "video stream (not imported)"
)

func parseExtended(fs *fileState, r io.Reader) error {
	return streamArray(fs, r, expectedExtended, confirmExtended, func(n int, v *extendedRow) error {
		ts := fs.str(v.Ts)
		if ts == "" {
			fs.reject(n, "missing ts")
			return nil
		}
		end, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			fs.reject(n, "bad ts "+quoteShort(ts))
			return nil
		}
		end = end.UTC()
		if reason := fs.checkTime(end); reason != "" {
			fs.reject(n, reason)
			return nil
		}
		ms, reason := msPlayed(v.MsPlayed, "ms_played")
		if reason != "" {
			fs.reject(n, reason)
			return nil
		}
		// A private session is the user telling Spotify not to use those
		// plays; the Web API leaves them out of recently-played too, so the
		// soul signature does not learn from them either.
		if v.IncognitoMode != nil && *v.IncognitoMode {
			fs.skip(skipPrivateSession)
			return nil
		}
		device, country := deviceClass(v.Platform), strings.ToUpper(strings.TrimSpace(v.ConnCountry))
		track, artist := fs.name(v.TrackName), fs.name(v.AlbumArtistName)
		switch {
		case track != "":
			return fs.emit(Record{
				Platform:   PlatformSpotify,
				DataType:   DataPlay,
				ExternalID: SpotifyPlayID(artist, track, end),
				OccurredAt: end,
				Payload: mustJSON(PlayPayload{
					Source: sourceExtended, Track: track, Artist: artist,
					Album: fs.name(v.AlbumName), TrackURI: fs.name(v.TrackURI), MsPlayed: ms,
					Device: device, Country: country, ReasonStart: fs.name(v.ReasonStart), ReasonEnd: fs.name(v.ReasonEnd),
					Shuffle: v.Shuffle, Skipped: v.Skipped, Offline: v.Offline,
				}),
			})
		case fs.name(v.EpisodeName) != "":
			show, episode := fs.name(v.EpisodeShowName), fs.name(v.EpisodeName)
			return fs.emit(Record{
				Platform:   PlatformSpotify,
				DataType:   DataEpisodePlay,
				ExternalID: SpotifyEpisodePlayID(show, episode, end),
				OccurredAt: end,
				Payload: mustJSON(platform.SpotifyEpisodePlayPayload{
					Source: sourceExtended, Show: show, Episode: episode, EpisodeURI: fs.name(v.EpisodeURI),
					MsPlayed: ms, Device: device, Country: country,
					ReasonStart: fs.name(v.ReasonStart), ReasonEnd: fs.name(v.ReasonEnd), Skipped: v.Skipped, Offline: v.Offline,
				}),
			})
		case fs.name(v.AudiobookTitle) != "" || fs.name(v.ChapterTitle) != "":
			title, chapter := fs.name(v.AudiobookTitle), fs.name(v.ChapterTitle)
			return fs.emit(Record{
				Platform:   PlatformSpotify,
				DataType:   DataAudiobookPlay,
				ExternalID: SpotifyAudiobookPlayID(title, chapter, end),
				OccurredAt: end,
				Payload: mustJSON(platform.SpotifyAudiobookPlayPayload{
					Source: sourceExtended, Title: title, Chapter: chapter, URI: fs.name(v.AudiobookURI),
					ChapterURI: fs.name(v.ChapterURI), MsPlayed: ms, Device: device, Country: country,
				}),
			})
		default:
			// Local files and some very short streams come with every
			// metadata field null: nothing to say what was played.
			fs.skip(skipNoMetadata)
			return nil
		}
	})
}

// parseExtendedVideo reads Streaming_History_Video_*.json to the end (so a
// corrupt file is still reported) and counts every element as skipped.
func parseExtendedVideo(fs *fileState, r io.Reader) error {
	return streamArray(fs, r, expectedExtended, confirmExtended, func(int, *extendedRow) error {
		fs.skip(skipVideo)
		return nil
	})
}

func msPlayed(p *int64, field string) (int64, string) {
	if p == nil {
		return 0, "missing " + field
	}
	if *p < 0 {
		return 0, field + " is negative"
	}
	return *p, ""
}

// deviceClass reduces the extended history's platform string (e.g.
// "Android OS 9 API 28 (samsung, SM-G960F)", "iOS 14.4 (iPhone12,1)",
// "Windows 10 (10.0.19041; x64)", "web_player windows 10;chrome 87…") to a
// coarse class: the exact device model and OS build say more about the
// person than analysis needs.
func deviceClass(platform string) string {
	p := strings.ToLower(platform)
	switch {
	case p == "":
		return ""
	case strings.Contains(p, "web_player"), strings.Contains(p, "web player"), strings.Contains(p, "webplayer"):
		return "web"
	case strings.Contains(p, "android"):
		return "android"
	case strings.Contains(p, "ios"), strings.Contains(p, "iphone"), strings.Contains(p, "ipad"):
		return "ios"
	case strings.Contains(p, "windows"):
		return "windows"
	case strings.Contains(p, "os x"), strings.Contains(p, "osx"), strings.Contains(p, "macos"):
		return "macos"
	case strings.Contains(p, "linux"):
		return "linux"
	}
	return "other"
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		// Only plain structs of strings, numbers and bools reach here.
		panic("importer: marshal payload: " + err.Error())
	}
	return b
}

// quoteShort quotes s for a rejection reason, cut to a readable length.
func quoteShort(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return strconv.Quote(s)
}
