package store

import (
	"encoding/json"

	"github.com/twinme/twinme/internal/domain"
)

// Every row type the API shows converts to its domain type here, in one
// method named Domain: services return domain types, never rows, and the
// GraphQL schema binds only those.

// Domain is what the API shows of u.
func (u *User) Domain() domain.User {
	out := domain.User{
		ID: u.ID, Email: u.Email, Name: u.Name, AvatarURL: u.AvatarURL, Role: RoleUser, CreatedAt: u.CreatedAt,
		TimeZone: u.TimeZone(), TimeZoneSource: u.TimeZoneSource(),
	}
	if u.IsAdmin() {
		out.Role = RoleAdmin
	}
	return out
}

// Domain is what the API shows of t; unknown stored scopes are left out.
func (t *APIToken) Domain() domain.APIToken {
	out := domain.APIToken{
		ID: t.ID, UserID: t.UserID, Name: t.Name, CreatedAt: t.CreatedAt,
		LastUsedAt: t.LastUsedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt,
	}
	for _, s := range t.ScopeList() {
		if sc := domain.Scope(s); sc.Valid() {
			out.Scopes = append(out.Scopes, sc)
		}
	}
	return out
}

// Domain is what the API shows of c (never its tokens).
func (c *Connection) Domain() domain.Connection {
	return domain.Connection{
		ID: c.ID, UserID: c.UserID, Platform: c.Platform, Status: c.Status, AccountName: c.AccountName,
		ConnectedAt: c.ConnectedAt, LastSync: c.LastSync, TokenExpiresAt: c.TokenExpiresAt,
		LastError: optional(c.LastError), LastErrorAt: c.LastErrorAt,
	}
}

// Domain is what the API shows of e.
func (e *CronExecution) Domain() domain.CronExecution {
	out := domain.CronExecution{
		ID: e.ID, JobName: e.JobName, Status: e.Status, ExecutionTimeMs: int(e.ExecutionTimeMs),
		TokensChecked: e.TokensChecked, TokensRefreshed: e.TokensRefreshed, PlatformsPolled: e.PlatformsPolled,
		ErrorMessage: optional(e.ErrorMessage), ResultData: json.RawMessage(e.ResultData),
		ExecutedAt: e.ExecutedAt, Instance: e.Instance, Trigger: e.Trigger,
	}
	if e.ResultData == "" {
		out.ResultData = json.RawMessage("{}")
	}
	return out
}

// Domain is what the API shows of s.
func (s *ObserverSettings) Domain() domain.ObserverSettings {
	return domain.ObserverSettings{Enabled: s.Enabled, FullPaths: s.FullPaths}
}

// Domain is what the API shows of l (never its token hash).
func (l *ShareLink) Domain() domain.ShareLink {
	return domain.ShareLink{
		ID: l.ID, OwnerID: l.UserID, Audience: domain.Audience(l.Audience), CreatedAt: l.CreatedAt,
		LastUsedAt: l.LastUsedAt, RevokedAt: l.RevokedAt,
	}
}

// Domain is what the API shows of c.
func (c *TwinConversation) Domain() domain.TwinConversation {
	out := domain.TwinConversation{ID: c.ID, OwnerUserID: c.OwnerUserID, CreatedAt: c.CreatedAt}
	if c.Audience != "" {
		a := domain.Audience(c.Audience)
		out.Audience = &a
	}
	return out
}

// Domain is what the API shows of m.
func (m *TwinMessage) Domain() domain.TwinMessage {
	out := domain.TwinMessage{
		ID: m.ID, ConversationID: m.ConversationID, Role: domain.TwinRoleUser, Text: m.Text,
		Source: optional(m.Source), Completed: m.Completed, Error: optional(m.Error), CreatedAt: m.CreatedAt,
	}
	if m.Role == TwinRoleTwin {
		out.Role = domain.TwinRoleTwin
	}
	return out
}

// Domain is what the API shows of e (never its download token's hash).
func (e *DataExport) Domain() domain.DataExport {
	out := domain.DataExport{
		ID: e.ID, UserID: e.UserID, Status: domain.ExportStatus(e.Status), ItemsDone: int(e.ItemsDone), ItemsTotal: int(e.ItemsTotal),
		Error: optional(e.ErrorMessage), CreatedAt: e.CreatedAt, FinishedAt: e.FinishedAt, ExpiresAt: e.ExpiresAt, DownloadedAt: e.DownloadedAt,
	}
	switch {
	case out.Status == domain.ExportReady || out.Status == domain.ExportDownloaded:
		out.Progress = 1
		n := int(e.SizeBytes)
		out.SizeBytes = &n
	case e.ItemsTotal > 0:
		out.Progress = min(1, float64(e.ItemsDone)/float64(e.ItemsTotal))
	}
	return out
}

// Domain is what the owner sees of e.
func (e *AccessLogEntry) Domain() domain.AccessLogEntry {
	return domain.AccessLogEntry{
		ID: e.ID, ShareLinkID: e.ShareLinkID, Audience: domain.Audience(e.Audience), Kind: domain.AccessKind(e.Kind),
		ConversationID: e.ConversationID, OccurredAt: e.OccurredAt, Client: e.UserAgentFamily, ClientHash: e.ClientHash,
	}
}

// Domain is what the owner sees of in, evidence decoded.
func (in *Insight) Domain() domain.Insight {
	return domain.Insight{
		ID: in.ID, Key: in.Key, Cluster: domain.Cluster(in.Cluster), Subcluster: optional(in.Subcluster),
		Title: in.Title, Body: in.Body, Evidence: append([]domain.Evidence{}, in.DecodedEvidence()...), Confidence: in.Confidence,
		Sensitivity: in.Sensitivity, Source: domain.ParseInsightSource(in.Source), CreatedAt: in.CreatedAt,
	}
}

// Domains converts every row of rows.
func Domains[R any, D any](rows []R, conv func(*R) D) []D {
	out := make([]D, len(rows))
	for i := range rows {
		out[i] = conv(&rows[i])
	}
	return out
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
