package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// ImportFileResult is the outcome of one file of an import.
type ImportFileResult struct {
	Name   string
	Format string
	// Read elements of the file's array.
	Read int
	// Imported records were new or improved a stored one (a richer
	// source); Duplicate ones were already stored as they are (or stored
	// from a richer source); Rejected were malformed; Skipped were
	// deliberately left out (ads, video streams …, see Skips).
	Imported   int
	Duplicate  int
	Rejected   int
	Skipped    int
	Rejections []importer.Rejection
	Skips      map[string]int
	// Error, when set, says why the file could not be imported (wrong
	// format, truncated, corrupt), naming the file and what was expected.
	// Files are all-or-nothing: nothing of a failed file was stored, and
	// Imported and Duplicate are 0.
	Error string
	// ErrorCode is Error's code: BAD_USER_INPUT for a fault in the file
	// (format, truncation, encoding, a size limit), CANCELLED when the
	// import stopped before the file was stored, INTERNAL for a server
	// fault.
	ErrorCode apperr.Code
}

// Succeeded reports whether any file of r was stored.
func (r ImportResult) Succeeded() bool {
	for _, f := range r.Files {
		if f.Error == "" {
			return true
		}
	}
	return false
}

// ImportResult is the outcome of an import: totals, one entry per file, and
// the archive entries that were no export of the platform.
type ImportResult struct {
	Imported  int
	Duplicate int
	Rejected  int
	Skipped   int
	Files     []ImportFileResult
	Ignored   []importer.IgnoredFile
}

// ImportFiles imports userID's export files of platform ("spotify" or
// "youtube"; one file, several, or the entries of a zip archive from
// importer.FilesFromZip) through the same deduplicating upsert as polling:
// re-importing a file adds nothing, and a play already stored from the API
// is stored once (the richer source wins). Files are streamed and each is
// imported in one transaction, all or nothing. progress may be nil.
//
// The result is always filled in. The error is BAD_USER_INPUT for an
// unknown platform or when files could not be imported (each named, with
// what was expected; the other files were imported), or ctx's or the
// database's, which stop the import (files committed before stay).
func (s *Service) ImportFiles(ctx context.Context, userID string, p platform.ID, files []importer.File, progress func(importer.Progress)) (ImportResult, error) {
	id, err := platform.Parse(string(p))
	if err != nil {
		return ImportResult{}, err
	}
	platformName := string(id)
	var (
		cur     *fileWriter
		perFile []store.UpsertCounts // of files whose transaction committed, in order
		names   []string
	)
	abort := func() {
		if cur != nil {
			_, _ = cur.finish(false)
			cur = nil
		}
	}
	defer abort()
	im := importer.Importer{
		BatchSize: s.opts.ImportBatchSize,
		Clock:     s.clock,
		Limits:    s.opts.ImportLimits,
		OnFileStart: func(ctx context.Context, name string, _ importer.Format) error {
			abort()
			w, err := s.newFileWriter(ctx, userID, platformName)
			if err != nil {
				return err
			}
			cur = w
			return nil
		},
		OnFileEnd: func(ctx context.Context, fr importer.FileResult) error {
			if cur == nil {
				return nil
			}
			w := cur
			cur = nil
			counts, err := w.finish(fr.Err == nil)
			if err != nil {
				return fmt.Errorf("ingest: import: %s: %w", fr.Name, err)
			}
			if fr.Err == nil {
				perFile = append(perFile, counts)
				names = append(names, fr.Name)
			}
			return nil
		},
	}
	sink := func(ctx context.Context, recs []importer.Record) error {
		if cur == nil {
			return errors.New("ingest: import: records outside of a file")
		}
		return cur.write(recs)
	}
	res, err := im.Import(ctx, platformName, files, sink, progress)
	abort()

	out := ImportResult{Ignored: res.Ignored}
	j := 0
	for _, fr := range res.Files {
		f := ImportFileResult{
			Name: fr.Name, Format: string(fr.Format), Read: fr.Read, Rejected: fr.Rejected, Skipped: fr.Skipped,
			Rejections: fr.Rejections, Skips: fr.Skips,
		}
		if fr.Err != nil {
			f.Error, f.ErrorCode = apperr.MessageOf(fr.Err), apperr.CodeOf(fr.Err)
		} else if j < len(names) && names[j] == fr.Name {
			f.Imported, f.Duplicate = perFile[j].Stored(), perFile[j].Unchanged
			j++
		} else {
			// Started but not committed: the import was aborted in it.
			f.Error, f.ErrorCode = "the import stopped before this file was stored", apperr.CodeOf(err)
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				f.ErrorCode = apperr.Cancelled
			}
		}
		out.Imported += f.Imported
		out.Duplicate += f.Duplicate
		out.Rejected += f.Rejected
		out.Skipped += f.Skipped
		out.Files = append(out.Files, f)
	}
	if out.Imported > 0 {
		s.dataChanged(ctx, userID, platformName)
	}
	s.count(ctx, store.CounterImports, platformName, 1)
	s.count(ctx, store.CounterImported, platformName, int64(out.Imported))
	s.log.Info("ingest: import", slog.String("platform", platformName), slog.Int("files", len(out.Files)),
		slog.Int("imported", out.Imported), slog.Int("duplicate", out.Duplicate), slog.Int("rejected", out.Rejected))
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// The client left or the server is shutting down: files committed
		// before stay (and are in out), the one in progress was rolled back.
		return out, fmt.Errorf("ingest: import: %w", apperr.Wrap(err, apperr.Cancelled, "the import was cancelled; %d files were stored before it stopped", committed(out)))
	}
	if err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
		return out, fmt.Errorf("ingest: import: %w", err)
	}
	return out, err
}

func committed(r ImportResult) int {
	n := 0
	for _, f := range r.Files {
		if f.Error == "" {
			n++
		}
	}
	return n
}

// fileWriter upserts one file's records in one transaction. Records are
// converted (hashed) and their batch prepared (deduplicated, sorted, made
// statement arguments) in the parser's goroutine; another goroutine only
// runs the statements, so on two cores parsing and preparing the next
// batches overlaps with the database writing this one.
type fileWriter struct {
	tx      store.Tx
	writer  *store.PlatformDataWriter
	items   []store.PlatformItem // the parser's conversion buffer
	batches chan store.PlatformBatch
	done    chan struct{}

	mu     sync.Mutex
	err    error
	counts store.UpsertCounts
}

func (s *Service) newFileWriter(ctx context.Context, userID, platformName string) (*fileWriter, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("ingest: import: %w", err)
	}
	w := &fileWriter{
		tx: tx, writer: store.NewPlatformDataWriter(tx, userID, platformName, s.clock.Now()),
		items: make([]store.PlatformItem, 0, s.opts.ImportBatchSize),
		// Two batches may wait while one is written: memory stays a few
		// batches whatever the file's size.
		batches: make(chan store.PlatformBatch, 2),
		done:    make(chan struct{}),
	}
	go w.loop(ctx)
	return w, nil
}

func (w *fileWriter) loop(ctx context.Context) {
	defer close(w.done)
	for batch := range w.batches {
		w.mu.Lock()
		failed := w.err != nil
		w.mu.Unlock()
		if !failed {
			c, err := w.writer.Write(ctx, batch)
			w.mu.Lock()
			w.counts.Add(c)
			w.err = err
			w.mu.Unlock()
		}
	}
}

// write queues recs; an earlier batch's failure is returned here, aborting
// the import. The importer reuses the recs slice after write returns, so
// the records are copied; their strings and payloads are fresh per record
// and are not.
func (w *fileWriter) write(recs []importer.Record) error {
	w.mu.Lock()
	err := w.err
	w.mu.Unlock()
	if err != nil {
		return fmt.Errorf("ingest: import: %w", err)
	}
	w.items = w.items[:0]
	for _, r := range recs {
		w.items = append(w.items, recordItem(r))
	}
	w.batches <- w.writer.Prepare(w.items)
	return nil
}

// finish waits for the queued batches and commits (or rolls back) the
// file's transaction, returning its counts.
func (w *fileWriter) finish(commit bool) (store.UpsertCounts, error) {
	close(w.batches)
	<-w.done
	_ = w.writer.Close()
	w.mu.Lock()
	err, counts := w.err, w.counts
	w.mu.Unlock()
	if err != nil || !commit {
		_ = w.tx.Rollback()
		return store.UpsertCounts{}, err
	}
	if err := w.tx.Commit(); err != nil {
		return store.UpsertCounts{}, fmt.Errorf("commit: %w", err)
	}
	return counts, nil
}
