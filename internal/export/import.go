package export

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/retention"
	"github.com/twinme/twinme/internal/store"
)

// Limits of an archive an importer accepts.
const (
	maxManifestBytes = 4 << 20
	maxDocumentBytes = 64 << 20
	maxLineBytes     = 16 << 20
	itemBatch        = 1000
)

// RefusedError says which file of an archive was refused and why; nothing
// of a refused archive is stored.
type RefusedError struct {
	File   string
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("export: archive refused: %s: %s", e.File, e.Reason)
}

// refuse is the BAD_USER_INPUT error of a refused archive.
func refuse(file, format string, args ...any) error {
	re := &RefusedError{File: file, Reason: fmt.Sprintf(format, args...)}
	return &apperr.Error{Code: apperr.BadUserInput, Field: "file", Message: "archive refused: " + re.File + ": " + re.Reason, Err: re}
}

// FileResult is what importing one file of an archive did.
type FileResult struct {
	Name    string
	Records int64
	// Imported records were new or changed something; Duplicate ones were
	// already there as they are; Skipped ones are not imported by design
	// (derived data is recomputed, tokens never travel).
	Imported  int64
	Duplicate int64
	Skipped   int64
}

// ImportResult is what ImportArchive did.
type ImportResult struct {
	Files     []FileResult
	Imported  int64
	Duplicate int64
}

// IsArchive reports whether the zip in r is a twinme export (it has a
// manifest naming the format).
func IsArchive(r io.ReaderAt, size int64) bool {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == ManifestName {
			var m Manifest
			if readJSONFile(f, maxManifestBytes, &m) == nil && m.Format == Format {
				return true
			}
		}
	}
	return false
}

// Importer loads archives into an account.
type Importer struct {
	db       *store.DB
	now      func() time.Time
	analysis events.AnalysisTrigger
}

// SourceArchive is the source the analysis hook is told of for an archive.
const SourceArchive = "archive"

// NewImporter returns an Importer; now stamps imported rows; analysis (may
// be nil) is told when an import stored something.
func NewImporter(db *store.DB, now func() time.Time, analysis events.AnalysisTrigger) *Importer {
	return &Importer{db: db, now: now, analysis: analysis}
}

// ImportArchive verifies the archive in r completely (manifest, names,
// checksums, sizes, every record), refusing it with the file and the
// reason before anything is stored, then merges it into userID's data like
// any import: platform items through the deduplicating upsert (the richer
// source wins, unchanged items are not rewritten), browser events
// deduplicated on their client id, privacy settings and retention choices
// set, the owner's conversations with their own twin added once. Derived
// data (insights, signature) is not imported but recomputed by the next
// analysis; connections, share links and the access log belong to the
// instance they were made on and are skipped.
//
// Errors: BAD_USER_INPUT (a *RefusedError inside) for an archive that is
// not a twinme export or does not verify.
func (im *Importer) ImportArchive(ctx context.Context, userID string, r io.ReaderAt, size int64, progress func(Progress)) (ImportResult, error) {
	arc, err := openArchive(r, size)
	if err != nil {
		return ImportResult{}, err
	}
	if err := arc.verify(ctx); err != nil {
		return ImportResult{}, err
	}
	var res ImportResult
	var p Progress
	for _, mf := range arc.manifest.Files {
		p.Total += mf.Records
	}
	for _, mf := range arc.manifest.Files {
		fr, err := im.importFile(ctx, userID, arc, mf)
		if err != nil {
			return res, err
		}
		res.Files = append(res.Files, fr)
		res.Imported += fr.Imported
		res.Duplicate += fr.Duplicate
		p.Done += mf.Records
		if progress != nil {
			progress(p)
		}
	}
	if res.Imported > 0 && im.analysis != nil {
		im.analysis.DataChanged(ctx, userID, SourceArchive)
	}
	return res, nil
}

type archive struct {
	zr       *zip.Reader
	manifest Manifest
	files    map[string]*zip.File
}

func openArchive(r io.ReaderAt, size int64) (*archive, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, refuse("(archive)", "not a readable zip file: %v", err)
	}
	a := &archive{zr: zr, files: map[string]*zip.File{}}
	for _, f := range zr.File {
		if _, dup := a.files[f.Name]; dup {
			return nil, refuse(f.Name, "appears twice in the archive")
		}
		a.files[f.Name] = f
	}
	mf, ok := a.files[ManifestName]
	if !ok {
		return nil, refuse(ManifestName, "missing: this is not a twinme export")
	}
	if err := readJSONFile(mf, maxManifestBytes, &a.manifest); err != nil {
		return nil, refuse(ManifestName, "not valid JSON: %v", err)
	}
	if a.manifest.Format != Format {
		return nil, refuse(ManifestName, "format is %q, want %q", a.manifest.Format, Format)
	}
	if a.manifest.Version != Version {
		return nil, refuse(ManifestName, "version %d is not supported (this twinme reads version %d)", a.manifest.Version, Version)
	}
	listed := map[string]bool{}
	for _, m := range a.manifest.Files {
		if listed[m.Name] {
			return nil, refuse(m.Name, "listed twice in the manifest")
		}
		listed[m.Name] = true
		if kindOf(m.Name) == "" {
			return nil, refuse(m.Name, "not a file a twinme export contains")
		}
		if m.Bytes < 0 || m.Records < 0 || len(m.SHA256) != 64 {
			return nil, refuse(m.Name, "its manifest entry is malformed")
		}
	}
	for _, f := range zr.File {
		if f.Name != ManifestName && !listed[f.Name] {
			return nil, refuse(f.Name, "not listed in the manifest (added after the export?)")
		}
	}
	for _, m := range a.manifest.Files {
		if _, ok := a.files[m.Name]; !ok {
			return nil, refuse(m.Name, "listed in the manifest but missing from the archive")
		}
	}
	return a, nil
}

func readJSONFile(f *zip.File, limit int64, v any) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return err
	}
	if int64(len(b)) > limit {
		return fmt.Errorf("larger than %d bytes", limit)
	}
	return json.Unmarshal(b, v)
}

// kindOf classifies an archive file name ("" when unknown).
func kindOf(name string) string {
	switch name {
	case fileReadme, fileProfile, fileConnections, fileObserver, fileInsights, fileSignature,
		filePrivacy, fileRetention, fileShareLinks, fileConversations, fileAccessLog:
		return name
	}
	if m := platformFile.FindStringSubmatch(name); m != nil {
		if _, err := platform.Parse(m[1]); err == nil {
			return "platform"
		}
	}
	return ""
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	n int64
	s interface {
		io.Writer
		Sum([]byte) []byte
	}
}

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.s.Write(p[:n])
	h.n += int64(n)
	return n, err
}

// open returns a reader of the file mf that fails past its declared size.
func (a *archive) open(mf ManifestFile) (io.ReadCloser, *hashingReader, error) {
	rc, err := a.files[mf.Name].Open()
	if err != nil {
		return nil, nil, refuse(mf.Name, "cannot be read: %v", err)
	}
	hr := &hashingReader{r: io.LimitReader(rc, mf.Bytes+1), s: sha256.New()}
	return rc, hr, nil
}

// verify reads every file once: size, checksum and every record must be
// what the manifest says, before anything is stored.
func (a *archive) verify(ctx context.Context) error {
	for _, mf := range a.manifest.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		rc, hr, err := a.open(mf)
		if err != nil {
			return err
		}
		n, err := eachRecord(mf, hr, func(any) error { return nil })
		_, _ = io.Copy(io.Discard, hr)
		rc.Close()
		if err != nil {
			return err
		}
		if hr.n != mf.Bytes {
			return refuse(mf.Name, "is %d bytes, the manifest says %d (changed or cut)", hr.n, mf.Bytes)
		}
		if sum := hex.EncodeToString(hr.s.Sum(nil)); sum != mf.SHA256 {
			return refuse(mf.Name, "its SHA-256 does not match the manifest (the file was changed)")
		}
		if n != mf.Records {
			return refuse(mf.Name, "has %d records, the manifest says %d", n, mf.Records)
		}
	}
	return nil
}

// eachRecord decodes mf's records from r, validates each and passes it to
// fn; it returns the number of records.
func eachRecord(mf ManifestFile, r io.Reader, fn func(any) error) (int64, error) {
	kind := kindOf(mf.Name)
	switch kind {
	case fileReadme:
		return 1, nil
	case fileProfile, fileConnections, fileSignature, filePrivacy, fileRetention, fileShareLinks:
		b, err := io.ReadAll(io.LimitReader(r, maxDocumentBytes+1))
		if err != nil {
			return 0, refuse(mf.Name, "cannot be read: %v", err)
		}
		if len(b) > maxDocumentBytes {
			return 0, refuse(mf.Name, "is larger than %d bytes", maxDocumentBytes)
		}
		v, err := decodeDocument(kind, b)
		if err != nil {
			return 0, refuse(mf.Name, "%v", err)
		}
		return 1, fn(v)
	}
	dec := json.NewDecoder(&lineLimiter{r: r})
	dec.DisallowUnknownFields()
	var n int64
	for {
		var v any
		var err error
		switch kind {
		case "platform":
			var rec ItemRecord
			if err = dec.Decode(&rec); err == nil {
				err = validItem(rec)
			}
			v = rec
		case fileObserver:
			var rec EventRecord
			if err = dec.Decode(&rec); err == nil {
				err = validEvent(rec)
			}
			v = rec
		case fileInsights:
			var rec InsightRecord
			err = dec.Decode(&rec)
			v = rec
		case fileConversations:
			var rec ConversationRecord
			if err = dec.Decode(&rec); err == nil {
				err = validConversation(rec)
			}
			v = rec
		case fileAccessLog:
			var rec AccessRecord
			err = dec.Decode(&rec)
			v = rec
		}
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, refuse(mf.Name, "record %d: %v", n+1, err)
		}
		n++
		if err := fn(v); err != nil {
			return n, err
		}
	}
}

// lineLimiter passes r through; it exists so a single gigantic "line"
// (no newline for maxLineBytes) is refused instead of buffered whole.
type lineLimiter struct {
	r   io.Reader
	run int
}

func (l *lineLimiter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, c := range p[:n] {
		if c == '\n' {
			l.run = 0
			continue
		}
		l.run++
		if l.run > maxLineBytes {
			return 0, fmt.Errorf("a record is longer than %d bytes", maxLineBytes)
		}
	}
	return n, err
}

func decodeDocument(kind string, b []byte) (any, error) {
	strict := func(v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return fmt.Errorf("not valid: %v", err)
		}
		if dec.More() {
			return fmt.Errorf("not valid: more than one JSON document")
		}
		return nil
	}
	switch kind {
	case fileProfile:
		var p Profile
		if err := strict(&p); err != nil {
			return nil, err
		}
		if p.ID == "" || p.Email == "" {
			return nil, fmt.Errorf("has no account id or email")
		}
		return p, nil
	case fileConnections:
		var cs []ConnectionRecord
		return cs, strict(&cs)
	case fileSignature:
		var s *SignatureRecord
		return s, strict(&s)
	case filePrivacy:
		var rows []map[string]any
		if err := strict(&rows); err != nil {
			return nil, err
		}
		for i, r := range rows {
			if _, err := privacyRow(r); err != nil {
				return nil, fmt.Errorf("setting %d: %v", i+1, err)
			}
		}
		return rows, nil
	case fileRetention:
		var m map[string]int
		if err := strict(&m); err != nil {
			return nil, err
		}
		for src, d := range m {
			if err := retention.Validate(src, &d); err != nil {
				return nil, err
			}
		}
		return m, nil
	case fileShareLinks:
		var ls []ShareLinkRecord
		return ls, strict(&ls)
	}
	return nil, fmt.Errorf("unknown document")
}

func validItem(r ItemRecord) error {
	switch {
	case strings.TrimSpace(r.ExternalID) == "" || len(r.ExternalID) > 512:
		return fmt.Errorf("external_id is empty or too long")
	case r.OccurredAt.IsZero():
		return fmt.Errorf("occurred_at is missing")
	case len(r.Payload) == 0 || r.Payload[0] != '{' || !json.Valid(r.Payload):
		return fmt.Errorf("payload is not a JSON object")
	case len(r.Source) > 64:
		return fmt.Errorf("source is too long")
	}
	return nil
}

func validEvent(r EventRecord) error {
	switch {
	case strings.TrimSpace(r.ClientEventID) == "" || len(r.ClientEventID) > 200:
		return fmt.Errorf("client_event_id is empty or too long")
	case strings.TrimSpace(r.Type) == "" || len(r.Type) > 64:
		return fmt.Errorf("type is empty or too long")
	case r.OccurredAt.IsZero():
		return fmt.Errorf("occurred_at is missing")
	case len(r.Data) > 0 && (r.Data[0] != '{' || !json.Valid(r.Data)):
		return fmt.Errorf("data is not a JSON object")
	case r.URL != nil && strings.ContainsAny(*r.URL, "?#"):
		return fmt.Errorf("url carries a query string or fragment")
	}
	return nil
}

func validConversation(r ConversationRecord) error {
	if r.ID == "" || (r.As != "owner" && r.As != "visitor") {
		return fmt.Errorf("conversation without id or with an unknown role %q", r.As)
	}
	for i, m := range r.Messages {
		if m.Role != store.TwinRoleUser && m.Role != store.TwinRoleTwin {
			return fmt.Errorf("message %d has an unknown role %q", i+1, m.Role)
		}
		if m.Source != "" && m.Source != store.TwinSourceLLM && m.Source != store.TwinSourceLocal {
			return fmt.Errorf("message %d has an unknown source %q", i+1, m.Source)
		}
	}
	if r.Audience != "" {
		if _, err := privacy.ParseAudience(r.Audience); err != nil {
			return fmt.Errorf("unknown audience %q", r.Audience)
		}
	}
	return nil
}

type privacyRowValue struct {
	Cluster  privacy.Cluster
	Audience privacy.Audience
	Level    int
	Follows  bool
}

// privacyRow reads one stored privacy row of the archive: cluster,
// audience ("" for the cluster's own level) and level.
func privacyRow(r map[string]any) (privacyRowValue, error) {
	var out privacyRowValue
	c, _ := r["cluster"].(string)
	cl, err := privacy.ParseCluster(c)
	if err != nil {
		return out, fmt.Errorf("unknown cluster %q", c)
	}
	out.Cluster = cl
	if a, _ := r["audience"].(string); a != "" {
		au, err := privacy.ParseAudience(a)
		if err != nil {
			return out, fmt.Errorf("unknown audience %q", a)
		}
		out.Audience = au
	}
	// follows: the audience follows the cluster's slider (stored as a
	// boolean, or 0/1 where the database has no boolean type).
	switch f := r["follows"].(type) {
	case nil:
	case bool:
		out.Follows = f
	case float64:
		out.Follows = f != 0
	default:
		return out, fmt.Errorf("follows must be a boolean")
	}
	if out.Follows && out.Audience == "" {
		return out, fmt.Errorf("a cluster's own level cannot follow")
	}
	lv, ok := r["level"].(float64)
	if !ok || lv != float64(int(lv)) || privacy.ValidateLevel(int(lv)) != nil {
		return out, fmt.Errorf("level must be an integer 0–100")
	}
	out.Level = int(lv)
	return out, nil
}

// importFile stores one verified file.
func (im *Importer) importFile(ctx context.Context, userID string, a *archive, mf ManifestFile) (FileResult, error) {
	fr := FileResult{Name: mf.Name, Records: mf.Records}
	rc, hr, err := a.open(mf)
	if err != nil {
		return fr, err
	}
	defer rc.Close()
	f := importing{im: im, userID: userID, mf: mf, r: hr, now: im.now(), res: &fr}
	switch kindOf(mf.Name) {
	case "platform":
		err = f.platformData(ctx)
	case fileObserver:
		err = f.observerEvents(ctx)
	case fileProfile:
		_, err = eachRecord(mf, hr, func(v any) error { return im.mergeProfile(ctx, userID, v.(Profile), &fr) })
	case filePrivacy:
		err = f.privacy(ctx)
	case fileRetention:
		err = f.retention(ctx)
	case fileConversations:
		err = f.conversations(ctx)
	default:
		// README, connections (no tokens: connect again), insights and the
		// signature (recomputed by the analysis), share links (their tokens
		// never leave the instance that made them) and the access log (of
		// those links).
		fr.Skipped = mf.Records
	}
	if err != nil {
		return fr, fmt.Errorf("export: import %s: %w", mf.Name, err)
	}
	return fr, nil
}

// importing is one verified file being stored: its records are read from
// r and counted in res.
type importing struct {
	im     *Importer
	userID string
	mf     ManifestFile
	r      io.Reader
	now    time.Time
	res    *FileResult
}

// platformData upserts platforms/<platform>/<data type>.jsonl in one
// transaction, itemBatch records at a time.
func (f importing) platformData(ctx context.Context) error {
	m := platformFile.FindStringSubmatch(f.mf.Name)
	plat, dataType := m[1], m[2]
	return f.im.db.RunInTx(ctx, nil, func(ctx context.Context, tx store.Tx) error {
		w := store.NewPlatformDataWriter(tx, f.userID, plat, f.now)
		defer w.Close()
		return eachBatch(f, func(r ItemRecord) store.PlatformItem {
			return store.PlatformItem{DataType: dataType, ExternalID: r.ExternalID, OccurredAt: r.OccurredAt,
				Payload: r.Payload, ContentHash: r.ContentHash, Source: r.Source}
		}, func(batch []store.PlatformItem) error {
			c, err := w.Upsert(ctx, batch)
			if err != nil {
				return err
			}
			f.res.Imported += int64(c.Stored())
			f.res.Duplicate += int64(c.Unchanged)
			return nil
		})
	})
}

// observerEvents inserts observer_events.jsonl, itemBatch events at a time;
// events already held (same client event id) count as duplicates.
func (f importing) observerEvents(ctx context.Context) error {
	return eachBatch(f, func(r EventRecord) store.NewObserverEvent {
		e := store.NewObserverEvent{ClientEventID: r.ClientEventID, Type: r.Type, OccurredAt: r.OccurredAt, Domain: r.Domain, Data: r.Data}
		if r.URL != nil {
			e.URL = *r.URL
		}
		return e
	}, func(batch []store.NewObserverEvent) error {
		n, err := f.im.db.InsertObserverEvents(ctx, f.userID, batch, f.now)
		if err != nil {
			return err
		}
		f.res.Imported += int64(n)
		f.res.Duplicate += int64(len(batch) - n)
		return nil
	})
}

// eachBatch reads f's records of type R, converts each with conv and hands
// them to write itemBatch at a time (the last batch may be shorter).
func eachBatch[R, T any](f importing, conv func(R) T, write func([]T) error) error {
	batch := make([]T, 0, itemBatch)
	_, err := eachRecord(f.mf, f.r, func(v any) error {
		batch = append(batch, conv(v.(R)))
		if len(batch) < itemBatch {
			return nil
		}
		err := write(batch)
		batch = batch[:0]
		return err
	})
	if err != nil || len(batch) == 0 {
		return err
	}
	return write(batch)
}

func (f importing) privacy(ctx context.Context) error {
	_, err := eachRecord(f.mf, f.r, func(v any) error {
		for _, row := range v.([]map[string]any) {
			p, _ := privacyRow(row) // verified
			var err error
			if p.Follows {
				_, err = f.im.db.FollowPrivacyLevel(ctx, f.userID, p.Cluster, p.Audience, f.now)
			} else {
				_, err = f.im.db.SetPrivacyLevel(ctx, f.userID, p.Cluster, p.Audience, p.Level, f.now)
			}
			if err != nil {
				return err
			}
			f.res.Imported++
		}
		return nil
	})
	return err
}

func (f importing) retention(ctx context.Context) error {
	_, err := eachRecord(f.mf, f.r, func(v any) error {
		for src, days := range v.(map[string]int) {
			d := days
			if err := f.im.db.SetRetention(ctx, f.userID, src, &d, f.now); err != nil {
				return err
			}
			f.res.Imported++
		}
		return nil
	})
	return err
}

// conversations imports the owner's own conversations; a visit to someone
// else's twin stays on the instance of that twin.
func (f importing) conversations(ctx context.Context) error {
	_, err := eachRecord(f.mf, f.r, func(v any) error {
		r := v.(ConversationRecord)
		if r.As != "owner" {
			f.res.Skipped++
			return nil
		}
		ok, err := f.im.db.ImportTwinConversation(ctx, conversationOf(f.userID, r), messagesOf(f.userID, r))
		if err != nil {
			return err
		}
		if ok {
			f.res.Imported++
		} else {
			f.res.Duplicate++
		}
		return nil
	})
	return err
}

func (im *Importer) mergeProfile(ctx context.Context, userID string, p Profile, fr *FileResult) error {
	u, err := im.db.UserByID(ctx, userID)
	if err != nil {
		return err
	}
	var cols []string
	if u.Name == "" && p.Name != "" && len(p.Name) <= 200 {
		u.Name = p.Name
		cols = append(cols, "name")
	}
	if u.AvatarURL == "" && strings.HasPrefix(p.AvatarURL, "https://") {
		u.AvatarURL = p.AvatarURL
		cols = append(cols, "avatar_url")
	}
	// The zone analyses read hours in travels with the data, unless the
	// account chose its own.
	if u.ChosenTimeZone == "" && p.TimeZone != "" {
		if _, err := time.LoadLocation(p.TimeZone); err == nil {
			u.ChosenTimeZone = p.TimeZone
			cols = append(cols, "time_zone")
		}
	}
	if u.UTCOffsetMinutes == nil && p.UTCOffsetMinutes != nil && store.ValidUTCOffset(*p.UTCOffsetMinutes) {
		if _, err := im.db.SetDefaultUTCOffset(ctx, userID, *p.UTCOffsetMinutes, im.now()); err != nil {
			return err
		}
		fr.Imported++
	}
	if len(cols) > 0 {
		u.UpdatedAt = im.now()
		if err := im.db.UpdateUser(ctx, u, cols...); err != nil {
			return err
		}
		fr.Imported++
	}
	// Observation settings travel only to an account that never chose.
	st, err := im.db.ObserverSettings(ctx, userID)
	if err != nil {
		return err
	}
	if st.UpdatedAt.IsZero() && (p.ObservationOn || p.ObservationFull) {
		if err := im.db.SetObserverSettings(ctx, store.ObserverSettings{UserID: userID, Enabled: p.ObservationOn, FullPaths: p.ObservationFull, UpdatedAt: im.now()}); err != nil {
			return err
		}
		fr.Imported++
	}
	return nil
}

// importNamespace derives the ids of imported conversations: stable for
// one account and one exported id (a re-import adds nothing) and distinct
// across accounts.
var importNamespace = uuid.MustParse("8a4c1a4e-6f0e-4a57-9d1b-5b0c2b7f1e15")

func importedID(userID, id string) string {
	return uuid.NewSHA1(importNamespace, []byte(userID+"\x00"+id)).String()
}

func conversationOf(userID string, r ConversationRecord) store.TwinConversation {
	uid := userID
	return store.TwinConversation{ID: importedID(userID, r.ID), OwnerUserID: userID, ViewerUserID: &uid, Audience: r.Audience, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func messagesOf(userID string, r ConversationRecord) []store.TwinMessage {
	out := make([]store.TwinMessage, 0, len(r.Messages))
	for _, m := range r.Messages {
		out = append(out, store.TwinMessage{ID: importedID(userID, m.ID), Role: m.Role, Text: m.Text, Source: m.Source, Completed: m.Completed, Error: m.Error, CreatedAt: m.CreatedAt})
	}
	return out
}
