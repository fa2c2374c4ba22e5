package importer

import (
	"time"

	"github.com/twinme/twinme/internal/itemkey"
)

// The ID functions live in internal/itemkey, shared with the API poller so
// that an exported play and the same play read from the Web API get one
// ExternalID. These names stay for the importer's callers; see itemkey for
// how each key is built and its trade-offs.

// SpotifyPlayID is itemkey.SpotifyPlayID.
func SpotifyPlayID(artist, track string, end time.Time) string {
	return itemkey.SpotifyPlayID(artist, track, end)
}

// SpotifyEpisodePlayID is itemkey.SpotifyEpisodePlayID.
func SpotifyEpisodePlayID(show, episode string, end time.Time) string {
	return itemkey.SpotifyEpisodePlayID(show, episode, end)
}

// SpotifyAudiobookPlayID is itemkey.SpotifyAudiobookPlayID.
func SpotifyAudiobookPlayID(title, chapter string, end time.Time) string {
	return itemkey.SpotifyAudiobookPlayID(title, chapter, end)
}

// YouTubeWatchID is itemkey.YouTubeWatchID.
func YouTubeWatchID(videoID string, at time.Time) string { return itemkey.YouTubeWatchID(videoID, at) }

// YouTubeSearchID is itemkey.YouTubeSearchID.
func YouTubeSearchID(query string, at time.Time) string { return itemkey.YouTubeSearchID(query, at) }

// NormalizeName is itemkey.NormalizeName.
func NormalizeName(s string) string { return itemkey.NormalizeName(s) }
