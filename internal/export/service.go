package export

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/store"
)

// TopicReady is published (to the owner) when an export is ready or failed.
const TopicReady = events.DataExportReady

// Defaults of Options.
const (
	DefaultTTL     = 24 * time.Hour
	DefaultWorkers = 2
	// staleAfter: a running export whose heartbeat is older was cut by an
	// instance that stopped; the maintenance job fails it.
	staleAfter = 10 * time.Minute
	// heartbeatEvery bounds how often progress is written to the database.
	heartbeatEvery = time.Second
	pollEvery      = 5 * time.Second
)

// DownloadTokenPrefix starts every download token (recognisable if leaked).
const DownloadTokenPrefix = "tmx_"

// Options configure a Service.
type Options struct {
	// Dir is where archives are written (created 0700 when missing).
	Dir string
	// PublicURL is the server's external base URL, for download links.
	PublicURL string
	// Instance names this instance on the exports it runs.
	Instance string
	// Workers bounds the exports this instance writes at once (others wait
	// as pending); a user has at most one pending or running export.
	Workers int
	// TTL is how long a download link and its file live.
	TTL    time.Duration
	Bus    events.Bus
	Clock  clockwork.Clock
	Logger *slog.Logger
}

// Service runs exports and serves their downloads.
type Service struct {
	db   *store.DB
	opts Options
	wake chan struct{}
	sem  chan struct{}
	wg   sync.WaitGroup
}

// New returns a Service.
func New(db *store.DB, opts Options) *Service {
	if opts.Workers <= 0 {
		opts.Workers = DefaultWorkers
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, opts: opts, wake: make(chan struct{}, 1), sem: make(chan struct{}, opts.Workers)}
}

// Dir is the export directory.
func (s *Service) Dir() string { return s.opts.Dir }

// path is where export id's archive lives; part is the file being written.
func (s *Service) path(id string) string { return filepath.Join(s.opts.Dir, id+".zip") }
func (s *Service) part(id string) string { return filepath.Join(s.opts.Dir, id+".zip.part") }

// Requested is the answer to Request.
type Requested struct {
	Export domain.DataExport
	// URL downloads the archive once it is ready: once, before ExpiresAt.
	// A second request while one runs returns the running export with a
	// new URL (the earlier one no longer works).
	URL string
}

// Request starts an export of userID's data, or returns the one pending or
// running.
func (s *Service) Request(ctx context.Context, userID string) (Requested, error) {
	token, hash, err := newToken()
	if err != nil {
		return Requested{}, err
	}
	now := s.opts.Clock.Now()
	e := &store.DataExport{ID: store.NewID(), UserID: userID, Status: store.ExportPending, TokenHash: &hash, CreatedAt: now, ExpiresAt: now.Add(s.opts.TTL)}
	got, created, err := s.db.CreateDataExport(ctx, e)
	if err != nil {
		return Requested{}, err
	}
	if !created {
		if got, err = s.db.RotateExportToken(ctx, userID, got.ID, hash, now); err != nil {
			return Requested{}, err
		}
	} else {
		s.kick()
	}
	return Requested{Export: got.Domain(), URL: s.url(got.ID, token)}, nil
}

func (s *Service) url(id, token string) string {
	return s.opts.PublicURL + "/api/exports/" + id + "?token=" + token
}

func newToken() (token, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("export: token: %w", err)
	}
	token = DownloadTokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// List returns userID's newest exports (at most 20).
func (s *Service) List(ctx context.Context, userID string) ([]domain.DataExport, error) {
	rows, err := s.db.ListDataExports(ctx, userID, 20)
	return store.Domains(rows, (*store.DataExport).Domain), err
}

// Get returns userID's export id (NOT_FOUND otherwise).
func (s *Service) Get(ctx context.Context, userID, id string) (*domain.DataExport, error) {
	e, err := s.db.DataExportByID(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	d := e.Domain()
	return &d, nil
}

func (s *Service) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Start runs pending exports in the background (at most Workers at once)
// until ctx ends; wait blocks until running exports have stopped.
func (s *Service) Start(ctx context.Context) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := s.opts.Clock.NewTicker(pollEvery)
		defer t.Stop()
		for {
			s.RunPending(ctx, false)
			select {
			case <-ctx.Done():
				return
			case <-s.wake:
			case <-t.Chan():
			}
		}
	}()
	return func() { <-done; s.wg.Wait() }
}

// RunPending claims pending exports while a worker slot is free and writes
// them in the background; with wait it returns when they are written.
// It returns how many it started.
func (s *Service) RunPending(ctx context.Context, wait bool) int {
	started := 0
	defer func() {
		if wait {
			s.wg.Wait()
		}
	}()
	for ctx.Err() == nil {
		select {
		case s.sem <- struct{}{}:
		default:
			return started // every slot of this instance is busy
		}
		e, err := s.db.ClaimPendingExport(ctx, s.opts.Instance, s.opts.Clock.Now())
		if err != nil || e == nil {
			<-s.sem
			if err != nil {
				s.opts.Logger.WarnContext(ctx, "export: claim", slog.Any("error", err))
			}
			break
		}
		started++
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.sem; s.kick() }()
			s.run(context.WithoutCancel(ctx), *e)
		}()
	}
	return started
}

// errGone stops an export whose row disappeared (account deleted) or that
// no longer runs.
var errGone = errors.New("export: export no longer running")

// run writes export e to <dir>/<id>.zip.part, renames it into place and
// marks it ready; any failure removes the file and marks it failed.
func (s *Service) run(ctx context.Context, e store.DataExport) {
	log := s.opts.Logger.With(slog.String("export_id", e.ID))
	size, items, err := s.writeFile(ctx, e)
	now := s.opts.Clock.Now()
	if err == nil {
		var ok bool
		if ok, err = s.db.FinishExport(ctx, e.ID, items, size, now); err == nil && !ok {
			err = errGone
		}
	}
	if err != nil {
		_ = os.Remove(s.part(e.ID))
		_ = os.Remove(s.path(e.ID))
		if errors.Is(err, errGone) {
			log.InfoContext(ctx, "export: stopped (deleted or expired meanwhile)")
			return
		}
		log.ErrorContext(ctx, "export: failed", slog.Any("error", err))
		if ferr := s.db.FailExport(ctx, e.ID, "the export failed; request a new one", now); ferr != nil {
			log.ErrorContext(ctx, "export: mark failed", slog.Any("error", ferr))
		}
		s.publish(ctx, e.UserID, e.ID)
		return
	}
	log.InfoContext(ctx, "export: ready", slog.Int64("items", items), slog.Int64("bytes", size))
	s.publish(ctx, e.UserID, e.ID)
}

func (s *Service) writeFile(ctx context.Context, e store.DataExport) (size, items int64, err error) {
	if err := os.MkdirAll(s.opts.Dir, 0o700); err != nil {
		return 0, 0, fmt.Errorf("export: directory: %w", err)
	}
	f, err := os.OpenFile(s.part(e.ID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, 0, fmt.Errorf("export: create file: %w", err)
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 256<<10)
	last := time.Time{}
	items, err = Write(ctx, s.db, e.UserID, s.opts.Clock.Now(), bw, func(p Progress) error {
		now := s.opts.Clock.Now()
		if now.Sub(last) < heartbeatEvery && p.Done != p.Total {
			return nil
		}
		last = now
		ok, err := s.db.ExportProgress(ctx, e.ID, p.Done, p.Total, now)
		if err != nil {
			return err
		}
		if !ok {
			return errGone
		}
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, fmt.Errorf("export: write file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return 0, 0, fmt.Errorf("export: write file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, fmt.Errorf("export: write file: %w", err)
	}
	if err := os.Rename(s.part(e.ID), s.path(e.ID)); err != nil {
		return 0, 0, fmt.Errorf("export: write file: %w", err)
	}
	return st.Size(), items, nil
}

func (s *Service) publish(ctx context.Context, userID, id string) {
	events.Publish(ctx, s.opts.Bus, s.opts.Logger, userID, id, events.DataExportDone{ID: id})
}

// DownloadHandler serves GET /api/exports/{id}?token=…: the archive, once.
// An unknown, used, expired or other export's token is 404 with the same
// body whatever the reason; a valid token of an export still being written
// is 409. The file is deleted once sent (or when sending fails: the link
// is spent either way, request a new export).
func (s *Service) DownloadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		id, token := r.PathValue("id"), r.URL.Query().Get("token")
		if id == "" || token == "" {
			notFound(w)
			return
		}
		e, pending, err := s.db.ClaimExportDownload(r.Context(), id, hashToken(token), s.opts.Clock.Now())
		if err != nil {
			if pending {
				apperr.WriteJSON(w, http.StatusConflict, apperr.Conflict, "the export is not ready yet; you will be told when it is")
				return
			}
			if !apperr.Is(err, apperr.NotFound) {
				s.opts.Logger.ErrorContext(r.Context(), "export: download", slog.Any("error", err))
				apperr.WriteJSON(w, http.StatusInternalServerError, apperr.Internal, "internal error")
				return
			}
			notFound(w)
			return
		}
		path := s.path(e.ID)
		defer os.Remove(path) //nolint:errcheck // single use: the file goes whatever happened
		f, err := os.Open(path)
		if err != nil {
			s.opts.Logger.ErrorContext(r.Context(), "export: open archive", slog.String("export_id", e.ID), slog.Any("error", err))
			notFound(w)
			return
		}
		defer f.Close()
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="twinme-export-`+e.CreatedAt.UTC().Format("2006-01-02")+`.zip"`)
		w.Header().Set("Content-Length", strconv.FormatInt(e.SizeBytes, 10))
		if _, err := io.Copy(w, f); err != nil {
			s.opts.Logger.WarnContext(r.Context(), "export: download cut", slog.String("export_id", e.ID), slog.Any("error", err))
		}
	})
}

func notFound(w http.ResponseWriter) {
	apperr.WriteJSON(w, http.StatusNotFound, apperr.NotFound, "not found")
}

// Maintain expires exports past their TTL and fails stale running ones,
// deleting their files (the maintenance job); it returns how many.
func (s *Service) Maintain(ctx context.Context) (int64, error) {
	now := s.opts.Clock.Now()
	var total int64
	for {
		ids, err := s.db.ExpireExports(ctx, now, now.Add(-staleAfter), 500)
		if err != nil {
			return total, err
		}
		for _, id := range ids {
			_ = os.Remove(s.part(id))
			if err := os.Remove(s.path(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
				s.opts.Logger.WarnContext(ctx, "export: remove expired file", slog.String("export_id", id), slog.Any("error", err))
			}
		}
		total += int64(len(ids))
		if len(ids) < 500 {
			return total, nil
		}
	}
}

// DeleteUserFiles removes the archive files of every export of userID
// (account deletion, before the rows go). An export still being written
// notices its row is gone and removes its partial file itself.
func (s *Service) DeleteUserFiles(ctx context.Context, userID string) error {
	ids, err := s.db.ExportIDs(ctx, userID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		for _, p := range []string{s.path(id), s.part(id)} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("export: remove %s: %w", filepath.Base(p), err)
			}
		}
	}
	return nil
}
