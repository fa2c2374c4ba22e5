// Package analysis turns a user's platform data into a soul signature: pure,
// deterministic detectors that produce named features and candidate insights,
// Big Five estimates drawn from those features, and a behavioural embedding.
//
// Nothing here touches storage, the network or the clock: the caller converts
// stored rows into the input types below and passes the time zone and "now".
package analysis

import (
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// SourcePattern marks insights made by the local, deterministic detectors (as
// opposed to an LLM's interpretation).
const SourcePattern = "pattern"

// Play is one Spotify stream (Web API recently-played, or a streaming-history
// export). At is when the stream ended (the export's "ts"/"endTime").
type Play struct {
	At       time.Time
	TrackID  string // spotify:track:… when known; else matched by artist and name
	Track    string
	Artist   string
	Genres   []string // the artist's Spotify genres, if fetched
	MsPlayed int
	// Skipped is the extended export's "skipped" flag (nil when absent or null).
	Skipped *bool
	// ReasonEnd is the extended export's "reason_end" ("trackdone", "fwdbtn", …).
	ReasonEnd string
}

// CodeEvent is one GitHub event. Type is the Events API name: PushEvent,
// PullRequestEvent, PullRequestReviewEvent, PullRequestReviewCommentEvent,
// IssuesEvent, IssueCommentEvent, CreateEvent, …
type CodeEvent struct {
	At       time.Time
	Type     string
	Repo     string
	Language string
}

// Repo is one of the user's repositories. Languages is GitHub's
// /repos/{owner}/{repo}/languages answer: language → bytes of code.
type Repo struct {
	Name      string
	Language  string
	Languages map[string]int
	Stars     int
}

// Video sources.
const (
	VideoLike  = "like"  // Data API videos?myRating=like (has a category)
	VideoWatch = "watch" // Google Takeout watch-history.json (no category)
)

// Video is one liked or watched YouTube video.
type Video struct {
	At         time.Time
	Title      string
	Channel    string
	CategoryID string // YouTube videoCategory id ("10" = Music); empty for Takeout rows
	Source     string // VideoLike or VideoWatch
}

// Mail is Gmail metadata only (gmail.metadata scope): never a subject line or
// body. Labels are Gmail label ids; "SENT" marks mail the user sent.
type Mail struct {
	At     time.Time
	From   string
	Labels []string
}

// Guild is one Discord server from /users/@me/guilds.
type Guild struct {
	Name  string
	Owner bool
}

// Profile is LinkedIn's OIDC userinfo. That is all LinkedIn gives an app
// without partner access: no positions, skills, education or connections.
type Profile struct {
	Sub           string
	Name          string
	GivenName     string
	FamilyName    string
	Picture       string
	Email         string
	EmailVerified bool
	// Locale as "en_US" or "en-US" (userinfo's {"language","country"} object
	// flattened by the caller).
	Locale string
}

// Observer event types reported by the browser extension.
const (
	EventTyping      = "typing"
	EventMouseMove   = "mouse_move"
	EventMouseClick  = "mouse_click"
	EventScroll      = "scroll"
	EventFocus       = "focus"
	EventBlur        = "blur"
	EventNavigation  = "navigation"
	EventFormSubmit  = "form_submit"
	EventFormAbandon = "form_abandon"
	EventMediaPlay   = "media_play"
	EventMediaPause  = "media_pause"
	EventTabSwitch   = "tab_switch"
	EventWindowFocus = "window_focus"
	EventWindowBlur  = "window_blur"
)

// ObserverEvent is one browser-extension event. Data keys by type:
//   - typing: keys, corrections, duration_ms
//   - scroll: depth_pct (0–100), speed (pixels per second)
//   - blur: duration_ms, the length of the focus session the blur ends
//   - focus: duration_ms, how long the page was away (not used here)
type ObserverEvent struct {
	At     time.Time
	Type   string
	Domain string
	Data   map[string]float64
}

// Input is everything known about one user.
type Input struct {
	Plays      []Play
	CodeEvents []CodeEvent
	Repos      []Repo
	Videos     []Video
	Mails      []Mail
	Guilds     []Guild
	LinkedIn   *Profile // nil when LinkedIn is not connected
	Observer   []ObserverEvent
}

// Evidence is one ranked reason behind an insight or trait.
type Evidence struct {
	Label  string
	Value  string
	Weight float64
	// Cluster is set on trait evidence: the life cluster whose data it comes
	// from, so the privacy filter can withhold it with that cluster.
	Cluster privacy.Cluster `json:",omitempty"`
}

// Insight is one statement about the user with its evidence.
type Insight struct {
	// Key is stable for a detector and subject ("music.chronotype"), so a
	// re-analysis updates an insight instead of adding a duplicate.
	Key        string
	Cluster    privacy.Cluster
	Subcluster privacy.Subcluster
	Title      string
	Body       string
	// Evidence is ranked, strongest first: the figure behind the title's
	// claim leads, then supporting detail. The privacy filter keeps a prefix.
	Evidence []Evidence
	// Confidence is 0–1 and grows with the sample; see SampleConfidence.
	Confidence float64
	// Sensitivity 0–100: the privacy level a cluster must be set to for the
	// insight to be shown to others.
	Sensitivity int
	Source      string
	// Also names the other clusters whose data the insight draws on; it is
	// shown only to an audience that sees every one of them at Sensitivity.
	Also []privacy.Cluster
}

// Features are named measurements, normalised to 0–1 where the name does not
// say otherwise (counts and rates keep their unit: "music.plays").
type Features map[string]float64

// Detection is what one detector returns.
type Detection struct {
	Features Features
	Insights []Insight
}

func newDetection() Detection { return Detection{Features: Features{}} }
