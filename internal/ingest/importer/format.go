package importer

import (
	"path"
	"regexp"
	"strings"
)

// Format is a kind of export file this package reads.
type Format string

// Formats, with the file names they are recognised by (PROVIDERS.md §10).
// A browser's " (1)" suffix on a downloaded copy is tolerated.
const (
	// FormatSpotifyAccountMusic: "Account data" StreamingHistory_music_<n>.json,
	// older StreamingHistory<n>.json.
	FormatSpotifyAccountMusic Format = "spotify_account_music"
	// FormatSpotifyAccountPodcast: "Account data" StreamingHistory_podcast_<n>.json.
	FormatSpotifyAccountPodcast Format = "spotify_account_podcast"
	// FormatSpotifyExtended: "Extended streaming history"
	// Streaming_History_Audio_<years>_<n>.json, older endsong_<n>.json.
	FormatSpotifyExtended Format = "spotify_extended"
	// FormatSpotifyExtendedVideo: Streaming_History_Video_<years>.json; read
	// and counted as skipped (video streams are not analysed).
	FormatSpotifyExtendedVideo Format = "spotify_extended_video"
	// FormatYouTubeWatch: Takeout watch-history.json.
	FormatYouTubeWatch Format = "youtube_watch_history"
	// FormatYouTubeSearch: Takeout search-history.json.
	FormatYouTubeSearch Format = "youtube_search_history"
)

var formatNames = []struct {
	re       *regexp.Regexp
	format   Format
	platform string
}{
	{regexp.MustCompile(`^StreamingHistory(_music_)?\d+( \(\d+\))?\.json$`), FormatSpotifyAccountMusic, PlatformSpotify},
	{regexp.MustCompile(`^StreamingHistory_podcast_\d+( \(\d+\))?\.json$`), FormatSpotifyAccountPodcast, PlatformSpotify},
	{regexp.MustCompile(`^(Streaming_History_Audio_[0-9_-]+|endsong_\d+)( \(\d+\))?\.json$`), FormatSpotifyExtended, PlatformSpotify},
	{regexp.MustCompile(`^Streaming_History_Video_[0-9_-]+( \(\d+\))?\.json$`), FormatSpotifyExtendedVideo, PlatformSpotify},
	{regexp.MustCompile(`^watch-history( \(\d+\))?\.json$`), FormatYouTubeWatch, PlatformYouTube},
	{regexp.MustCompile(`^search-history( \(\d+\))?\.json$`), FormatYouTubeSearch, PlatformYouTube},
}

// DetectFormat tells the format of a file from its name (the last path
// element, any directories before it are ignored) and the platform it
// belongs to. The content is checked later, when the file is read.
// Takeout's localized file names (non-English accounts) are not recognised.
func DetectFormat(name string) (f Format, platform string, ok bool) {
	base := path.Base(strings.ReplaceAll(name, `\`, "/"))
	for _, fn := range formatNames {
		if fn.re.MatchString(base) {
			return fn.format, fn.platform, true
		}
	}
	return "", "", false
}

// expectedNames describes, for an error message, the files a platform accepts.
func expectedNames(platform string) string {
	switch platform {
	case PlatformSpotify:
		return "StreamingHistory_music_<n>.json, StreamingHistory_podcast_<n>.json, Streaming_History_Audio_<years>_<n>.json or endsong_<n>.json"
	case PlatformYouTube:
		return "watch-history.json or search-history.json (Takeout, JSON format)"
	}
	return "a known export file"
}
