package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/uptrace/bun"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest/importer"
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
func (s *Service) ImportFiles(ctx context.Context, userID, platformName string, files []importer.File, progress func(importer.Progress)) (ImportResult, error) {
	var (
		tx      *bun.Tx
		counts  store.UpsertCounts
		perFile []store.UpsertCounts // of files whose transaction committed, in order
		names   []string
	)
	rollback := func() {
		if tx != nil {
			_ = tx.Rollback()
			tx = nil
		}
	}
	defer rollback()
	batch := make([]store.PlatformItem, 0, s.opts.ImportBatchSize)
	im := importer.Importer{
		BatchSize: s.opts.ImportBatchSize,
		Clock:     s.clock,
		OnFileStart: func(ctx context.Context, name string, _ importer.Format) error {
			rollback()
			t, err := s.db.BeginTx(ctx, nil)
			if err != nil {
				return fmt.Errorf("ingest: import: %w", err)
			}
			tx, counts = &t, store.UpsertCounts{}
			return nil
		},
		OnFileEnd: func(ctx context.Context, fr importer.FileResult) error {
			if tx == nil {
				return nil
			}
			if fr.Err != nil {
				rollback()
				return nil
			}
			err := tx.Commit()
			tx = nil
			if err != nil {
				return fmt.Errorf("ingest: import: commit %s: %w", fr.Name, err)
			}
			perFile = append(perFile, counts)
			names = append(names, fr.Name)
			return nil
		},
	}
	sink := func(ctx context.Context, recs []importer.Record) error {
		batch = batch[:0]
		for _, r := range recs {
			batch = append(batch, recordItem(r))
		}
		c, err := store.UpsertPlatformData(ctx, tx, userID, platformName, batch, s.clock.Now())
		if err != nil {
			return fmt.Errorf("ingest: import: %w", err)
		}
		counts.Add(c)
		return nil
	}
	res, err := im.Import(ctx, platformName, files, sink, progress)
	rollback()

	out := ImportResult{Ignored: res.Ignored}
	j := 0
	for _, fr := range res.Files {
		f := ImportFileResult{
			Name: fr.Name, Format: string(fr.Format), Read: fr.Read, Rejected: fr.Rejected, Skipped: fr.Skipped,
			Rejections: fr.Rejections, Skips: fr.Skips,
		}
		if fr.Err != nil {
			f.Error = apperr.MessageOf(fr.Err)
		} else if j < len(names) && names[j] == fr.Name {
			f.Imported, f.Duplicate = perFile[j].Stored(), perFile[j].Unchanged
			j++
		} else {
			// Started but not committed: the import was aborted in it.
			f.Error = "the import stopped before this file was stored"
		}
		out.Imported += f.Imported
		out.Duplicate += f.Duplicate
		out.Rejected += f.Rejected
		out.Skipped += f.Skipped
		out.Files = append(out.Files, f)
	}
	if out.Imported > 0 {
		s.publish(context.WithoutCancel(ctx), events.AnalysisNeeded, userID, platformName, AnalysisNeeded{Platform: platformName, Items: out.Imported})
	}
	s.log.Info("ingest: import", slog.String("platform", platformName), slog.Int("files", len(out.Files)),
		slog.Int("imported", out.Imported), slog.Int("duplicate", out.Duplicate), slog.Int("rejected", out.Rejected))
	if err != nil && apperr.CodeOf(err) != apperr.BadUserInput && !errors.Is(err, context.Canceled) {
		return out, fmt.Errorf("ingest: import: %w", err)
	}
	return out, err
}
