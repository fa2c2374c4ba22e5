package domain

import "strings"

// Every enum below is a string type whose values are the spellings stored
// in the database and used in URLs and configuration (lowercase). GraphQL
// spells them in upper case; gqlgen.yml maps each schema value to its
// constant, so a resolver never converts one.

// Platform names a platform twinme connects to.
type Platform string

const (
	PlatformSpotify  Platform = "spotify"
	PlatformYouTube  Platform = "youtube"
	PlatformGitHub   Platform = "github"
	PlatformDiscord  Platform = "discord"
	PlatformGmail    Platform = "gmail"
	PlatformLinkedIn Platform = "linkedin"
	PlatformSlack    Platform = "slack"
)

// Platforms lists every platform in the order the API shows them.
func Platforms() []Platform {
	return []Platform{PlatformSpotify, PlatformYouTube, PlatformGitHub, PlatformDiscord, PlatformGmail, PlatformLinkedIn, PlatformSlack}
}

func (p Platform) String() string { return string(p) }

// Enum is the GraphQL enum spelling, e.g. "SPOTIFY".
func (p Platform) Enum() string { return strings.ToUpper(string(p)) }

// ConnectionStatus is the state of a platform connection.
type ConnectionStatus string

const (
	// ConnectionConnected: tokens work (or can be refreshed).
	ConnectionConnected ConnectionStatus = "connected"
	// ConnectionTokenExpired: the access token expired and could not be
	// renewed yet (for example a provider without refresh tokens).
	ConnectionTokenExpired ConnectionStatus = "token_expired"
	// ConnectionNeedsReauth: the provider rejected the grant; the person
	// must connect again.
	ConnectionNeedsReauth ConnectionStatus = "needs_reauth"
	// ConnectionError: our configuration is wrong, or the provider failed
	// for days; an operator must look.
	ConnectionError ConnectionStatus = "error"
	// ConnectionDisconnected: the person disconnected; tokens are erased.
	ConnectionDisconnected ConnectionStatus = "disconnected"
)

// CronStatus is the outcome of one run of a scheduled job.
type CronStatus string

const (
	CronSuccess CronStatus = "success"
	CronError   CronStatus = "error"
	CronTimeout CronStatus = "timeout"
	// CronSkipped: the tick arrived while the previous run was still going.
	CronSkipped CronStatus = "skipped"
)

// Valid reports whether s is a known status.
func (s CronStatus) Valid() bool {
	switch s {
	case CronSuccess, CronError, CronTimeout, CronSkipped:
		return true
	}
	return false
}

// Failed reports whether s counts as a failure (for alerts and streaks).
func (s CronStatus) Failed() bool { return s == CronError || s == CronTimeout }

// CronTrigger says what started a run of a scheduled job.
type CronTrigger string

const (
	TriggerSchedule CronTrigger = "schedule"
	TriggerHTTP     CronTrigger = "http"
	TriggerAdmin    CronTrigger = "admin"
	TriggerCLI      CronTrigger = "cli"
)

// Valid reports whether t is a known trigger.
func (t CronTrigger) Valid() bool {
	switch t {
	case TriggerSchedule, TriggerHTTP, TriggerAdmin, TriggerCLI:
		return true
	}
	return false
}

// Cluster is a life cluster slug.
type Cluster string

const (
	ClusterPersonal     Cluster = "personal"
	ClusterProfessional Cluster = "professional"
	ClusterCreative     Cluster = "creative"
)

// Valid reports whether c is a known cluster.
func (c Cluster) Valid() bool {
	switch c {
	case ClusterPersonal, ClusterProfessional, ClusterCreative:
		return true
	}
	return false
}

// Audience is who looks at a revealed signature.
type Audience string

const (
	AudienceEveryone     Audience = "everyone"
	AudienceProfessional Audience = "professional"
	AudienceFriends      Audience = "friends"
	AudienceIntimate     Audience = "intimate"
	AudienceDating       Audience = "dating"
	// AudienceAssistant is the language model: everything sent to a model
	// on the owner's behalf (narratives, the owner's own twin chat) is the
	// view of this audience. Its sliders follow AudienceEveryone's levels
	// until the owner sets them: the model, a third party, learns no more
	// than the whole world unless the owner says so.
	AudienceAssistant Audience = "assistant"
)

// Audiences lists every audience, in the order clients list them.
func Audiences() []Audience {
	return []Audience{AudienceEveryone, AudienceProfessional, AudienceFriends, AudienceIntimate, AudienceDating, AudienceAssistant}
}

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool {
	switch a {
	case AudienceEveryone, AudienceProfessional, AudienceFriends, AudienceIntimate, AudienceDating, AudienceAssistant:
		return true
	}
	return false
}

// Follows is the audience whose level a takes when a has no level of its
// own: AudienceEveryone for the assistant, and "" (the cluster's own
// slider) for every other audience.
func (a Audience) Follows() Audience {
	if a == AudienceAssistant {
		return AudienceEveryone
	}
	return ""
}

// Role is what a user may do.
type Role string

const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// Scope is what a credential (API token) may do.
type Scope string

const (
	// ScopeFull: everything the user can do.
	ScopeFull Scope = "full"
	// ScopeObserverWrite: only post browser-extension events.
	ScopeObserverWrite Scope = "observer:write"
)

// Valid reports whether s is a known scope.
func (s Scope) Valid() bool { return s == ScopeFull || s == ScopeObserverWrite }

// TimeZoneSource says where a user's time zone comes from.
type TimeZoneSource string

const (
	TimeZoneChosen    TimeZoneSource = "chosen"    // the person set an IANA name
	TimeZoneExtension TimeZoneSource = "extension" // the browser extension's first offset
	TimeZoneDefault   TimeZoneSource = "default"   // nothing known: UTC
)

// TwinRole is who wrote a twin message.
type TwinRole string

const (
	TwinRoleUser TwinRole = "user"
	TwinRoleTwin TwinRole = "twin"
)

// ExportStatus is the state of a data export.
type ExportStatus string

const (
	ExportPending    ExportStatus = "pending"
	ExportRunning    ExportStatus = "running"
	ExportReady      ExportStatus = "ready"
	ExportFailed     ExportStatus = "failed"
	ExportDownloaded ExportStatus = "downloaded"
	ExportExpired    ExportStatus = "expired"
)

// AccessKind is what a non-owner did with a twin through a share link.
type AccessKind string

const (
	AccessView         AccessKind = "view"
	AccessConversation AccessKind = "conversation"
	AccessMessage      AccessKind = "message"
)

// InsightSource is what produced an insight.
type InsightSource string

const (
	InsightSourcePattern InsightSource = "pattern"
	InsightSourceLLM     InsightSource = "llm"
)

// ParseInsightSource reads a stored source: "llm" is the language model,
// anything else a pattern detector.
func ParseInsightSource(s string) InsightSource {
	if s == string(InsightSourceLLM) {
		return InsightSourceLLM
	}
	return InsightSourcePattern
}
