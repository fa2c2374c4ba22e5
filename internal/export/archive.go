// Package export writes and reads a person's data archive: everything
// twinme holds of them as a zip of JSON and JSON Lines files, streamed
// (only the row being written is in memory, whatever the number of items),
// downloadable once through a short-lived single-use URL, and importable
// into another twinme instance.
package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"regexp"
	"time"

	"github.com/twinme/twinme/internal/store"
)

// Format and Version identify a twinme archive in its manifest.
const (
	Format  = "twinme-export"
	Version = 1
)

// ManifestName is the archive's table of contents, written last.
const ManifestName = "manifest.json"

// Manifest lists every other file of an archive with its SHA-256, its
// uncompressed size and its record count, so an importer refuses a file
// that was changed or cut.
type Manifest struct {
	Format     string         `json:"format"`
	Version    int            `json:"version"`
	ExportedAt time.Time      `json:"exported_at"`
	Files      []ManifestFile `json:"files"`
}

// ManifestFile is one entry of the manifest.
type ManifestFile struct {
	Name    string `json:"name"`
	SHA256  string `json:"sha256"`
	Bytes   int64  `json:"bytes"`
	Records int64  `json:"records"`
}

// File names of an archive (platform items are platforms/<p>/<type>.jsonl).
const (
	fileReadme        = "README.txt"
	fileProfile       = "profile.json"
	fileConnections   = "connections.json"
	fileObserver      = "observer_events.jsonl"
	fileInsights      = "insights.jsonl"
	fileSignature     = "signature.json"
	filePrivacy       = "privacy_settings.json"
	fileRetention     = "retention.json"
	fileShareLinks    = "share_links.json"
	fileConversations = "twin_conversations.jsonl"
	fileAccessLog     = "access_log.jsonl"
)

// platformFile matches the name of a platform items file; both parts are
// the slugs twinme stores.
var platformFile = regexp.MustCompile(`^platforms/([a-z][a-z0-9_]{0,31})/([a-z][a-z0-9_-]{0,63})\.jsonl$`)

// readme says what each file is; it is the archive's first file.
const readme = `Your twinme data
================

This archive holds everything twinme stored about you when it was made.
JSON files hold one document; JSON Lines files (.jsonl) one record per line.
Times are RFC 3339 in UTC. Another twinme instance can import this archive
("twinme import-export --user EMAIL FILE", or the importData mutation with
the zip): your platform items, browser events, privacy settings, retention
choices and conversations with your own twin are merged into the account
there, and the analysis is recomputed from them.

manifest.json             format, version and the SHA-256, size and record
                          count of every other file (an importer refuses a
                          file that does not match)
profile.json              your account: id, email, name, avatar, when it was
                          created, time zone, browser-extension and
                          similar-twins choices
connections.json          the platform accounts you connected: platform,
                          account, scopes, status, dates, last error (never a
                          token)
platforms/<p>/<type>.jsonl every item twinme keeps of platform <p>, one file per
                          data type (play, watch, search, repo, message …):
                          external id, time, source, content hash and the
                          original stored payload
observer_events.jsonl     events your browser extension recorded (type, time,
                          domain, the URL only if you allowed full paths,
                          event data)
insights.jsonl            the insights derived from your data, with evidence,
                          confidence and sensitivity
signature.json            your latest soul signature: features, Big Five
                          traits, behavioural embedding, completeness, cluster
                          summaries, monthly periods, and the window of data it
                          was computed from (null before the first analysis)
privacy_settings.json     your privacy sliders, as stored
retention.json            how long you chose to keep raw items, per platform
                          and for browser events (days; absent: the default)
share_links.json          your share links: audience and dates (never their
                          tokens)
twin_conversations.jsonl  your conversations with your own twin, and the ones
                          you had (signed in) with other people's twins,
                          with every message
access_log.jsonl          who saw your twin through your share links: link,
                          audience, kind (view, conversation, message), time,
                          browser family and a short salted hash of the
                          visitor's address (never the address)
`

// entryWriter writes one archive file, hashing and counting as it goes.
type entryWriter struct {
	w       io.Writer
	h       hash.Hash
	n       int64
	records int64
	enc     *json.Encoder
}

func (e *entryWriter) Write(p []byte) (int, error) {
	n, err := e.w.Write(p)
	e.h.Write(p[:n])
	e.n += int64(n)
	return n, err
}

// line writes v as one JSON Lines record.
func (e *entryWriter) line(v any) error {
	e.records++
	return e.enc.Encode(v) // Encode ends with '\n'
}

// archiveWriter builds a zip entry by entry and the manifest of them.
type archiveWriter struct {
	zw       *zip.Writer
	manifest Manifest
	cur      *entryWriter
	name     string
}

func newArchiveWriter(w io.Writer, now time.Time) *archiveWriter {
	return &archiveWriter{zw: zip.NewWriter(w), manifest: Manifest{Format: Format, Version: Version, ExportedAt: now.UTC(), Files: []ManifestFile{}}}
}

// create starts file name; the previous one is finished.
func (a *archiveWriter) create(name string, modified time.Time) (*entryWriter, error) {
	a.finish()
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified.UTC()})
	if err != nil {
		return nil, fmt.Errorf("export: %s: %w", name, err)
	}
	a.cur = &entryWriter{w: w, h: sha256.New()}
	a.cur.enc = json.NewEncoder(a.cur)
	a.cur.enc.SetEscapeHTML(false)
	a.name = name
	return a.cur, nil
}

func (a *archiveWriter) finish() {
	if a.cur == nil {
		return
	}
	a.manifest.Files = append(a.manifest.Files, ManifestFile{Name: a.name, SHA256: hex.EncodeToString(a.cur.h.Sum(nil)), Bytes: a.cur.n, Records: a.cur.records})
	a.cur = nil
}

// document writes a whole-file JSON document (one record).
func (a *archiveWriter) document(name string, modified time.Time, v any) error {
	e, err := a.create(name, modified)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	e.records = 1
	if _, err := e.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("export: %s: %w", name, err)
	}
	return nil
}

// close writes the manifest and the zip's directory.
func (a *archiveWriter) close(modified time.Time) error {
	a.finish()
	w, err := a.zw.CreateHeader(&zip.FileHeader{Name: ManifestName, Method: zip.Deflate, Modified: modified.UTC()})
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	b, err := json.MarshalIndent(a.manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("export: manifest: %w", err)
	}
	return a.zw.Close()
}

// Records of the archive files. Field names are the archive's contract:
// the importer reads exactly these.

// Profile is profile.json.
type Profile struct {
	ID                string    `json:"id"`
	Email             string    `json:"email"`
	Name              string    `json:"name"`
	AvatarURL         string    `json:"avatar_url"`
	CreatedAt         time.Time `json:"created_at"`
	ObservationOn     bool      `json:"observation_enabled"`
	ObservationFull   bool      `json:"observation_full_paths"`
	SimilarTwinsOptIn bool      `json:"similar_twins_opt_in"`
	// TimeZone is the IANA zone the person chose ("" if none);
	// UTCOffsetMinutes the browser extension's first offset (null if none).
	TimeZone         string `json:"time_zone"`
	UTCOffsetMinutes *int   `json:"utc_offset_minutes"`
}

// ConnectionRecord is one entry of connections.json.
type ConnectionRecord struct {
	Platform    string     `json:"platform"`
	Status      string     `json:"status"`
	AccountID   string     `json:"account_id"`
	AccountName string     `json:"account_name"`
	Scopes      string     `json:"scopes"`
	ConnectedAt time.Time  `json:"connected_at"`
	LastSync    *time.Time `json:"last_sync"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at,omitempty"`
}

// ItemRecord is one line of a platform items file.
type ItemRecord struct {
	ExternalID  string          `json:"external_id"`
	OccurredAt  time.Time       `json:"occurred_at"`
	Source      string          `json:"source"`
	ContentHash string          `json:"content_hash"`
	FirstSeenAt time.Time       `json:"first_seen_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	Payload     json.RawMessage `json:"payload"`
}

// EventRecord is one line of observer_events.jsonl.
type EventRecord struct {
	ClientEventID string          `json:"client_event_id"`
	Type          string          `json:"type"`
	OccurredAt    time.Time       `json:"occurred_at"`
	Domain        string          `json:"domain"`
	URL           *string         `json:"url"`
	Data          json.RawMessage `json:"data"`
	ReceivedAt    time.Time       `json:"received_at"`
}

// InsightRecord is one line of insights.jsonl.
type InsightRecord struct {
	Key         string          `json:"key"`
	Cluster     string          `json:"cluster"`
	Subcluster  string          `json:"subcluster"`
	Title       string          `json:"title"`
	Body        string          `json:"body"`
	Evidence    json.RawMessage `json:"evidence"`
	Confidence  float64         `json:"confidence"`
	Sensitivity int             `json:"sensitivity"`
	Source      string          `json:"source"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// SignatureRecord is signature.json (null before the first analysis).
type SignatureRecord struct {
	AnalyzedAt   time.Time       `json:"analyzed_at"`
	DataFrom     *time.Time      `json:"data_from"`
	DataTo       *time.Time      `json:"data_to"`
	Features     json.RawMessage `json:"features"`
	Traits       json.RawMessage `json:"traits"`
	Embedding    json.RawMessage `json:"embedding"`
	Completeness json.RawMessage `json:"completeness"`
	Summaries    json.RawMessage `json:"summaries"`
	Periods      json.RawMessage `json:"periods"`
}

// ShareLinkRecord is one entry of share_links.json (never the token).
type ShareLinkRecord struct {
	ID         string     `json:"id"`
	Audience   string     `json:"audience"`
	CreatedAt  time.Time  `json:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// ConversationRecord is one line of twin_conversations.jsonl.
type ConversationRecord struct {
	ID string `json:"id"`
	// As is "owner" for a conversation with one's own twin and "visitor"
	// for one with someone else's twin through their share link.
	As        string          `json:"as"`
	Audience  string          `json:"audience"`
	CreatedAt time.Time       `json:"created_at"`
	UpdatedAt time.Time       `json:"updated_at"`
	Messages  []MessageRecord `json:"messages"`
}

// MessageRecord is one message of a conversation.
type MessageRecord struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	Text      string    `json:"text"`
	Source    string    `json:"source,omitempty"`
	Completed bool      `json:"completed"`
	Error     string    `json:"error,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AccessRecord is one line of access_log.jsonl.
type AccessRecord struct {
	ShareLinkID     string    `json:"share_link_id"`
	Audience        string    `json:"audience"`
	Kind            string    `json:"kind"`
	ConversationID  *string   `json:"conversation_id"`
	UserAgentFamily string    `json:"user_agent_family"`
	ClientHash      string    `json:"client_hash"`
	OccurredAt      time.Time `json:"occurred_at"`
}

// Progress is how far an export is.
type Progress struct {
	Done, Total int64
}

// progressEvery is how many records pass between progress reports.
const progressEvery = 2000

// Write writes the archive of userID to w and returns the number of
// records written. progress (may be nil) is called as records are written
// and once at the end; an error it returns stops the export.
func Write(ctx context.Context, db *store.DB, userID string, now time.Time, w io.Writer, progress func(Progress) error) (int64, error) {
	x := &exporter{db: db, userID: userID, now: now, a: newArchiveWriter(w, now), progress: progress}
	if err := x.count(ctx); err != nil {
		return 0, err
	}
	// The archive's files, in the order README.txt lists them.
	for _, file := range []func(context.Context) error{
		x.readme, x.profile, x.connections, x.platformData, x.observer, x.insights,
		x.signature, x.privacy, x.retention, x.shareLinks, x.conversations, x.accessLog,
	} {
		if err := file(ctx); err != nil {
			return 0, err
		}
	}
	if err := x.a.close(now); err != nil {
		return 0, err
	}
	if progress != nil {
		x.p.Total = x.p.Done
		if err := progress(x.p); err != nil {
			return 0, err
		}
	}
	return x.p.Done, nil
}

// exporter is one run of Write: the archive being written and how far it is.
type exporter struct {
	db       *store.DB
	userID   string
	now      time.Time
	a        *archiveWriter
	progress func(Progress) error
	p        Progress
	groups   []store.DataGroup
	sig      *store.SoulSignature // nil: never analysed
}

// count sizes the export (platform items and observer events) for progress.
func (x *exporter) count(ctx context.Context) error {
	groups, err := x.db.PlatformDataGroups(ctx, x.userID)
	if err != nil {
		return err
	}
	events, err := x.db.CountObserverEvents(ctx, x.userID)
	if err != nil {
		return err
	}
	x.groups, x.p.Total = groups, events
	for _, g := range groups {
		x.p.Total += g.Count
	}
	return nil
}

// tick counts one streamed record and reports progress every
// progressEvery records.
func (x *exporter) tick(ctx context.Context) error {
	x.p.Done++
	if x.p.Done > x.p.Total {
		x.p.Total = x.p.Done // rows stored while the export runs
	}
	if x.progress == nil || x.p.Done%progressEvery != 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return x.progress(x.p)
}

func (x *exporter) readme(context.Context) error {
	e, err := x.a.create(fileReadme, x.now)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(e, readme); err != nil {
		return fmt.Errorf("export: readme: %w", err)
	}
	e.records = 1
	return nil
}

func (x *exporter) profile(ctx context.Context) error {
	u, err := x.db.UserByID(ctx, x.userID)
	if err != nil {
		return err
	}
	obs, err := x.db.ObserverSettings(ctx, x.userID)
	if err != nil {
		return err
	}
	prof := Profile{ID: u.ID, Email: u.Email, Name: u.Name, AvatarURL: u.AvatarURL, CreatedAt: u.CreatedAt.UTC(),
		ObservationOn: obs.Enabled, ObservationFull: obs.FullPaths, TimeZone: u.ChosenTimeZone, UTCOffsetMinutes: u.UTCOffsetMinutes}
	sig, err := x.db.SoulSignature(ctx, x.userID)
	if err != nil && err != store.ErrNoSignature {
		return err
	}
	if sig != nil {
		x.sig = sig
		prof.SimilarTwinsOptIn = sig.OptInSimilar
	}
	return x.a.document(fileProfile, x.now, prof)
}

func (x *exporter) connections(ctx context.Context) error {
	conns, err := x.db.ListConnections(ctx, x.userID)
	if err != nil {
		return err
	}
	crs := make([]ConnectionRecord, 0, len(conns))
	for _, c := range conns {
		crs = append(crs, ConnectionRecord{Platform: string(c.Platform), Status: string(c.Status), AccountID: c.AccountID,
			AccountName: c.AccountName, Scopes: c.Scopes, ConnectedAt: c.ConnectedAt.UTC(), LastSync: utcPtr(c.LastSync),
			LastError: c.LastError, LastErrorAt: utcPtr(c.LastErrorAt)})
	}
	return x.a.document(fileConnections, x.now, crs)
}

// platformData writes platforms/<platform>/<data type>.jsonl, streamed.
func (x *exporter) platformData(ctx context.Context) error {
	for _, g := range x.groups {
		name := "platforms/" + g.Platform + "/" + g.DataType + ".jsonl"
		if !platformFile.MatchString(name) {
			return fmt.Errorf("export: platform %q data type %q cannot be named in an archive", g.Platform, g.DataType)
		}
		e, err := x.a.create(name, x.now)
		if err != nil {
			return err
		}
		err = x.db.EachPlatformItem(ctx, x.userID, g.Platform, g.DataType, func(d *store.PlatformData) error {
			if err := e.line(ItemRecord{ExternalID: d.ExternalID, OccurredAt: d.OccurredAt.UTC(), Source: d.Source,
				ContentHash: d.ContentHash, FirstSeenAt: d.FirstSeenAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Payload: rawJSON(d.Payload, "{}")}); err != nil {
				return fmt.Errorf("export: %s: %w", name, err)
			}
			return x.tick(ctx)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (x *exporter) observer(ctx context.Context) error {
	e, err := x.a.create(fileObserver, x.now)
	if err != nil {
		return err
	}
	return x.db.EachObserverEventRow(ctx, x.userID, func(ev *store.ObserverEvent) error {
		if err := e.line(EventRecord{ClientEventID: ev.ClientEventID, Type: ev.Type, OccurredAt: ev.OccurredAt.UTC(), Domain: ev.Domain,
			URL: ev.URL, Data: rawJSON(ev.Data, "{}"), ReceivedAt: ev.ReceivedAt.UTC()}); err != nil {
			return fmt.Errorf("export: %s: %w", fileObserver, err)
		}
		return x.tick(ctx)
	})
}

func (x *exporter) insights(ctx context.Context) error {
	ins, err := x.db.AllInsights(ctx, x.userID)
	if err != nil {
		return err
	}
	e, err := x.a.create(fileInsights, x.now)
	if err != nil {
		return err
	}
	for _, in := range ins {
		if err := e.line(InsightRecord{Key: in.Key, Cluster: in.Cluster, Subcluster: in.Subcluster, Title: in.Title, Body: in.Body,
			Evidence: rawJSON(in.Evidence, "[]"), Confidence: in.Confidence, Sensitivity: in.Sensitivity, Source: in.Source,
			CreatedAt: in.CreatedAt.UTC(), UpdatedAt: in.UpdatedAt.UTC()}); err != nil {
			return fmt.Errorf("export: insights: %w", err)
		}
	}
	return nil
}

// signature writes the signature profile read (null when never analysed).
func (x *exporter) signature(context.Context) error {
	var sr *SignatureRecord
	if sig := x.sig; sig != nil {
		sr = &SignatureRecord{AnalyzedAt: sig.AnalyzedAt.UTC(), DataFrom: utcPtr(sig.DataFrom), DataTo: utcPtr(sig.DataTo),
			Features: rawJSON(sig.Features, "null"), Traits: rawJSON(sig.Traits, "null"), Embedding: rawJSON(sig.Embedding, "null"),
			Completeness: rawJSON(sig.Completeness, "null"), Summaries: rawJSON(sig.Summaries, "null"), Periods: rawJSON(sig.Periods, "null")}
	}
	return x.a.document(fileSignature, x.now, sr)
}

func (x *exporter) privacy(ctx context.Context) error {
	priv, err := x.db.PrivacyRows(ctx, x.userID)
	if err != nil {
		return err
	}
	if priv == nil {
		priv = []map[string]any{}
	}
	return x.a.document(filePrivacy, x.now, priv)
}

func (x *exporter) retention(ctx context.Context) error {
	ret, err := x.db.Retentions(ctx, x.userID)
	if err != nil {
		return err
	}
	return x.a.document(fileRetention, x.now, ret)
}

func (x *exporter) shareLinks(ctx context.Context) error {
	links, err := x.db.ListShareLinks(ctx, x.userID)
	if err != nil {
		return err
	}
	lrs := make([]ShareLinkRecord, 0, len(links))
	for _, l := range links {
		lrs = append(lrs, ShareLinkRecord{ID: l.ID, Audience: l.Audience, CreatedAt: l.CreatedAt.UTC(), RevokedAt: utcPtr(l.RevokedAt), LastUsedAt: utcPtr(l.LastUsedAt)})
	}
	return x.a.document(fileShareLinks, x.now, lrs)
}

func (x *exporter) conversations(ctx context.Context) error {
	convs, err := x.db.ConversationsOf(ctx, x.userID)
	if err != nil {
		return err
	}
	e, err := x.a.create(fileConversations, x.now)
	if err != nil {
		return err
	}
	for _, c := range convs {
		cr := ConversationRecord{ID: c.ID, As: "owner", Audience: c.Audience, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(), Messages: []MessageRecord{}}
		if c.OwnerUserID != x.userID || c.ShareLinkID != nil {
			cr.As = "visitor"
		}
		if cr.Messages, err = x.messages(ctx, c.ID); err != nil {
			return err
		}
		if err := e.line(cr); err != nil {
			return fmt.Errorf("export: conversations: %w", err)
		}
	}
	return nil
}

// messages reads every message of conversation id, a page at a time.
func (x *exporter) messages(ctx context.Context, id string) ([]MessageRecord, error) {
	const page = 200
	out := []MessageRecord{}
	var after *store.Cursor
	for {
		ms, err := x.db.ListTwinMessages(ctx, id, after, page)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			out = append(out, MessageRecord{ID: m.ID, Role: m.Role, Text: m.Text, Source: m.Source, Completed: m.Completed, Error: m.Error, CreatedAt: m.CreatedAt.UTC()})
		}
		if len(ms) < page {
			return out, nil
		}
		cur := ms[len(ms)-1].Cursor()
		after = &cur
	}
}

func (x *exporter) accessLog(ctx context.Context) error {
	e, err := x.a.create(fileAccessLog, x.now)
	if err != nil {
		return err
	}
	return x.db.EachAccessLog(ctx, x.userID, func(l store.AccessLogEntry) error {
		return e.line(AccessRecord{ShareLinkID: l.ShareLinkID, Audience: l.Audience, Kind: l.Kind, ConversationID: l.ConversationID,
			UserAgentFamily: l.UserAgentFamily, ClientHash: l.ClientHash, OccurredAt: l.OccurredAt.UTC()})
	})
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// rawJSON passes stored JSON through as it is; an empty or invalid value
// (never expected) is written as def rather than breaking the file.
func rawJSON(s, def string) json.RawMessage {
	if s == "" || !json.Valid([]byte(s)) {
		return json.RawMessage(def)
	}
	return json.RawMessage(s)
}
