package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/privacy"
)

// Insight sources, as stored.
const (
	InsightSourcePattern = "pattern"
	InsightSourceLLM     = "llm"
)

// Insight is one stored statement about a user.
type Insight struct {
	bun.BaseModel `bun:"table:insights"`

	ID          string  `bun:"id,pk"`
	UserID      string  `bun:"user_id,notnull"`
	Key         string  `bun:"key,notnull"`
	Cluster     string  `bun:"cluster,notnull"`
	Subcluster  string  `bun:"subcluster,notnull"`
	Title       string  `bun:"title,notnull"`
	Body        string  `bun:"body,notnull"`
	Evidence    string  `bun:"evidence,notnull"` // JSON array of privacy.Evidence
	Confidence  float64 `bun:"confidence,notnull"`
	Sensitivity int     `bun:"sensitivity,notnull"`
	Source      string  `bun:"source,notnull"`
	// AlsoClusters: the other clusters the insight draws on, comma-separated.
	AlsoClusters string    `bun:"also_clusters,notnull"`
	ContentHash  string    `bun:"content_hash,notnull"`
	CreatedAt    time.Time `bun:"created_at,notnull"`
	UpdatedAt    time.Time `bun:"updated_at,notnull"`

	// decoded caches Evidence as parsed when the row was read, from the
	// text in decodedFrom (a row changed since is parsed again).
	decoded     []privacy.Evidence
	decodedFrom string
	hasDecoded  bool
}

var _ bun.AfterScanRowHook = (*Insight)(nil)

// AfterScanRow parses the evidence once, when the row is read.
func (in *Insight) AfterScanRow(context.Context) error {
	in.decoded, in.decodedFrom, in.hasDecoded = parseEvidence(in.Evidence), in.Evidence, true
	return nil
}

// DecodedEvidence returns the insight's evidence, parsed (read-only: it is
// the row's cache). Evidence that does not parse is dropped (shown as none),
// never guessed.
func (in *Insight) DecodedEvidence() []privacy.Evidence {
	if in.hasDecoded && in.decodedFrom == in.Evidence {
		return in.decoded
	}
	return parseEvidence(in.Evidence)
}

func parseEvidence(s string) []privacy.Evidence {
	var ev []privacy.Evidence
	if json.Unmarshal([]byte(s), &ev) != nil {
		return nil
	}
	return ev
}

// PrivacyInsight returns the insight as the reveal filter takes it. Evidence
// that does not parse is dropped (shown as none), never guessed.
func (in *Insight) PrivacyInsight() privacy.Insight {
	out := privacy.Insight{
		Key: in.Key, Cluster: privacy.Cluster(in.Cluster), Subcluster: privacy.Subcluster(in.Subcluster),
		Title: in.Title, Body: in.Body, Source: in.Source, Sensitivity: in.Sensitivity, Confidence: in.Confidence,
		// A copy: the cache is the row's, whatever a caller does with it.
		Evidence: slices.Clone(in.DecodedEvidence()),
	}
	for _, c := range strings.Split(in.AlsoClusters, ",") {
		if c != "" {
			// An unknown name stays as it is: the filter then hides the insight.
			out.Also = append(out.Also, privacy.Cluster(c))
		}
	}
	return out
}

func joinClusters(cs []privacy.Cluster) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = string(c)
	}
	return strings.Join(parts, ",")
}

// insightHash identifies an insight's content: what a reader would see
// changed. Confidence is rounded to 3 decimals so float noise is no change.
func insightHash(in privacy.Insight) string {
	c := struct {
		Cluster     privacy.Cluster    `json:"c"`
		Subcluster  privacy.Subcluster `json:"s"`
		Title       string             `json:"t"`
		Body        string             `json:"b"`
		Evidence    []privacy.Evidence `json:"e"`
		Confidence  float64            `json:"f"`
		Sensitivity int                `json:"x"`
		Source      string             `json:"o"`
		Also        []privacy.Cluster  `json:"a,omitempty"`
	}{in.Cluster, in.Subcluster, in.Title, in.Body, in.Evidence, math.Round(in.Confidence*1000) / 1000, in.Sensitivity, in.Source, in.Also}
	raw, _ := json.Marshal(c)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// SaveInsights stores userID's current insights of one source ("pattern" or
// "llm") in one transaction: an insight is inserted when its key is new,
// rewritten when its content changed, and left alone otherwise; stored
// insights of that source whose key is no longer among ins are deleted
// (the data behind them is gone). It returns the rows written, in the order
// of ins, and the number deleted.
//
// Errors: BAD_USER_INPUT for an unknown source, cluster, an empty key, or a
// sensitivity outside 0–100.
func (db *DB) SaveInsights(ctx context.Context, userID, source string, ins []privacy.Insight, now time.Time) (stored []Insight, deleted int, err error) {
	if source != InsightSourcePattern && source != InsightSourceLLM {
		return nil, 0, apperr.Invalid("source", "unknown insight source %q", source)
	}
	keys := make([]string, 0, len(ins))
	seen := make(map[string]bool, len(ins))
	for _, in := range ins {
		switch {
		case in.Key == "":
			return nil, 0, apperr.Invalid("key", "an insight needs a key")
		case seen[in.Key]:
			return nil, 0, apperr.Invalid("key", "insight key %q repeated", in.Key)
		case !in.Cluster.Valid():
			return nil, 0, apperr.Invalid("cluster", "insight %q: unknown life cluster %q", in.Key, in.Cluster)
		case privacy.ValidateLevel(in.Sensitivity) != nil:
			return nil, 0, apperr.Invalid("sensitivity", "insight %q: sensitivity %d outside 0–100", in.Key, in.Sensitivity)
		}
		seen[in.Key] = true
		keys = append(keys, in.Key)
	}
	now = UTC(now)
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		stored, deleted = nil, 0
		var existing []Insight
		if err := tx.NewSelect().Model(&existing).Column("id", "key", "source", "content_hash", "created_at").
			Where("user_id = ?", userID).Scan(ctx); err != nil {
			return err
		}
		byKey := make(map[string]Insight, len(existing))
		for _, e := range existing {
			byKey[e.Key] = e
		}
		for _, in := range ins {
			in.Source = source
			hash := insightHash(in)
			old, ok := byKey[in.Key]
			if ok && old.ContentHash == hash {
				continue
			}
			ev := in.Evidence
			if ev == nil {
				ev = []privacy.Evidence{}
			}
			evJSON, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			row := Insight{
				ID: NewID(), UserID: userID, Key: in.Key, Cluster: string(in.Cluster), Subcluster: string(in.Subcluster),
				Title: in.Title, Body: in.Body, Evidence: string(evJSON), Confidence: in.Confidence,
				Sensitivity: in.Sensitivity, Source: source, AlsoClusters: joinClusters(in.Also), ContentHash: hash, CreatedAt: now, UpdatedAt: now,
			}
			if ok {
				// A key moves between sources only if a detector is renamed
				// into an LLM key; the row keeps its id and first time.
				row.ID, row.CreatedAt = old.ID, UTC(old.CreatedAt)
				if _, err := tx.NewUpdate().Model(&row).WherePK().
					Column("cluster", "subcluster", "title", "body", "evidence", "confidence", "sensitivity", "source", "also_clusters", "content_hash", "updated_at").
					Exec(ctx); err != nil {
					return err
				}
			} else if _, err := tx.NewInsert().Model(&row).Exec(ctx); err != nil {
				return err
			}
			stored = append(stored, row)
		}
		q := tx.NewDelete().Model((*Insight)(nil)).Where("user_id = ? AND source = ?", userID, source)
		if len(keys) > 0 {
			q = q.Where("key NOT IN (?)", bun.In(keys))
		}
		res, err := q.Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		deleted = int(n)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: save insights: %w", err)
	}
	return stored, deleted, nil
}

// ListInsights returns up to limit of userID's insights of cluster (all
// clusters when cluster is ""), newest first ((created_at, id) descending),
// after the keyset cursor.
func (db *DB) ListInsights(ctx context.Context, userID, cluster string, after *Cursor, limit int) ([]Insight, error) {
	var out []Insight
	q := db.NewSelect().Model(&out).Where("user_id = ?", userID).
		OrderExpr("created_at DESC, id DESC").Limit(int64(limit))
	if cluster != "" {
		q = q.Where("cluster = ?", cluster)
	}
	if after != nil {
		t := UTC(after.Time)
		q = q.Where("(created_at, id) < (?, ?)", UTC(t), after.ID)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list insights: %w", err)
	}
	return out, nil
}

// InsightByID returns userID's insight id, or NOT_FOUND (also for another
// user's insight).
func (db *DB) InsightByID(ctx context.Context, userID, id string) (*Insight, error) {
	in := new(Insight)
	if err := db.NewSelect().Model(in).Where("id = ? AND user_id = ?", id, userID).Scan(ctx); err != nil {
		if IsNoRows(err) {
			return nil, apperr.New(apperr.NotFound, "insight not found")
		}
		return nil, fmt.Errorf("store: insight: %w", err)
	}
	return in, nil
}

// AllInsights returns every insight of userID, by key.
func (db *DB) AllInsights(ctx context.Context, userID string) ([]Insight, error) {
	var out []Insight
	if err := db.NewSelect().Model(&out).Where("user_id = ?", userID).OrderExpr("key ASC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: insights: %w", err)
	}
	return out, nil
}

// SoulSignature is a user's latest analysis. The JSON columns are written
// and read by the soul service; the store does not interpret them.
type SoulSignature struct {
	bun.BaseModel `bun:"table:soul_signatures"`

	UserID       string    `bun:"user_id,pk"`
	AnalyzedAt   time.Time `bun:"analyzed_at,notnull"`
	Features     string    `bun:"features,notnull"`
	Traits       string    `bun:"traits,notnull"`
	Embedding    string    `bun:"embedding,notnull"`
	Completeness string    `bun:"completeness,notnull"`
	Summaries    string    `bun:"summaries,notnull"`
	Periods      string    `bun:"periods,notnull"`
	ContentHash  string    `bun:"content_hash,notnull"`
	OptInSimilar bool      `bun:"opt_in_similar,notnull"`
	// MatchAudience is the audience whose view similar twins compare.
	MatchAudience string `bun:"match_audience,notnull,default:'everyone'"`
	// Narrated is JSON: per cluster, the hash of the revealed input the
	// stored narrative was written from.
	Narrated  string    `bun:"narrated,notnull,default:'{}'"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
	// DataFrom and DataTo are the window of stored data the analysis read
	// (nil when it read none).
	DataFrom *time.Time `bun:"data_from"`
	DataTo   *time.Time `bun:"data_to"`
}

// ErrNoSignature is the NOT_FOUND error of a user never analysed.
var ErrNoSignature = apperr.New(apperr.NotFound, "no soul signature yet")

// SoulSignature returns userID's signature, or ErrNoSignature.
func (db *DB) SoulSignature(ctx context.Context, userID string) (*SoulSignature, error) {
	s := new(SoulSignature)
	if err := db.NewSelect().Model(s).Where("user_id = ?", userID).Scan(ctx); err != nil {
		if IsNoRows(err) {
			return nil, ErrNoSignature
		}
		return nil, fmt.Errorf("store: soul signature: %w", err)
	}
	return s, nil
}

// PutSoulSignature stores s (s.UpdatedAt stamps it) and reports whether its
// content hash differs from the stored one (or none was stored). The
// opt_in_similar choice is never changed here.
func (db *DB) PutSoulSignature(ctx context.Context, s SoulSignature) (changed bool, err error) {
	s.AnalyzedAt, s.UpdatedAt = UTC(s.AnalyzedAt), UTC(s.UpdatedAt)
	s.DataFrom, s.DataTo = utcPtr(s.DataFrom), utcPtr(s.DataTo)
	for _, p := range []*string{&s.Features, &s.Traits, &s.Embedding, &s.Completeness, &s.Summaries, &s.Periods} {
		if *p == "" {
			*p = "null"
		}
	}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var old string
		err := tx.NewSelect().Model((*SoulSignature)(nil)).Column("content_hash").Where("user_id = ?", s.UserID).Scan(ctx, &old)
		if err != nil && !IsNoRows(err) {
			return err
		}
		changed = IsNoRows(err) || old != s.ContentHash
		_, err = tx.NewInsert().Model(&s).
			On("CONFLICT (user_id) DO UPDATE").
			Set("analyzed_at = EXCLUDED.analyzed_at").
			Set("features = EXCLUDED.features").
			Set("traits = EXCLUDED.traits").
			Set("embedding = EXCLUDED.embedding").
			Set("completeness = EXCLUDED.completeness").
			Set("summaries = EXCLUDED.summaries").
			Set("periods = EXCLUDED.periods").
			Set("content_hash = EXCLUDED.content_hash").
			Set("updated_at = EXCLUDED.updated_at").
			Set("data_from = EXCLUDED.data_from").
			Set("data_to = EXCLUDED.data_to").
			Exec(ctx)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: put soul signature: %w", err)
	}
	return changed, nil
}

// SetOptInSimilar records whether userID takes part in similar twins, and
// the audience whose view is compared. A user not yet analysed gets an
// empty signature row holding the choice (analyzed at the zero time, so
// the analysis job picks the user up).
//
// Errors: BAD_USER_INPUT for an unknown audience.
func (db *DB) SetOptInSimilar(ctx context.Context, userID string, optIn bool, audience privacy.Audience, now time.Time) error {
	if !audience.Valid() {
		_, err := privacy.ParseAudience(string(audience))
		return err
	}
	s := SoulSignature{UserID: userID, AnalyzedAt: time.Unix(0, 0).UTC(), Features: "{}", Traits: "[]", Embedding: "[]",
		Completeness: "[]", Summaries: "[]", Periods: "[]", OptInSimilar: optIn, MatchAudience: string(audience),
		Narrated: "{}", UpdatedAt: UTC(now)}
	_, err := db.NewInsert().Model(&s).
		On("CONFLICT (user_id) DO UPDATE").
		Set("opt_in_similar = EXCLUDED.opt_in_similar").
		Set("match_audience = EXCLUDED.match_audience").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("store: set similar-twins opt-in: %w", err)
	}
	return nil
}

// SetNarrated stores the per-cluster hashes (JSON) of the inputs userID's
// narratives were written from.
func (db *DB) SetNarrated(ctx context.Context, userID, narrated string) error {
	if _, err := db.NewUpdate().Model((*SoulSignature)(nil)).Set("narrated = ?", narrated).
		Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("store: set narrated: %w", err)
	}
	return nil
}

// MatchCandidate is what similar twins may compare of one opted-in user:
// the stored features, the audience they share for matching, and their
// privacy settings (decoded as DecodePrivacySettings does).
type MatchCandidate struct {
	UserID        string
	Features      string
	MatchAudience string
	Settings      privacy.Settings
}

// OptedInCandidates returns up to limit users who opted in to similar
// twins, except exceptUserID, by user id, each with its settings, read in
// one transaction.
func (db *DB) OptedInCandidates(ctx context.Context, exceptUserID string, limit int) ([]MatchCandidate, error) {
	var out []MatchCandidate
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = nil
		var sigs []SoulSignature
		if err := tx.NewSelect().Model(&sigs).Column("user_id", "features", "match_audience").
			Where("opt_in_similar").Where("user_id <> ?", exceptUserID).
			OrderExpr("user_id ASC").Limit(int64(limit)).Scan(ctx); err != nil {
			return err
		}
		if len(sigs) == 0 {
			return nil
		}
		var rows []PrivacySetting
		if err := tx.NewSelect().Model(&rows).
			Where("user_id IN (?)", tx.NewSelect().Model((*SoulSignature)(nil)).Column("user_id").
				Where("opt_in_similar").Where("user_id <> ?", exceptUserID).OrderExpr("user_id ASC").Limit(int64(limit))).
			Scan(ctx); err != nil {
			return err
		}
		byUser := map[string][]PrivacySetting{}
		for _, r := range rows {
			byUser[r.UserID] = append(byUser[r.UserID], r)
		}
		for _, sg := range sigs {
			out = append(out, MatchCandidate{UserID: sg.UserID, Features: sg.Features, MatchAudience: sg.MatchAudience,
				Settings: DecodePrivacySettings(byUser[sg.UserID])})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: similar twins: %w", err)
	}
	return out, nil
}

// UsersDueForAnalysis returns up to limit users with platform data or
// observer events stored (or updated) after their last analysis, or never
// analysed, least recently analysed first.
func (db *DB) UsersDueForAnalysis(ctx context.Context, limit int) ([]string, error) {
	var ids []string
	err := db.NewRaw(`SELECT u.id FROM users u
 LEFT JOIN soul_signatures s ON s.user_id = u.id
 WHERE EXISTS (SELECT 1 FROM user_platform_data d WHERE d.user_id = u.id AND (s.analyzed_at IS NULL OR d.updated_at > s.analyzed_at))
    OR EXISTS (SELECT 1 FROM soul_observer_events e WHERE e.user_id = u.id AND (s.analyzed_at IS NULL OR e.received_at > s.analyzed_at))
 ORDER BY s.analyzed_at ASC NULLS FIRST, u.id ASC
 LIMIT ?`, limit).Scan(ctx, &ids)
	if err != nil && !IsNoRows(err) {
		return nil, fmt.Errorf("store: users due for analysis: %w", err)
	}
	return ids, nil
}

// DataRow is the part of a stored platform item analysis reads.
type DataRow struct {
	OccurredAt time.Time
	// Source is the row's source ("api", "extended_history" …): where a
	// data type has one payload shape per kind of source, it tells which.
	// Like Payload, valid only during the callback.
	Source  []byte
	Payload []byte
}

// EachPlatformData calls fn for every item of userID's platform and
// dataType, oldest first, as one streamed query: only the row being read
// is in memory, whatever the number of items. fn must not keep Payload.
func (db *DB) EachPlatformData(ctx context.Context, userID, platform, dataType string, fn func(DataRow) error) error {
	rows, err := db.NewSelect().Model((*PlatformData)(nil)).
		Column("occurred_at", "source", "payload").
		Where("user_id = ? AND platform = ? AND data_type = ?", userID, platform, dataType).
		OrderExpr("occurred_at ASC").
		Rows(ctx)
	if err != nil {
		return fmt.Errorf("store: read platform data: %w", err)
	}
	defer rows.Close()
	var r DataRow
	// Scanned into the same buffers row after row: a driver that returns
	// TEXT as a string has it copied into them, not into a new slice.
	var source, payload sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&r.OccurredAt, &source, &payload); err != nil {
			return fmt.Errorf("store: read platform data: %w", err)
		}
		r.Source, r.Payload = source, payload
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read platform data: %w", err)
	}
	return nil
}

// EventRow is the part of a stored observer event analysis reads.
type EventRow struct {
	OccurredAt time.Time
	Type       string
	Domain     string
	Data       []byte // valid only during the callback
}

// EachObserverEvent calls fn for every stored observer event of userID,
// oldest first, as one streamed query. fn must not keep Data.
func (db *DB) EachObserverEvent(ctx context.Context, userID string, fn func(EventRow) error) error {
	rows, err := db.NewSelect().Model((*ObserverEvent)(nil)).
		Column("occurred_at", "type", "domain", "data").
		Where("user_id = ?", userID).
		OrderExpr("occurred_at ASC").
		Rows(ctx)
	if err != nil {
		return fmt.Errorf("store: read observer events: %w", err)
	}
	defer rows.Close()
	var r EventRow
	for rows.Next() {
		var data sql.RawBytes
		if err := rows.Scan(&r.OccurredAt, &r.Type, &r.Domain, &data); err != nil {
			return fmt.Errorf("store: read observer events: %w", err)
		}
		r.Data = data
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: read observer events: %w", err)
	}
	return nil
}

// PrivacySetting is one stored slider. Audience "" is the cluster's own
// level; any other audience either sets its own level for the cluster
// (Follows false) or follows (Follows true: the cluster's level, or for
// the assistant the everyone audience's level; Level is then unused).
// Every user has every row from account creation on.
type PrivacySetting struct {
	bun.BaseModel `bun:"table:privacy_settings"`

	UserID    string    `bun:"user_id,pk"`
	Cluster   string    `bun:"cluster,pk"`
	Audience  string    `bun:"audience,pk"`
	Level     int       `bun:"level,notnull"`
	Follows   bool      `bun:"follows,notnull"`
	UpdatedAt time.Time `bun:"updated_at,notnull"`
}

// defaultPrivacyRows are the rows of privacy.DefaultSettings.
func defaultPrivacyRows(userID string, now time.Time) []PrivacySetting {
	var rows []PrivacySetting
	for _, ci := range privacy.Clusters() {
		rows = append(rows, PrivacySetting{UserID: userID, Cluster: string(ci.Cluster), Level: privacy.DefaultLevel, UpdatedAt: UTC(now)})
		for _, a := range privacy.Audiences() {
			rows = append(rows, PrivacySetting{UserID: userID, Cluster: string(ci.Cluster), Audience: string(a), Follows: true, UpdatedAt: UTC(now)})
		}
	}
	return rows
}

// initPrivacySettings stores every default slider of a new user (rows
// already there are kept).
func initPrivacySettings(ctx context.Context, db bun.IDB, userID string, now time.Time) error {
	rows := defaultPrivacyRows(userID, now)
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT (user_id, cluster, audience) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store: init privacy settings: %w", err)
	}
	return nil
}

// DecodePrivacySettings turns one user's stored rows into settings, never
// filling a gap: a missing row, a row naming an unknown audience, a level
// outside 0–100 or a cluster row marked as following marks its cluster
// Damaged (it then reveals nothing to anyone but the owner); a row naming
// an unknown cluster is listed in Unknown.
func DecodePrivacySettings(rows []PrivacySetting) privacy.Settings {
	s := privacy.Settings{
		Levels:    map[privacy.Cluster]int{},
		Overrides: map[privacy.Audience]map[privacy.Cluster]int{},
		Follows:   map[privacy.Audience]map[privacy.Cluster]bool{},
		Damaged:   map[privacy.Cluster]string{},
	}
	damage := func(c privacy.Cluster, format string, args ...any) {
		if _, seen := s.Damaged[c]; !seen {
			s.Damaged[c] = fmt.Sprintf(format, args...)
		}
	}
	for _, r := range rows {
		c := privacy.Cluster(r.Cluster)
		if !c.Valid() {
			s.Unknown = append(s.Unknown, fmt.Sprintf("cluster %q (audience %q)", r.Cluster, r.Audience))
			continue
		}
		if privacy.ValidateLevel(r.Level) != nil {
			damage(c, "level %d outside 0–100 for audience %q", r.Level, r.Audience)
			continue
		}
		if r.Audience == "" {
			if r.Follows {
				damage(c, "the cluster's own level is marked as following")
				continue
			}
			s.Levels[c] = r.Level
			continue
		}
		a := privacy.Audience(r.Audience)
		if !a.Valid() {
			damage(c, "unknown audience %q", r.Audience)
			continue
		}
		if r.Follows {
			if s.Follows[a] == nil {
				s.Follows[a] = map[privacy.Cluster]bool{}
			}
			s.Follows[a][c] = true
			continue
		}
		if s.Overrides[a] == nil {
			s.Overrides[a] = map[privacy.Cluster]int{}
		}
		s.Overrides[a][c] = r.Level
	}
	for _, ci := range privacy.Clusters() {
		c := ci.Cluster
		if _, ok := s.Levels[c]; !ok {
			damage(c, "no level stored")
		}
		for _, a := range privacy.Audiences() {
			_, set := s.Overrides[a][c]
			if !set && !s.Follows[a][c] {
				damage(c, "no setting stored for audience %q", a)
			}
		}
	}
	return s
}

// PrivacySettings returns userID's sliders as stored (DecodePrivacySettings:
// nothing missing is filled in).
func (db *DB) PrivacySettings(ctx context.Context, userID string) (privacy.Settings, error) {
	var rows []PrivacySetting
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return privacy.Settings{}, fmt.Errorf("store: privacy settings: %w", err)
	}
	return DecodePrivacySettings(rows), nil
}

// SetPrivacyLevel stores userID's slider of cluster for audience ("" for
// the cluster's own level) and returns the settings as they now are.
//
// Errors: BAD_USER_INPUT for an unknown cluster or audience or a level
// outside 0–100.
func (db *DB) SetPrivacyLevel(ctx context.Context, userID string, cluster privacy.Cluster, audience privacy.Audience, level int, now time.Time) (privacy.Settings, error) {
	if err := validSlider(cluster, audience, audience != ""); err != nil {
		return privacy.Settings{}, err
	}
	if err := privacy.ValidateLevel(level); err != nil {
		return privacy.Settings{}, err
	}
	row := PrivacySetting{UserID: userID, Cluster: string(cluster), Audience: string(audience), Level: level, UpdatedAt: UTC(now)}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&row).
			On("CONFLICT (user_id, cluster, audience) DO UPDATE").
			Set("level = EXCLUDED.level").
			Set("follows = EXCLUDED.follows").
			Set("updated_at = EXCLUDED.updated_at").
			Exec(ctx); err != nil {
			return err
		}
		if audience != "" {
			return nil
		}
		// Setting the cluster's own slider is how an owner repairs it: rows
		// naming an audience that no longer exists (which keep the cluster
		// hidden) go.
		known := []string{""}
		for _, a := range privacy.Audiences() {
			known = append(known, string(a))
		}
		_, err := tx.NewDelete().Model((*PrivacySetting)(nil)).
			Where("user_id = ? AND cluster = ? AND audience NOT IN (?)", userID, string(cluster), bun.In(known)).Exec(ctx)
		return err
	})
	if err != nil {
		return privacy.Settings{}, fmt.Errorf("store: set privacy level: %w", err)
	}
	return db.PrivacySettings(ctx, userID)
}

// FollowPrivacyLevel rewrites audience's row of cluster to follow (the
// cluster's level; the everyone audience's for the assistant) and returns
// the settings as they now are. The row stays: its absence would mean
// damage.
//
// Errors: BAD_USER_INPUT for an unknown cluster or audience.
func (db *DB) FollowPrivacyLevel(ctx context.Context, userID string, cluster privacy.Cluster, audience privacy.Audience, now time.Time) (privacy.Settings, error) {
	if err := validSlider(cluster, audience, true); err != nil {
		return privacy.Settings{}, err
	}
	row := PrivacySetting{UserID: userID, Cluster: string(cluster), Audience: string(audience), Follows: true, UpdatedAt: UTC(now)}
	if _, err := db.NewInsert().Model(&row).
		On("CONFLICT (user_id, cluster, audience) DO UPDATE").
		Set("level = EXCLUDED.level").
		Set("follows = EXCLUDED.follows").
		Set("updated_at = EXCLUDED.updated_at").
		Exec(ctx); err != nil {
		return privacy.Settings{}, fmt.Errorf("store: follow privacy level: %w", err)
	}
	return db.PrivacySettings(ctx, userID)
}

func validSlider(c privacy.Cluster, a privacy.Audience, needAudience bool) error {
	if !c.Valid() {
		_, err := privacy.ParseCluster(string(c))
		return err
	}
	if needAudience && !a.Valid() {
		_, err := privacy.ParseAudience(string(a))
		return err
	}
	return nil
}

// ShareLink lets anyone holding its token see a user's signature as one
// audience sees it. Only the token's SHA-256 is stored.
type ShareLink struct {
	bun.BaseModel `bun:"table:share_links"`

	ID         string     `bun:"id,pk"`
	UserID     string     `bun:"user_id,notnull"`
	TokenHash  string     `bun:"token_hash,notnull"`
	Audience   string     `bun:"audience,notnull"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	LastUsedAt *time.Time `bun:"last_used_at"`
}

// ShareTokenPrefix starts every share-link token, so a leaked one is
// recognisable.
const ShareTokenPrefix = "tms_"

// HashShareToken is what is stored of a share token.
func HashShareToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ErrShareLinkNotFound is the NOT_FOUND error of an unknown or revoked
// share link; the two are not told apart.
var ErrShareLinkNotFound = apperr.New(apperr.NotFound, "share link not found or revoked")

// CreateShareLink creates a share link of userID for audience and returns
// its token, which is never available again.
//
// Errors: BAD_USER_INPUT for an unknown audience.
func (db *DB) CreateShareLink(ctx context.Context, userID string, audience privacy.Audience, now time.Time) (string, *ShareLink, error) {
	if !audience.Valid() {
		_, err := privacy.ParseAudience(string(audience))
		return "", nil, err
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("store: create share link: %w", err)
	}
	token := ShareTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	l := &ShareLink{ID: NewID(), UserID: userID, TokenHash: HashShareToken(token), Audience: string(audience), CreatedAt: UTC(now)}
	if _, err := db.NewInsert().Model(l).Exec(ctx); err != nil {
		return "", nil, fmt.Errorf("store: create share link: %w", err)
	}
	return token, l, nil
}

// ResolveShareLink returns the live link of token and stamps its
// last use; ErrShareLinkNotFound for an unknown or revoked token.
func (db *DB) ResolveShareLink(ctx context.Context, token string, now time.Time) (*ShareLink, error) {
	l := new(ShareLink)
	now = UTC(now)
	err := db.NewUpdate().Model(l).
		Set("last_used_at = ?", now).
		Where("token_hash = ? AND revoked_at IS NULL", HashShareToken(token)).
		Returning("*").
		Scan(ctx)
	if err != nil {
		if IsNoRows(err) {
			return nil, ErrShareLinkNotFound
		}
		return nil, fmt.Errorf("store: resolve share link: %w", err)
	}
	return l, nil
}

// RevokeShareLink revokes userID's link id; revoking it again is a no-op.
// ErrShareLinkNotFound when userID has no such link.
func (db *DB) RevokeShareLink(ctx context.Context, userID, id string, now time.Time) (*ShareLink, error) {
	l := new(ShareLink)
	err := db.NewUpdate().Model(l).
		Set("revoked_at = COALESCE(revoked_at, ?)", UTC(now)).
		Where("id = ? AND user_id = ?", id, userID).
		Returning("*").
		Scan(ctx)
	if err != nil {
		if IsNoRows(err) {
			return nil, ErrShareLinkNotFound
		}
		return nil, fmt.Errorf("store: revoke share link: %w", err)
	}
	return l, nil
}

// ListShareLinks returns userID's links, newest first, revoked ones too.
func (db *DB) ListShareLinks(ctx context.Context, userID string) ([]ShareLink, error) {
	var out []ShareLink
	if err := db.NewSelect().Model(&out).Where("user_id = ?", userID).OrderExpr("created_at DESC, id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list share links: %w", err)
	}
	return out, nil
}

// UserDataVersion is userID's data version: a number the database raises
// in the same transaction as every write to the user's connections,
// privacy settings, soul signature and insights (triggers; migration
// user_data_versions), on every instance alike. 0 before the first write.
func (db *DB) UserDataVersion(ctx context.Context, userID string) (int64, error) {
	var v int64
	err := db.NewSelect().Table("user_data_versions").Column("version").Where("user_id = ?", userID).Scan(ctx, &v)
	if err != nil && !IsNoRows(err) {
		return 0, fmt.Errorf("store: data version: %w", err)
	}
	return v, nil
}
