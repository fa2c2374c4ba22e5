// Package itemkey computes the ExternalIDs under which platform items are
// stored, so that the same item reaching twinme by different paths (the
// API poller, a data export) lands on the same row of user_platform_data.
// It is a leaf: pure functions, no dependencies on other twinme packages.
package itemkey

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"
)

// SpotifyPlayID returns the ExternalID of one play of a music track. The same
// play gets the same ID whichever of Spotify's three sources reports it:
//
//   - Web API recently-played: played_at (ISO-8601 UTC, ms precision), the
//     track name and the track's first artist (items[].track.artists[0].name);
//   - extended streaming history: ts ("stream end", UTC, second precision),
//     master_metadata_track_name and master_metadata_album_artist_name;
//   - account-data streaming history: endTime ("YYYY-MM-DD HH:MM", UTC),
//     trackName and artistName.
//
// The key is the end of the stream truncated to the minute plus the
// normalised artist and track names, because the account data has nothing
// finer: no track URI and minute precision. Trade-offs:
//
//   - What played_at denotes is not documented beyond "the date and time the
//     track was played" (Web API reference, PlayHistoryObject). Developers
//     observe it as the time the track ended, on some clients and days the
//     start (spotify/web-api issues #613 and #1083, both open), and a track
//     only appears in recently-played once it has finished. We treat it as
//     the end, like ts and endTime. Where a client reports the start instead, or the sources
//     disagree across a minute boundary (12:34:59 vs 12:35:00), the play is
//     stored twice; with sources seconds apart that is a few percent of
//     plays at worst, and most plays never reach more than one source.
//   - endTime is assumed truncated, not rounded, to the minute (unconfirmed).
//   - Two plays of the same track by the same artist ending within the same
//     minute (skipping back through a short track) collapse into one.
//   - The extended history names the album artist, the others a track
//     artist; they differ on compilations ("Various Artists"), where the
//     same play may then be stored once per source.
//
// Names are compared after Unicode NFKC normalisation, lower-casing and
// whitespace collapsing, so "Daft Punk" and "DAFT  PUNK" match.
func SpotifyPlayID(artist, track string, end time.Time) string {
	return minuteKey("play", end, artist, track)
}

// SpotifyEpisodePlayID is SpotifyPlayID for podcast episodes: the extended
// history's episode_show_name/episode_name and the account data's
// podcastName/episodeName, keyed on the same end minute.
func SpotifyEpisodePlayID(show, episode string, end time.Time) string {
	return minuteKey("episode", end, show, episode)
}

// SpotifyAudiobookPlayID is SpotifyPlayID for audiobook chapters
// (audiobook_title and audiobook_chapter_title of the extended history).
func SpotifyAudiobookPlayID(title, chapter string, end time.Time) string {
	return minuteKey("audiobook", end, title, chapter)
}

// YouTubeWatchID returns the ExternalID of one watch: the video ID and the
// watch time (Takeout gives milliseconds; no other source has watch history).
// A removed video has no ID; pass "" and the time alone keys it.
func YouTubeWatchID(videoID string, at time.Time) string {
	if videoID == "" {
		videoID = "removed"
	}
	return "watch:" + videoID + ":" + at.UTC().Format("20060102T150405.000Z")
}

// YouTubeSearchID returns the ExternalID of one search: its time plus a hash
// of the normalised query (the query itself is payload, not key).
func YouTubeSearchID(query string, at time.Time) string {
	return "search:" + at.UTC().Format("20060102T150405.000Z") + ":" + hashNames("search", query)
}

// minuteKey is "<kind>:<YYYYMMDDhhmm>:<hash of the names>". The minute stays
// readable so a key can be eyeballed against an export; the names are hashed
// so the key has a fixed length whatever the titles are.
func minuteKey(kind string, end time.Time, names ...string) string {
	return kind + ":" + end.UTC().Truncate(time.Minute).Format("200601021504") + ":" + hashNames(kind, names...)
}

func hashNames(kind string, names ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, n := range names {
		h.Write([]byte{0})
		h.Write([]byte(NormalizeName(n)))
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0])[:12])
}

// NormalizeName is the form names are compared in: NFKC, lower case, runs of
// white space collapsed to one space, trimmed.
func NormalizeName(s string) string {
	if isPlainASCII(s) {
		return strings.Join(strings.Fields(strings.ToLower(s)), " ")
	}
	return strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(s))), " ")
}

func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
