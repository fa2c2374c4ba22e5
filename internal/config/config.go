// Package config reads every twinme setting from environment variables with
// the TWINME_ prefix and validates them once, at start.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/secret"
)

// Environment is development or production.
type Environment string

const (
	Development Environment = "development"
	Production  Environment = "production"
)

// Config is the whole configuration of a twinme process.
type Config struct {
	Environment Environment
	// DatabaseURL is a postgres:// URL, a sqlite:// URL or empty for the
	// embedded SQLite database under DataDir.
	DatabaseURL string
	DataDir     string
	Listen      string
	// PublicURL is where browsers and OAuth providers reach this server.
	PublicURL string
	// AppURL is where sign-in and connect flows send the browser back.
	AppURL      string
	CORSOrigins []string
	AdminEmails []string
	LogLevel    string
	LogFormat   string

	SessionTTL    time.Duration
	MaxBodyBytes  int64
	MaxComplexity int
	// MaxUploadBytes bounds a GraphQL multipart upload (a data export).
	MaxUploadBytes int64
	// ResponseCacheBytes bounds graph.ResponseCache (0: no cache).
	ResponseCacheBytes int64
	// Import limits (see importer.Limits).
	ImportMaxRecordBytes, ImportMaxStringBytes int
	ImportMaxFileBytes, ImportMaxTotalBytes    int64
	ImportMaxRatio                             int64

	RateLimit   Rate
	AIRateLimit Rate
	// IngestRateLimit is the browser extension's own bucket (POST
	// /api/observer/events), so a busy extension never locks its user out
	// of the dashboard.
	IngestRateLimit Rate
	// AuthFailureRateLimit bounds failed authentications per client address.
	AuthFailureRateLimit Rate
	// RedisURL, when set, counts every rate-limit bucket in Redis so that
	// all instances enforce one limit; RedisPrefix starts every key.
	RedisURL    string
	RedisPrefix string
	// Websocket caps: sockets per user, active subscriptions per socket and per user.
	MaxSocketsPerUser         int
	MaxSubscriptionsPerSocket int
	MaxSubscriptionsPerUser   int
	AllowInsecurePublicURL    bool

	GoogleClientID     string
	GoogleClientSecret string
	GoogleIssuerURL    string

	// EncryptionKeys is TWINME_ENCRYPTION_KEYS (id:base64 key, comma-separated,
	// first is current); empty in development means a generated key file.
	EncryptionKeys string
	// TokenRefreshMargin: tokens expiring within it are refreshed.
	TokenRefreshMargin time.Duration
	// Platforms holds each platform's OAuth client and endpoint overrides,
	// keyed by platform id (spotify, youtube, …).
	Platforms map[string]PlatformConfig

	// Scheduler runs the schedule in this process (TWINME_SCHEDULER=off
	// for API-only instances; jobs still run on demand).
	Scheduler bool
	// Schedules overrides job schedules by job name; the app validates them.
	Schedules map[string]string
	// ScheduleVars names the variable behind each job's schedule, for errors.
	ScheduleVars    map[string]string
	Instance        string
	CronSecret      string
	AlertWebhookURL string
	AlertAfter      int
	// SentryDSN is TWINME_SENTRY_DSN: panics and internal errors go to
	// Sentry when set.
	SentryDSN     string
	CronRetention time.Duration
	// MetricsToken, when set, is required as a Bearer token on /metrics.
	MetricsToken string
	// MetricsListen, when set, serves /metrics on this separate address
	// only (not on Listen).
	MetricsListen string

	SyncInterval      time.Duration
	SyncWorkers       int
	ObserverRetention time.Duration

	// Data rights (exports, access log): ExportDir holds export archives
	// (default <DataDir>/exports); ExportWorkers bounds the exports one
	// instance writes at once; AccessLogRetention is how long the access log
	// is kept; AccessLogSalt keys its client-address hashes (default: derived
	// from the encryption key, so instances with the same keys agree).
	ExportDir          string
	ExportWorkers      int
	AccessLogRetention time.Duration
	AccessLogSalt      string

	// Anthropic enables the LLM interpreter and twin chat when the key is set.
	AnthropicAPIKey  string
	AnthropicModel   string
	AnthropicBaseURL string
}

// JobNames are the scheduled jobs whose schedule can be configured.
var JobNames = []string{"token-refresh", "platform-polling", "analysis", "maintenance"}

// PlatformConfig is one platform's OAuth client and endpoint overrides.
type PlatformConfig struct {
	ClientID, ClientSecret string
	// Endpoint overrides; empty keeps the provider's documented URL.
	AuthURL, TokenURL, RevokeURL, APIURL string
}

// Configured reports whether the platform has an OAuth client.
func (p PlatformConfig) Configured() bool { return p.ClientID != "" && p.ClientSecret != "" }

// PlatformIDs are the platforms twinme connects, in display order.
var PlatformIDs = []string{"spotify", "youtube", "github", "discord", "gmail", "linkedin", "slack"}

// Rate is a number of requests per period; zero Limit means unlimited.
type Rate struct {
	Limit  int64
	Period time.Duration
}

func (r Rate) String() string { return fmt.Sprintf("%d-%s", r.Limit, r.Period) }

// Var documents one environment variable.
type Var struct {
	Name    string
	Default string
	Help    string
}

// Vars lists every environment variable that Load reads, for --help and the README.
var Vars = []Var{
	{"TWINME_ENV", "development", "development or production; production closes introspection to admins and requires an https public URL and TWINME_ENCRYPTION_KEYS"},
	{"TWINME_DATABASE_URL", "(embedded SQLite in TWINME_DATA_DIR)", "postgres://user:pass@host:5432/db switches to PostgreSQL; sqlite:///path/file.db picks a SQLite file"},
	{"TWINME_DATA_DIR", "./data", "directory for the embedded SQLite database and generated development keys"},
	{"TWINME_LISTEN", "127.0.0.1:8080", "host:port the HTTP server listens on"},
	{"TWINME_PUBLIC_URL", "http://<listen address>", "external base URL of this server (OAuth redirect URIs are built from it)"},
	{"TWINME_APP_URL", "TWINME_PUBLIC_URL", "dashboard URL the browser is sent back to after sign-in"},
	{"TWINME_CORS_ORIGINS", "(none)", "comma-separated origins allowed for CORS and websockets, e.g. https://app.twin.me,chrome-extension://<id>; * allows any"},
	{"TWINME_ADMIN_EMAILS", "(none)", "comma-separated emails that get the admin role when they sign in"},
	{"TWINME_LOG_LEVEL", "info", "debug, info, warn or error"},
	{"TWINME_LOG_FORMAT", "text in development, json in production", "text or json"},
	{"TWINME_SESSION_TTL", "720h", "how long an unused session lives; each use slides it forward"},
	{"TWINME_MAX_BODY_BYTES", "1048576", "largest accepted request body in bytes (uploads excepted)"},
	{"TWINME_MAX_QUERY_COMPLEXITY", "5000", "largest accepted GraphQL operation cost: every field 1, lists and connections × their page size (first, or 10 for lists without one)"},
	{"TWINME_RESPONSE_CACHE_BYTES", "67108864", "memory for cached responses of a viewer's own dashboard queries (connections, lifeClusters, privacy, soulSignature, insights), served again while the user's data version in the database holds; 0 disables"},
	{"TWINME_MAX_UPLOAD_BYTES", "536870912", "largest GraphQL multipart upload (a data export) in bytes"},
	{"TWINME_IMPORT_MAX_RECORD_BYTES", "65536", "largest record (array element) of an export; larger ones are rejected"},
	{"TWINME_IMPORT_MAX_STRING_BYTES", "1024", "names (track, artist, title, query …) are truncated to this many bytes"},
	{"TWINME_IMPORT_MAX_FILE_BYTES", "1073741824", "largest export file or archive entry, after decompression"},
	{"TWINME_IMPORT_MAX_TOTAL_BYTES", "4294967296", "most bytes one import may read over all its files, after decompression"},
	{"TWINME_IMPORT_MAX_RATIO", "100", "largest decompressed/compressed ratio of an archive entry (zip bombs)"},
	{"TWINME_RATE_LIMIT", "100-15m (1000-15m in development)", "requests per period per user (per IP when anonymous), as N-DURATION; 0 disables"},
	{"TWINME_AI_RATE_LIMIT", "50-15m", "AI operations (analysis, twin chat) per period per user, as N-DURATION; 0 disables"},
	{"TWINME_INGEST_RATE_LIMIT", "1000-15m", "browser-extension batches (POST /api/observer/events) per period per user, its own bucket; 0 disables"},
	{"TWINME_AUTH_FAILURE_RATE_LIMIT", "30-15m", "failed authentications (bad bearer token, stale or forged session cookie, refused connection_init) per period per client address; above it every authenticated attempt from that address gets 429; 0 disables"},
	{"TWINME_REDIS_URL", "(none: limits count in each instance's memory)", "redis://[:password@]host:6379/0 (rediss:// for TLS): count every rate-limit bucket in Redis so all instances enforce one limit; start-up fails if it does not answer"},
	{"TWINME_REDIS_PREFIX", "twinme", "prefix of every rate-limit key in Redis (deployments sharing one Redis)"},
	{"TWINME_MAX_SOCKETS_PER_USER", "50", "open websockets per user on one instance; the next one is closed with 4429"},
	{"TWINME_MAX_SUBSCRIPTIONS_PER_SOCKET", "50", "active subscriptions on one websocket; the next one fails with RATE_LIMITED"},
	{"TWINME_MAX_SUBSCRIPTIONS_PER_USER", "200", "active subscriptions of one user on one instance; the next one fails with RATE_LIMITED"},
	{"TWINME_ALLOW_INSECURE_PUBLIC_URL", "false", "true lets production start with an http:// TWINME_PUBLIC_URL (local trials only: cookies are then not Secure)"},
	{"TWINME_GOOGLE_CLIENT_ID", "(none)", "Google OAuth client id for Google sign-in"},
	{"TWINME_GOOGLE_CLIENT_SECRET", "(none)", "Google OAuth client secret for Google sign-in"},
	{"TWINME_GOOGLE_ISSUER_URL", "https://accounts.google.com", "OpenID Connect issuer for Google sign-in (override for tests or proxies)"},
	{"TWINME_ENCRYPTION_KEYS", "(development: a key file generated in TWINME_DATA_DIR)", "token encryption keys as id:base64(32 bytes), comma-separated, first is current; required in production; `twinme keys generate` prints one"},
	{"TWINME_TOKEN_REFRESH_MARGIN", "10m", "access tokens expiring within this margin are refreshed before use and by the sweep"},
	{"TWINME_<PLATFORM>_CLIENT_ID", "(none)", "OAuth client id per platform: SPOTIFY, YOUTUBE, GITHUB, DISCORD, GMAIL, LINKEDIN, SLACK (YOUTUBE and GMAIL fall back to TWINME_GOOGLE_CLIENT_ID); a platform without one is not configured"},
	{"TWINME_<PLATFORM>_CLIENT_SECRET", "(none)", "OAuth client secret per platform (YOUTUBE and GMAIL fall back to TWINME_GOOGLE_CLIENT_SECRET)"},
	{"TWINME_<PLATFORM>_AUTH_URL, _TOKEN_URL, _REVOKE_URL, _API_URL", "(the provider's documented URLs)", "endpoint overrides per platform, for proxies and tests"},
	{"TWINME_SCHEDULER", "on", "on or off: off keeps this instance from running the schedule (API-only instances); jobs still run through HTTP, admin and CLI triggers"},
	{"TWINME_SCHEDULE_TOKEN_REFRESH", "every 5m", "schedule of the token-refresh job: \"every DURATION\" or a cron expression"},
	{"TWINME_SCHEDULE_PLATFORM_POLLING", "every 30m", "schedule of the platform-polling job"},
	{"TWINME_SCHEDULE_ANALYSIS", "every 1h", "schedule of the analysis job"},
	{"TWINME_SCHEDULE_MAINTENANCE", "every 1h", "schedule of the maintenance job"},
	{"TWINME_INSTANCE", "hostname plus a random suffix", "name of this instance in cron_executions"},
	{"TWINME_CRON_SECRET", "(none: HTTP cron triggers disabled)", "Bearer secret for POST /api/cron/{job}; the triggers are never open without it"},
	{"TWINME_ALERT_WEBHOOK_URL", "(none)", "Slack or Discord incoming webhook that hears about jobs failing repeatedly and recovering"},
	{"TWINME_ALERT_AFTER", "3", "consecutive failures of a job before an alert"},
	{"TWINME_SENTRY_DSN", "(none: off)", "Sentry DSN; panics and internal errors are sent with their request id, scrubbed of tokens, emails and payloads"},
	{"TWINME_CRON_RETENTION", "2160h (90 days)", "how long cron_executions rows are kept"},
	{"TWINME_METRICS_TOKEN", "(none: /metrics is open in development; production requires it or TWINME_METRICS_LISTEN)", "Bearer token required on /metrics"},
	{"TWINME_METRICS_LISTEN", "(none: /metrics on TWINME_LISTEN)", "host:port of a separate listener serving only /metrics (keep it private); /metrics then leaves the main address"},
	{"TWINME_SYNC_INTERVAL", "30m", "how often each connection is polled (a provider asking for longer wins)"},
	{"TWINME_SYNC_WORKERS", "4", "connections polled at once by one instance"},
	{"TWINME_OBSERVER_RETENTION", "720h (30 days)", "how long browser-extension events are kept; older ones are refused and deleted by the maintenance job"},
	{"TWINME_EXPORT_DIR", "TWINME_DATA_DIR/exports", "where data export archives are written (streamed to disk, deleted after download or after 24 h); with PostgreSQL and several instances, a directory every instance can read"},
	{"TWINME_EXPORT_WORKERS", "2", "data exports one instance writes at once (each user has at most one running; the rest wait)"},
	{"TWINME_ACCESS_LOG_RETENTION", "2160h (90 days)", "how long the access log of shared twins is kept"},
	{"TWINME_ACCESS_LOG_SALT", "(derived from the encryption key)", "key of the salted hashes of visitor addresses in the access log (at least 16 characters; the same on every instance)"},
	{"TWINME_ANTHROPIC_API_KEY", "(none: the local twin answers, no narratives)", "Anthropic Messages API key: enables narrative summaries and LLM twin chat"},
	{"TWINME_ANTHROPIC_MODEL", "the llm package's default", "Anthropic model id"},
	{"TWINME_ANTHROPIC_BASE_URL", "https://api.anthropic.com", "Anthropic API root (proxies, tests)"},
}

// Load reads the configuration from getenv (os.Getenv when nil) and validates it.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	p := &parser{getenv: getenv}
	c := &Config{}
	for _, section := range []func(*parser, *Config){
		(*parser).server, (*parser).limits, (*parser).identity, (*parser).platforms,
		(*parser).operations, (*parser).data, (*parser).production,
	} {
		section(p, c)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// server reads environment, storage, addresses, origins, admins and logging.
func (p *parser) server(c *Config) {
	c.Environment = Environment(strings.ToLower(p.str("TWINME_ENV", string(Development))))
	if c.Environment != Development && c.Environment != Production {
		p.fail("TWINME_ENV", "must be development or production, got %q", c.Environment)
	}
	c.DatabaseURL = p.str("TWINME_DATABASE_URL", "")
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql" && u.Scheme != "sqlite" && u.Scheme != "file") {
			p.fail("TWINME_DATABASE_URL", "must be a postgres://, postgresql:// or sqlite:// URL")
		}
	}
	c.DataDir = p.str("TWINME_DATA_DIR", "./data")
	c.Listen = p.str("TWINME_LISTEN", "127.0.0.1:8080")
	if _, port, err := net.SplitHostPort(c.Listen); err != nil || port == "" {
		p.fail("TWINME_LISTEN", "must be host:port, e.g. 127.0.0.1:8080 or :8080, got %q", c.Listen)
	}
	c.PublicURL = strings.TrimRight(p.str("TWINME_PUBLIC_URL", defaultPublicURL(c.Listen)), "/")
	p.absURL("TWINME_PUBLIC_URL", c.PublicURL)
	c.AppURL = strings.TrimRight(p.str("TWINME_APP_URL", c.PublicURL), "/")
	p.absURL("TWINME_APP_URL", c.AppURL)
	c.CORSOrigins = p.list("TWINME_CORS_ORIGINS")
	for _, o := range c.CORSOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			p.fail("TWINME_CORS_ORIGINS", "each origin must be scheme://host[:port], got %q", o)
		}
	}
	c.AdminEmails = p.list("TWINME_ADMIN_EMAILS")
	for i, e := range c.AdminEmails {
		c.AdminEmails[i] = strings.ToLower(e)
	}
	c.LogLevel = strings.ToLower(p.str("TWINME_LOG_LEVEL", "info"))
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		p.fail("TWINME_LOG_LEVEL", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	defFormat := "text"
	if c.Environment == Production {
		defFormat = "json"
	}
	c.LogFormat = strings.ToLower(p.str("TWINME_LOG_FORMAT", defFormat))
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.fail("TWINME_LOG_FORMAT", "must be text or json, got %q", c.LogFormat)
	}
}

// limits reads sessions, request and import sizes, rates and socket caps.
func (p *parser) limits(c *Config) {
	c.SessionTTL = p.duration("TWINME_SESSION_TTL", 30*24*time.Hour, time.Minute)
	c.MaxBodyBytes = p.int64("TWINME_MAX_BODY_BYTES", 1<<20, 1024)
	c.MaxComplexity = int(p.int64("TWINME_MAX_QUERY_COMPLEXITY", 5000, 10))
	c.MaxUploadBytes = p.int64("TWINME_MAX_UPLOAD_BYTES", 512<<20, 1024)
	c.ResponseCacheBytes = p.int64("TWINME_RESPONSE_CACHE_BYTES", 64<<20, 0)
	c.ImportMaxRecordBytes = int(p.int64("TWINME_IMPORT_MAX_RECORD_BYTES", 64<<10, 1024))
	c.ImportMaxStringBytes = int(p.int64("TWINME_IMPORT_MAX_STRING_BYTES", 1024, 16))
	c.ImportMaxFileBytes = p.int64("TWINME_IMPORT_MAX_FILE_BYTES", 1<<30, 1024)
	c.ImportMaxTotalBytes = p.int64("TWINME_IMPORT_MAX_TOTAL_BYTES", 4<<30, 1024)
	c.ImportMaxRatio = p.int64("TWINME_IMPORT_MAX_RATIO", 100, 2)
	defRate := "100-15m"
	if c.Environment == Development {
		defRate = "1000-15m"
	}
	c.RateLimit = p.rate("TWINME_RATE_LIMIT", defRate)
	c.AIRateLimit = p.rate("TWINME_AI_RATE_LIMIT", "50-15m")
	c.IngestRateLimit = p.rate("TWINME_INGEST_RATE_LIMIT", "1000-15m")
	c.AuthFailureRateLimit = p.rate("TWINME_AUTH_FAILURE_RATE_LIMIT", "30-15m")
	c.RedisURL = p.str("TWINME_REDIS_URL", "")
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			p.fail("TWINME_REDIS_URL", "must be a redis:// or rediss:// URL such as redis://127.0.0.1:6379/0")
		}
	}
	c.RedisPrefix = p.str("TWINME_REDIS_PREFIX", "twinme")
	c.MaxSocketsPerUser = int(p.int64("TWINME_MAX_SOCKETS_PER_USER", 50, 1))
	c.MaxSubscriptionsPerSocket = int(p.int64("TWINME_MAX_SUBSCRIPTIONS_PER_SOCKET", 50, 1))
	c.MaxSubscriptionsPerUser = int(p.int64("TWINME_MAX_SUBSCRIPTIONS_PER_USER", 200, 1))
	c.AllowInsecurePublicURL = p.boolean("TWINME_ALLOW_INSECURE_PUBLIC_URL")
}

// identity reads Google sign-in and the encryption keys.
func (p *parser) identity(c *Config) {
	c.GoogleClientID = p.str("TWINME_GOOGLE_CLIENT_ID", "")
	c.GoogleClientSecret = p.str("TWINME_GOOGLE_CLIENT_SECRET", "")
	if (c.GoogleClientID == "") != (c.GoogleClientSecret == "") {
		p.fail("TWINME_GOOGLE_CLIENT_SECRET", "TWINME_GOOGLE_CLIENT_ID and TWINME_GOOGLE_CLIENT_SECRET must be set together")
	}
	c.GoogleIssuerURL = strings.TrimRight(p.str("TWINME_GOOGLE_ISSUER_URL", "https://accounts.google.com"), "/")
	p.absURL("TWINME_GOOGLE_ISSUER_URL", c.GoogleIssuerURL)

	c.EncryptionKeys = p.str("TWINME_ENCRYPTION_KEYS", "")
	if c.Environment == Production && c.EncryptionKeys == "" {
		p.fail("TWINME_ENCRYPTION_KEYS", "is required in production: set it to id:base64(32 random bytes), e.g. the output of `twinme keys generate`")
	}
	if c.EncryptionKeys != "" {
		// Checked here, before anything opens or migrates the database.
		if keys, err := secret.ParseKeys(c.EncryptionKeys); err != nil {
			p.fail("TWINME_ENCRYPTION_KEYS", "%v", err)
		} else if _, err := secret.NewKeyring(keys); err != nil {
			p.fail("TWINME_ENCRYPTION_KEYS", "%v", err)
		}
	}
}

// platforms reads each platform's OAuth client and endpoint overrides.
func (p *parser) platforms(c *Config) {
	c.TokenRefreshMargin = p.duration("TWINME_TOKEN_REFRESH_MARGIN", 10*time.Minute, time.Minute)
	c.Platforms = map[string]PlatformConfig{}
	for _, id := range PlatformIDs {
		up := "TWINME_" + strings.ToUpper(id) + "_"
		pc := PlatformConfig{ClientID: p.str(up+"CLIENT_ID", ""), ClientSecret: p.str(up+"CLIENT_SECRET", "")}
		if (id == "youtube" || id == "gmail") && pc.ClientID == "" && pc.ClientSecret == "" {
			pc.ClientID, pc.ClientSecret = c.GoogleClientID, c.GoogleClientSecret
		}
		if (pc.ClientID == "") != (pc.ClientSecret == "") {
			p.fail(up+"CLIENT_SECRET", "%sCLIENT_ID and %sCLIENT_SECRET must be set together", up, up)
		}
		for _, ep := range []struct {
			name string
			dst  *string
		}{{"AUTH_URL", &pc.AuthURL}, {"TOKEN_URL", &pc.TokenURL}, {"REVOKE_URL", &pc.RevokeURL}, {"API_URL", &pc.APIURL}} {
			if v := strings.TrimRight(p.str(up+ep.name, ""), "/"); v != "" {
				p.absURL(up+ep.name, v)
				*ep.dst = v
			}
		}
		c.Platforms[id] = pc
	}
}

// operations reads the scheduler, alerts, error tracking and metrics.
func (p *parser) operations(c *Config) {
	switch strings.ToLower(p.str("TWINME_SCHEDULER", "on")) {
	case "on", "true", "1", "yes":
		c.Scheduler = true
	case "off", "false", "0", "no":
	default:
		p.fail("TWINME_SCHEDULER", "must be on or off, got %q", p.getenv("TWINME_SCHEDULER"))
	}
	c.Schedules, c.ScheduleVars = map[string]string{}, map[string]string{}
	for _, job := range JobNames {
		name := "TWINME_SCHEDULE_" + strings.ToUpper(strings.ReplaceAll(job, "-", "_"))
		c.ScheduleVars[job] = name
		if v := p.str(name, ""); v != "" {
			c.Schedules[job] = v
		}
	}
	c.Instance = p.str("TWINME_INSTANCE", "")
	c.CronSecret = p.str("TWINME_CRON_SECRET", "")
	if c.CronSecret != "" && len(c.CronSecret) < 16 {
		p.fail("TWINME_CRON_SECRET", "must be at least 16 characters (use a random value)")
	}
	c.AlertWebhookURL = p.str("TWINME_ALERT_WEBHOOK_URL", "")
	if c.AlertWebhookURL != "" {
		p.absURL("TWINME_ALERT_WEBHOOK_URL", c.AlertWebhookURL)
	}
	c.AlertAfter = int(p.int64("TWINME_ALERT_AFTER", 3, 1))
	c.SentryDSN = p.str("TWINME_SENTRY_DSN", "")
	if c.SentryDSN != "" {
		p.absURL("TWINME_SENTRY_DSN", c.SentryDSN)
	}
	c.CronRetention = p.duration("TWINME_CRON_RETENTION", 90*24*time.Hour, time.Hour)
	c.MetricsToken = p.str("TWINME_METRICS_TOKEN", "")
	c.MetricsListen = p.str("TWINME_METRICS_LISTEN", "")
	if c.MetricsListen != "" {
		if _, port, err := net.SplitHostPort(c.MetricsListen); err != nil || port == "" {
			p.fail("TWINME_METRICS_LISTEN", "must be host:port, e.g. 127.0.0.1:9090, got %q", c.MetricsListen)
		}
	}
}

// data reads polling, retention, exports and the language model.
func (p *parser) data(c *Config) {
	c.SyncInterval = p.duration("TWINME_SYNC_INTERVAL", 30*time.Minute, time.Minute)
	c.SyncWorkers = int(p.int64("TWINME_SYNC_WORKERS", 4, 1))
	c.ObserverRetention = p.duration("TWINME_OBSERVER_RETENTION", 30*24*time.Hour, time.Hour)
	c.ExportDir = p.str("TWINME_EXPORT_DIR", filepath.Join(c.DataDir, "exports"))
	c.ExportWorkers = int(p.int64("TWINME_EXPORT_WORKERS", 2, 1))
	c.AccessLogRetention = p.duration("TWINME_ACCESS_LOG_RETENTION", 90*24*time.Hour, time.Hour)
	c.AccessLogSalt = p.str("TWINME_ACCESS_LOG_SALT", "")
	if c.AccessLogSalt != "" && len(c.AccessLogSalt) < 16 {
		p.fail("TWINME_ACCESS_LOG_SALT", "must be at least 16 characters (use a random value)")
	}
	c.AnthropicAPIKey = p.str("TWINME_ANTHROPIC_API_KEY", "")
	c.AnthropicModel = p.str("TWINME_ANTHROPIC_MODEL", "")
	c.AnthropicBaseURL = strings.TrimRight(p.str("TWINME_ANTHROPIC_BASE_URL", ""), "/")
	if c.AnthropicBaseURL != "" {
		p.absURL("TWINME_ANTHROPIC_BASE_URL", c.AnthropicBaseURL)
	}
}

// production refuses, in production, settings that quietly weaken it,
// naming the variable.
func (p *parser) production(c *Config) {
	if c.Environment != Production {
		return
	}
	if strings.HasPrefix(c.PublicURL, "http://") && !c.AllowInsecurePublicURL {
		p.fail("TWINME_PUBLIC_URL", "must be https in production (cookies are only Secure on https), got %q; for a local trial set TWINME_ALLOW_INSECURE_PUBLIC_URL=true", c.PublicURL)
	}
	if slices.Contains(c.CORSOrigins, "*") {
		p.fail("TWINME_CORS_ORIGINS", "must list the allowed origins in production; * would let any site read a signed-in user's data")
	}
	if c.MetricsToken == "" && c.MetricsListen == "" {
		p.fail("TWINME_METRICS_TOKEN", "or TWINME_METRICS_LISTEN is required in production: /metrics must not be open to everyone")
	}
}

// SecureCookies reports whether cookies must carry the Secure attribute.
func (c *Config) SecureCookies() bool { return strings.HasPrefix(c.PublicURL, "https://") }

// GoogleSignInEnabled reports whether Google sign-in is configured.
func (c *Config) GoogleSignInEnabled() bool { return c.GoogleClientID != "" }

// Help renders Vars as an aligned list for --help.
func Help(names ...string) string {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var b strings.Builder
	for _, v := range Vars {
		if len(want) > 0 && !want[v.Name] {
			continue
		}
		fmt.Fprintf(&b, "  %-30s %s (default %s)\n", v.Name, v.Help, v.Default)
	}
	return b.String()
}

func defaultPublicURL(listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("config: %s %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

func (p *parser) boolean(name string) bool {
	switch v := strings.ToLower(p.str(name, "false")); v {
	case "true", "1", "yes", "on":
		return true
	case "false", "0", "no", "off":
		return false
	default:
		p.fail(name, "must be true or false, got %q", v)
		return false
	}
}

func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) absURL(name, v string) {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(name, "must be an absolute http(s) URL, got %q", v)
	}
}

func (p *parser) duration(name string, def, min time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < min {
		p.fail(name, "must be a duration of at least %s such as 24h or 90m, got %q", min, v)
		return def
	}
	return d
}

func (p *parser) int64(name string, def, min int64) int64 {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min {
		p.fail(name, "must be a whole number of at least %d, got %q", min, v)
		return def
	}
	return n
}

// rate parses "N-DURATION" (100-15m); "0" disables.
func (p *parser) rate(name, def string) Rate {
	v := p.str(name, def)
	if v == "0" {
		return Rate{}
	}
	n, d, ok := strings.Cut(v, "-")
	limit, err1 := strconv.ParseInt(n, 10, 64)
	period, err2 := time.ParseDuration(d)
	if !ok || err1 != nil || err2 != nil || limit < 1 || period < time.Second {
		p.fail(name, "must be N-DURATION such as 100-15m (or 0 to disable), got %q", v)
		return Rate{}
	}
	return Rate{Limit: limit, Period: period}
}
