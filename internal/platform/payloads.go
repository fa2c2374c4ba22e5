package platform

// Payloads of the items the sync streams store in user_platform_data. They
// are named (not anonymous) so that everything writing items of these data
// types — the streams, the demo seeder — writes one shape, and readers can
// decode it.

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
