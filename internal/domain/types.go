package domain

import (
	"encoding/json"
	"time"
)

// The types below are what services return and the GraphQL schema binds
// (gqlgen.yml): each holds what the API shows of a stored row, typed, and
// nothing secret (token hashes and ciphertexts stay in the store's rows).
// An optional text is a nil pointer, not "".

// User is a person with a twin.
type User struct {
	ID        string
	Email     string
	Name      string
	AvatarURL string
	Role      Role
	CreatedAt time.Time
	// TimeZone is the zone analyses read hours and days in; TimeZoneSource
	// says where it comes from.
	TimeZone       string
	TimeZoneSource TimeZoneSource
}

// IsAdmin reports whether u has the admin role.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// Cursor is the user's keyset position (users list oldest first).
func (u User) Cursor() Cursor { return Cursor{Time: u.CreatedAt, ID: u.ID} }

// APIToken is a bearer token of a user (its value is shown once, at creation).
type APIToken struct {
	ID         string
	UserID     string
	Name       string
	Scopes     []Scope
	CreatedAt  time.Time
	LastUsedAt *time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
}

// Connection is a user's link to one platform account.
type Connection struct {
	ID             string
	UserID         string
	Platform       Platform
	Status         ConnectionStatus
	AccountName    string
	ConnectedAt    time.Time
	LastSync       *time.Time
	TokenExpiresAt *time.Time
	// LastError is the last problem in words safe to show; nil when all is well.
	LastError   *string
	LastErrorAt *time.Time
}

// ConnectionHealth is how many connections of one platform are in one status.
type ConnectionHealth struct {
	Platform Platform
	Status   ConnectionStatus
	Count    int
}

// CronExecution is one run of a scheduled job.
type CronExecution struct {
	ID              string
	JobName         string
	Status          CronStatus
	ExecutionTimeMs int
	TokensChecked   int
	TokensRefreshed int
	PlatformsPolled int
	ErrorMessage    *string
	// ResultData is the JSON document the job reported ("{}" for nothing).
	ResultData json.RawMessage
	ExecutedAt time.Time
	Instance   string
	Trigger    CronTrigger
}

// ObserverSettings are a user's choices about the browser extension.
type ObserverSettings struct {
	Enabled   bool
	FullPaths bool
}

// ShareLink shows a user's twin to one audience to whoever holds its token.
type ShareLink struct {
	ID string
	// OwnerID is whose twin the link shows.
	OwnerID    string
	Audience   Audience
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TwinConversation is one conversation with a digital twin.
type TwinConversation struct {
	ID          string
	OwnerUserID string
	// Audience the twin answers as; nil for the owner's own chat.
	Audience  *Audience
	CreatedAt time.Time
}

// TwinMessage is one turn of a twin conversation.
type TwinMessage struct {
	ID             string
	ConversationID string
	Role           TwinRole
	Text           string
	// Source is llm or local for twin messages, nil for the user's.
	Source    *string
	Completed bool
	// Error is a safe message when a reply failed.
	Error     *string
	CreatedAt time.Time
}

// Cursor is the message's keyset position.
func (m TwinMessage) Cursor() Cursor { return Cursor{Time: m.CreatedAt, ID: m.ID} }

// DataExport is one requested archive of everything held of a user.
type DataExport struct {
	ID         string
	UserID     string
	Status     ExportStatus
	ItemsDone  int
	ItemsTotal int
	// Progress is 0–1.
	Progress float64
	// SizeBytes is the archive's size once ready (nil before, and once gone).
	SizeBytes    *int
	Error        *string
	CreatedAt    time.Time
	FinishedAt   *time.Time
	ExpiresAt    time.Time
	DownloadedAt *time.Time
}

// AccessLogEntry is one non-owner view of a twin through a share link.
type AccessLogEntry struct {
	ID             string
	ShareLinkID    string
	Audience       Audience
	Kind           AccessKind
	ConversationID *string
	OccurredAt     time.Time
	// Client is the browser and system family, e.g. "Firefox on Linux".
	Client     string
	ClientHash string
}

// Cursor is the entry's keyset position.
func (e AccessLogEntry) Cursor() Cursor { return Cursor{Time: e.OccurredAt, ID: e.ID} }

// Evidence is one ranked item supporting an insight, a summary or a trait.
type Evidence struct {
	Label  string  `json:"label"`
	Value  string  `json:"value"`
	Weight float64 `json:"weight"`
}

// Insight is one statement about a user. Stored insights have an ID and a
// CreatedAt; an insight inside a revealed view has neither (the schema's
// InsightNode).
type Insight struct {
	ID          string
	Key         string
	Cluster     Cluster
	Subcluster  *string
	Title       string
	Body        string
	Evidence    []Evidence
	Confidence  float64
	Sensitivity int
	Source      InsightSource
	CreatedAt   time.Time
}

// Cursor is the insight's keyset position.
func (in Insight) Cursor() Cursor { return Cursor{Time: in.CreatedAt, ID: in.ID} }

// Cursor is the execution's keyset position (newest first).
func (e CronExecution) Cursor() Cursor { return Cursor{Time: e.ExecutedAt, ID: e.ID} }
