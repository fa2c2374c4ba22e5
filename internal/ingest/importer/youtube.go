package importer

import (
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/platform"
)

// Google Takeout YouTube history (watch-history.json, search-history.json).
// Google publishes no schema; the shape below is the one observed in real
// exports (PROVIDERS.md §10):
//
//	{"header":"YouTube","title":"Watched Solar",
//	 "titleUrl":"https://www.youtube.com/watch?v=-e8Nfjl_AKk",
//	 "subtitles":[{"name":"Sault - Topic","url":"https://www.youtube.com/channel/UC…"}],
//	 "time":"2022-04-25T18:09:04.784Z","products":["YouTube"],
//	 "activityControls":["YouTube watch history"]}
//
// Titles are localized ("… angesehen"); removed videos have no titleUrl and
// no subtitles; ads carry "details":[{"name":"From Google Ads"}].
type takeoutRow struct {
	Header    *string `json:"header"`
	Title     *string `json:"title"`
	TitleURL  string  `json:"titleUrl"`
	Time      *string `json:"time"`
	Subtitles []struct {
		Name string `json:"name"`
		URL  string `json:"url"`
	} `json:"subtitles"`
	Details []struct {
		Name string `json:"name"`
	} `json:"details"`
}

// Skip reasons of Takeout rows.
const (
	skipAd       = "ad shown by Google Ads"
	skipNotVideo = "not a video (post, channel or other activity)"
	skipNoQuery  = "search without a query"
)

// Ads are skipped, not imported: they are what YouTube showed, not what the
// person chose to watch, and would skew every interest signal. They are
// counted under skipAd so the user sees they were seen and left out.
func isAd(v *takeoutRow) bool {
	for _, d := range v.Details {
		if strings.Contains(strings.ToLower(d.Name), "google ads") {
			return true
		}
	}
	return false
}

func (fs *fileState) takeoutTime(n int, v *takeoutRow) (time.Time, bool) {
	s := fs.str(v.Time)
	if s == "" {
		fs.reject(n, "missing time")
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		fs.reject(n, "bad time "+quoteShort(s))
		return time.Time{}, false
	}
	t = t.UTC()
	if reason := fs.checkTime(t); reason != "" {
		fs.reject(n, reason)
		return time.Time{}, false
	}
	return t, true
}

func confirmTakeout(v *takeoutRow) bool { return v.Time != nil && (v.Title != nil || v.Header != nil) }

func parseWatchHistory(fs *fileState, r io.Reader) error {
	const expected = "a Google Takeout YouTube watch history (JSON, objects with title, titleUrl, time)"
	confirm := func(v *takeoutRow) bool {
		return confirmTakeout(v) && !isSearchURL(v.TitleURL)
	}
	return streamArray(fs, r, expected, confirm, func(n int, v *takeoutRow) error {
		at, ok := fs.takeoutTime(n, v)
		if !ok {
			return nil
		}
		if isAd(v) {
			fs.skip(skipAd)
			return nil
		}
		music := fs.str(v.Header) == "YouTube Music"
		if v.TitleURL == "" {
			// "Watched a video that has been removed" (localized): we know
			// that and when, not what. Kept for rhythm and volume signals.
			return fs.emit(Record{
				Platform:   PlatformYouTube,
				DataType:   DataWatch,
				ExternalID: YouTubeWatchID("", at),
				OccurredAt: at,
				Payload:    mustJSON(platform.YouTubeWatchPayload{Source: sourceTakeout, Removed: true, Music: music}),
			})
		}
		id, isVideo := videoID(v.TitleURL)
		if !isVideo {
			fs.skip(skipNotVideo)
			return nil
		}
		if id == "" {
			fs.reject(n, "bad video URL "+quoteShort(v.TitleURL))
			return nil
		}
		p := platform.YouTubeWatchPayload{Source: sourceTakeout, VideoID: id, Music: music}
		p.Title, p.TitleRaw = stripWatched(fs.str(v.Title))
		if len(v.Subtitles) > 0 {
			p.Channel = fs.name(v.Subtitles[0].Name)
			p.ChannelID = channelID(v.Subtitles[0].URL)
		}
		return fs.emit(Record{
			Platform:   PlatformYouTube,
			DataType:   DataWatch,
			ExternalID: YouTubeWatchID(id, at),
			OccurredAt: at,
			Payload:    mustJSON(p),
		})
	})
}

func parseSearchHistory(fs *fileState, r io.Reader) error {
	const expected = "a Google Takeout YouTube search history (JSON, objects with title, titleUrl, time)"
	confirm := func(v *takeoutRow) bool {
		return confirmTakeout(v) && !strings.Contains(v.TitleURL, "watch?v=")
	}
	return streamArray(fs, r, expected, confirm, func(n int, v *takeoutRow) error {
		at, ok := fs.takeoutTime(n, v)
		if !ok {
			return nil
		}
		if isAd(v) {
			fs.skip(skipAd)
			return nil
		}
		// The query is read from the URL: the title around it is localized.
		q := ""
		if u, err := url.Parse(v.TitleURL); err == nil {
			q = fs.name(u.Query().Get("search_query"))
		}
		if q == "" && v.TitleURL == "" {
			// Without a URL only the English title can be taken apart.
			if rest, ok := strings.CutPrefix(fs.str(v.Title), "Searched for "); ok {
				q = fs.name(rest)
			}
		}
		if q == "" {
			fs.skip(skipNoQuery)
			return nil
		}
		return fs.emit(Record{
			Platform:   PlatformYouTube,
			DataType:   DataSearch,
			ExternalID: YouTubeSearchID(q, at),
			OccurredAt: at,
			Payload:    mustJSON(platform.YouTubeSearchPayload{Source: sourceTakeout, Query: q, Music: fs.str(v.Header) == "YouTube Music"}),
		})
	})
}

func isSearchURL(u string) bool { return strings.Contains(u, "/results?") }

var videoIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{11}$`)

// videoID extracts the video ID of a watch URL. isVideo is false for URLs
// that point at something else (a post, a channel, YouTube Music's home);
// id is "" when the URL is a watch URL with an invalid ID.
func videoID(raw string) (id string, isVideo bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	host := strings.ToLower(u.Hostname())
	youtube := host == "youtube.com" || strings.HasSuffix(host, ".youtube.com")
	switch {
	case host == "youtu.be":
		id = strings.Trim(u.Path, "/")
	case youtube && u.Path == "/watch":
		id = u.Query().Get("v")
	case strings.HasSuffix(host, "youtube.com") && strings.HasPrefix(u.Path, "/shorts/"):
		id = strings.TrimPrefix(u.Path, "/shorts/")
	default:
		return "", false
	}
	if !videoIDPattern.MatchString(id) {
		return "", true
	}
	return id, true
}

func channelID(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	if rest, ok := strings.CutPrefix(u.Path, "/channel/"); ok && !strings.Contains(rest, "/") {
		return rest
	}
	return ""
}

// Localized "Watched <title>" phrases we can strip. Only those seen in real
// exports are listed (English prefix, German suffix); any other language
// keeps the whole phrase and is flagged title_raw so a later pass (or the
// YouTube API, by video ID) can fix it.
var watchedPrefixes = []string{"Watched "}
var watchedSuffixes = []string{" angesehen"}

func stripWatched(title string) (string, bool) {
	for _, p := range watchedPrefixes {
		if t, ok := strings.CutPrefix(title, p); ok {
			return strings.TrimSpace(t), false
		}
	}
	for _, s := range watchedSuffixes {
		if t, ok := strings.CutSuffix(title, s); ok {
			return strings.TrimSpace(t), false
		}
	}
	return title, true
}
