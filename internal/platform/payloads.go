package platform

// The stored-data format: every kind of item written to user_platform_data,
// by the sync streams (source "api") and by the data-export importer
// (internal/ingest/importer), is declared here once: its data type, as a
// typed constant, and its payload, as a named struct whose JSON tags are the
// stored field names. Writers encode these types and the analysis loader
// (internal/soul) decodes the same types, so a renamed field is renamed for
// both. Rows already stored keep their bytes: a JSON tag here is a stored
// format and changing one needs a data migration
// (internal/soul's TestPayloadRoundTrip holds the format in a golden file).

// DataType names a kind of item within a platform, the data_type column of
// user_platform_data. The deduplicating upsert keys on (user, platform, data
// type, external id), so an API play and an exported play meet only because
// both are DataSpotifyPlay.
type DataType string

// Spotify data types.
const (
	// DataSpotifyPlay is one stream of a music track: recently-played
	// (SpotifyPlayPayload) or an export (SpotifyExportPlayPayload).
	DataSpotifyPlay DataType = "play"
	// DataSpotifyEpisodePlay is one stream of a podcast episode (exports).
	DataSpotifyEpisodePlay DataType = "episode_play"
	// DataSpotifyAudiobookPlay is one stream of an audiobook chapter
	// (extended streaming history).
	DataSpotifyAudiobookPlay DataType = "audiobook_play"
	DataSpotifyTopArtist     DataType = "top_artist"
	DataSpotifyTopTrack      DataType = "top_track"
)

// YouTube data types.
const (
	DataYouTubeChannel      DataType = "channel"
	DataYouTubeSubscription DataType = "subscription"
	DataYouTubeLikedVideo   DataType = "liked_video"
	// DataYouTubeWatch is one watched video (Google Takeout watch history;
	// the Data API has no watch history).
	DataYouTubeWatch DataType = "watch"
	// DataYouTubeSearch is one search (Google Takeout search history).
	DataYouTubeSearch DataType = "search"
)

// GitHub data types.
const (
	DataGitHubEvent DataType = "event"
	DataGitHubRepo  DataType = "repo"
	DataGitHubStar  DataType = "star"
)

// DataGmailMessage is the metadata of one message: From, To, Date, labels
// and internalDate. Never a body, a snippet or a subject.
const DataGmailMessage DataType = "message"

// DataDiscordGuild is a guild the user belongs to.
const DataDiscordGuild DataType = "guild"

// DataLinkedInProfile is the person's OpenID userinfo profile.
const DataLinkedInProfile DataType = "profile"

// Slack data types: the identity stream emits both.
const (
	DataSlackIdentity DataType = "identity"
	DataSlackTeam     DataType = "team"
)

// Sources: every payload names where it came from in its first field,
// "source", which the upsert also stores as the row's source (and ranks:
// a poorer source never overwrites a richer one).
const (
	// SourceAPI: a sync stream.
	SourceAPI = "api"
	// SourceSpotifyExtendedHistory: Spotify's "Extended streaming history"
	// export (Streaming_History_Audio_*.json, endsong_*.json).
	SourceSpotifyExtendedHistory = "extended_history"
	// SourceSpotifyAccountData: Spotify's "Account data" export
	// (StreamingHistory_music_*.json, StreamingHistory_podcast_*.json).
	SourceSpotifyAccountData = "account_data"
	// SourceTakeout: Google Takeout (YouTube watch and search history).
	SourceTakeout = "takeout"
)

// StoredKind is one kind of stored item: a platform's data type and the
// payload type stored for it from the given sources.
type StoredKind struct {
	Platform ID
	DataType DataType
	Sources  []string
	// Payload is the zero value of the stored payload type.
	Payload any
}

// StoredKinds lists every kind of item written to user_platform_data. One
// data type has two payload types: plays from the API and plays from the
// exports (the exports know the play's duration and how it ended; the API
// knows the track's id, duration and every artist).
func StoredKinds() []StoredKind {
	api := []string{SourceAPI}
	spotifyExports := []string{SourceSpotifyExtendedHistory, SourceSpotifyAccountData}
	return []StoredKind{
		{Spotify, DataSpotifyPlay, api, SpotifyPlayPayload{}},
		{Spotify, DataSpotifyPlay, spotifyExports, SpotifyExportPlayPayload{}},
		{Spotify, DataSpotifyEpisodePlay, spotifyExports, SpotifyEpisodePlayPayload{}},
		{Spotify, DataSpotifyAudiobookPlay, []string{SourceSpotifyExtendedHistory}, SpotifyAudiobookPlayPayload{}},
		{Spotify, DataSpotifyTopArtist, api, SpotifyTopArtistPayload{}},
		{Spotify, DataSpotifyTopTrack, api, SpotifyTopTrackPayload{}},
		{YouTube, DataYouTubeChannel, api, YouTubeChannelPayload{}},
		{YouTube, DataYouTubeSubscription, api, YouTubeSubscriptionPayload{}},
		{YouTube, DataYouTubeLikedVideo, api, YouTubeLikedVideoPayload{}},
		{YouTube, DataYouTubeWatch, []string{SourceTakeout}, YouTubeWatchPayload{}},
		{YouTube, DataYouTubeSearch, []string{SourceTakeout}, YouTubeSearchPayload{}},
		{GitHub, DataGitHubEvent, api, GitHubEventPayload{}},
		{GitHub, DataGitHubRepo, api, GitHubRepoPayload{}},
		{GitHub, DataGitHubStar, api, GitHubStarPayload{}},
		{Gmail, DataGmailMessage, api, GmailMessagePayload{}},
		{Discord, DataDiscordGuild, api, DiscordGuildPayload{}},
		{LinkedIn, DataLinkedInProfile, api, LinkedInProfilePayload{}},
		{Slack, DataSlackIdentity, api, SlackIdentityPayload{}},
		{Slack, DataSlackTeam, api, SlackTeamPayload{}},
	}
}

// SpotifyPlayPayload is a play from recently-played.
type SpotifyPlayPayload struct {
	Source      string   `json:"source"`
	TrackID     string   `json:"track_id"`
	TrackURI    string   `json:"track_uri"`
	Track       string   `json:"track"`
	Artists     []string `json:"artists"`
	Album       string   `json:"album"`
	DurationMS  int64    `json:"duration_ms"`
	PlayedAt    string   `json:"played_at"`
	ContextType string   `json:"context_type,omitempty"`
	ContextURI  string   `json:"context_uri,omitempty"`
}

// SpotifyExportPlayPayload is a play from a Spotify export (account data
// and extended streaming history; the richer fields only from the latter).
type SpotifyExportPlayPayload struct {
	Source      string `json:"source"`
	Track       string `json:"track"`
	Artist      string `json:"artist,omitempty"`
	Album       string `json:"album,omitempty"`
	TrackURI    string `json:"track_uri,omitempty"`
	MsPlayed    int64  `json:"ms_played"`
	Device      string `json:"device,omitempty"`
	Country     string `json:"country,omitempty"`
	ReasonStart string `json:"reason_start,omitempty"`
	ReasonEnd   string `json:"reason_end,omitempty"`
	Shuffle     *bool  `json:"shuffle,omitempty"`
	Skipped     *bool  `json:"skipped,omitempty"`
	Offline     *bool  `json:"offline,omitempty"`
}

// SpotifyEpisodePlayPayload is a podcast episode stream from an export.
type SpotifyEpisodePlayPayload struct {
	Source      string `json:"source"`
	Show        string `json:"show"`
	Episode     string `json:"episode"`
	EpisodeURI  string `json:"episode_uri,omitempty"`
	MsPlayed    int64  `json:"ms_played"`
	Device      string `json:"device,omitempty"`
	Country     string `json:"country,omitempty"`
	ReasonStart string `json:"reason_start,omitempty"`
	ReasonEnd   string `json:"reason_end,omitempty"`
	Skipped     *bool  `json:"skipped,omitempty"`
	Offline     *bool  `json:"offline,omitempty"`
}

// SpotifyAudiobookPlayPayload is an audiobook chapter stream from the
// extended streaming history.
type SpotifyAudiobookPlayPayload struct {
	Source     string `json:"source"`
	Title      string `json:"title"`
	Chapter    string `json:"chapter,omitempty"`
	URI        string `json:"audiobook_uri,omitempty"`
	ChapterURI string `json:"chapter_uri,omitempty"`
	MsPlayed   int64  `json:"ms_played"`
	Device     string `json:"device,omitempty"`
	Country    string `json:"country,omitempty"`
}

// SpotifyTopArtistPayload is one entry of a dated top-artists snapshot.
type SpotifyTopArtistPayload struct {
	Source     string   `json:"source"`
	TimeRange  string   `json:"time_range"`
	Snapshot   string   `json:"snapshot"`
	Rank       int      `json:"rank"`
	ArtistID   string   `json:"artist_id"`
	URI        string   `json:"uri"`
	Name       string   `json:"name"`
	Genres     []string `json:"genres"`
	Popularity int      `json:"popularity"`
}

// SpotifyTopTrackPayload is one entry of a dated top-tracks snapshot.
type SpotifyTopTrackPayload struct {
	Source     string   `json:"source"`
	TimeRange  string   `json:"time_range"`
	Snapshot   string   `json:"snapshot"`
	Rank       int      `json:"rank"`
	TrackID    string   `json:"track_id"`
	URI        string   `json:"uri"`
	Name       string   `json:"name"`
	Artists    []string `json:"artists"`
	Album      string   `json:"album"`
	DurationMS int64    `json:"duration_ms"`
	Popularity int      `json:"popularity"`
}

// YouTubeChannelPayload is the user's own channel.
type YouTubeChannelPayload struct {
	Source          string `json:"source"`
	ChannelID       string `json:"channel_id"`
	Title           string `json:"title"`
	Description     string `json:"description"`
	Handle          string `json:"handle"`
	Country         string `json:"country,omitempty"`
	PublishedAt     string `json:"published_at"`
	LikesPlaylist   string `json:"likes_playlist,omitempty"`
	UploadsPlaylist string `json:"uploads_playlist,omitempty"`
}

// YouTubeSubscriptionPayload is a channel subscription.
type YouTubeSubscriptionPayload struct {
	Source       string `json:"source"`
	ChannelID    string `json:"channel_id"`
	Title        string `json:"title"`
	SubscribedAt string `json:"subscribed_at"`
}

// YouTubeLikedVideoPayload is a liked video.
type YouTubeLikedVideoPayload struct {
	Source       string   `json:"source"`
	VideoID      string   `json:"video_id"`
	Title        string   `json:"title"`
	ChannelID    string   `json:"channel_id"`
	ChannelTitle string   `json:"channel_title"`
	CategoryID   string   `json:"category_id"`
	Tags         []string `json:"tags"`
	PublishedAt  string   `json:"published_at"`
}

// YouTubeWatchPayload is one watched video from the Takeout watch history.
// A removed video has no id, title or channel.
type YouTubeWatchPayload struct {
	Source    string `json:"source"`
	VideoID   string `json:"video_id,omitempty"`
	Title     string `json:"title,omitempty"`
	Channel   string `json:"channel,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
	// TitleRaw is set when the title is still wrapped in a localized
	// "Watched …" phrase the importer does not know how to strip.
	TitleRaw bool `json:"title_raw,omitempty"`
	Music    bool `json:"music,omitempty"`
	Removed  bool `json:"removed,omitempty"`
}

// YouTubeSearchPayload is one search from the Takeout search history.
type YouTubeSearchPayload struct {
	Source string `json:"source"`
	Query  string `json:"query"`
	Music  bool   `json:"music,omitempty"`
}

// GitHubEventPayload is one of the user's events.
type GitHubEventPayload struct {
	Source    string `json:"source"`
	Type      string `json:"type"`
	Repo      string `json:"repo"`
	RepoID    int64  `json:"repo_id"`
	Action    string `json:"action,omitempty"`
	Ref       string `json:"ref,omitempty"`
	RefType   string `json:"ref_type,omitempty"`
	Commits   int    `json:"commits,omitempty"`
	Public    bool   `json:"public"`
	CreatedAt string `json:"created_at"`
}

// GitHubRepoPayload is a repository with its languages.
type GitHubRepoPayload struct {
	Source      string           `json:"source"`
	FullName    string           `json:"full_name"`
	Private     bool             `json:"private"`
	Fork        bool             `json:"fork"`
	Archived    bool             `json:"archived"`
	Description string           `json:"description"`
	Language    string           `json:"language"`
	Languages   map[string]int64 `json:"languages"`
	Topics      []string         `json:"topics"`
	Stars       int              `json:"stargazers_count"`
	Forks       int              `json:"forks_count"`
	CreatedAt   string           `json:"created_at"`
	PushedAt    string           `json:"pushed_at"`
	URL         string           `json:"html_url"`
}

// GitHubStarPayload is a starred repository.
type GitHubStarPayload struct {
	Source      string   `json:"source"`
	FullName    string   `json:"full_name"`
	Description string   `json:"description"`
	Language    string   `json:"language"`
	Topics      []string `json:"topics"`
	Stars       int      `json:"stargazers_count"`
	StarredAt   string   `json:"starred_at"`
	URL         string   `json:"html_url"`
}

// GmailMessagePayload is a message's metadata (never its body).
type GmailMessagePayload struct {
	Source       string   `json:"source"`
	ID           string   `json:"id"`
	ThreadID     string   `json:"thread_id"`
	LabelIDs     []string `json:"label_ids"`
	InternalDate string   `json:"internal_date"`
	From         string   `json:"from"`
	To           string   `json:"to"`
	Date         string   `json:"date"`
}

// DiscordGuildPayload is a guild the user belongs to.
type DiscordGuildPayload struct {
	Source      string   `json:"source"`
	GuildID     string   `json:"guild_id"`
	Name        string   `json:"name"`
	Icon        string   `json:"icon,omitempty"`
	Owner       bool     `json:"owner"`
	Permissions string   `json:"permissions"`
	Features    []string `json:"features"`
	Members     int      `json:"approximate_member_count"`
}

// LinkedInProfilePayload is the OpenID userinfo profile.
type LinkedInProfilePayload struct {
	Source        string `json:"source"`
	Sub           string `json:"sub"`
	Name          string `json:"name"`
	GivenName     string `json:"given_name"`
	FamilyName    string `json:"family_name"`
	Picture       string `json:"picture,omitempty"`
	Locale        string `json:"locale,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
}

// SlackIdentityPayload is who the user is in a workspace (auth.test).
type SlackIdentityPayload struct {
	Source string `json:"source"`
	UserID string `json:"user_id"`
	User   string `json:"user"`
	TeamID string `json:"team_id"`
	Team   string `json:"team"`
	URL    string `json:"url"`
}

// SlackTeamPayload is the workspace (auth.test, team.info with team:read).
type SlackTeamPayload struct {
	Source string `json:"source"`
	TeamID string `json:"team_id"`
	Name   string `json:"name"`
	URL    string `json:"url"`
	Domain string `json:"domain,omitempty"`
	Icon   string `json:"icon,omitempty"`
}
