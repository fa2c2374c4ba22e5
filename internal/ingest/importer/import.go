package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/apperr"
)

// Sink receives records in batches, in file order; a batch never spans two
// files. It must not keep batch after it returns (the importer reuses it).
// An error from the sink aborts the whole import.
type Sink func(ctx context.Context, batch []Record) error

// Progress is reported after every batch and at the end of every file, for a
// progress bar. Bytes are counted as they are read from the files (after
// decompression for archive entries).
type Progress struct {
	File       string
	FileIndex  int // 0-based
	Files      int
	BytesRead  int64 // over all files so far
	BytesTotal int64 // sum of File.Size
	Records    int   // records handed to the sink so far
}

// Counts are the per-file tallies. The caller adds imported and duplicate
// counts after its upsert.
type Counts struct {
	// Read is the number of array elements read.
	Read int
	// Yielded went to the sink.
	Yielded int
	// Rejected were malformed (missing or bad timestamp, missing name …).
	Rejected int
	// Skipped were well-formed but deliberately not imported (ads, video
	// streams, private-session plays …), see FileResult.Skips.
	Skipped int
}

func (c *Counts) add(o Counts) {
	c.Read += o.Read
	c.Yielded += o.Yielded
	c.Rejected += o.Rejected
	c.Skipped += o.Skipped
}

// Rejection is a sample of a rejected element.
type Rejection struct {
	Record int // 1-based position in the file's array
	Reason string
}

// FileResult is the outcome of one file.
type FileResult struct {
	Name   string
	Format Format
	Counts
	// Rejections holds the first Importer.MaxSamples rejections.
	Rejections []Rejection
	// Skips counts skipped elements by reason.
	Skips map[string]int
	// Err is why the file could not be read to its end (wrong format,
	// truncated or corrupt); records read before it were already yielded.
	Err error
}

// IgnoredFile is an archive entry that is not an export of the platform.
type IgnoredFile struct {
	Name   string
	Reason string
}

// Result of an import: one FileResult per file read, in order, and the
// archive entries left alone.
type Result struct {
	Files   []FileResult
	Ignored []IgnoredFile
}

// Totals sums the counts of all files.
func (r Result) Totals() Counts {
	var c Counts
	for _, f := range r.Files {
		c.add(f.Counts)
	}
	return c
}

// Importer reads export files and yields normalised records. The zero value
// is ready to use.
//
// Per-file semantics: every file is read from start to end and its records
// go to the sink in batches as they are read. A file that turns out to be in
// the wrong format, truncated or corrupt stops there: the records before the
// fault have been yielded (the pending batch is flushed first), the
// FileResult carries the error, and the import goes on with the next file.
// A caller that wants a file all-or-nothing opens a transaction in
// OnFileStart, upserts in the sink, and commits in OnFileEnd when
// FileResult.Err is nil, rolling back otherwise.
type Importer struct {
	// BatchSize is the number of records per sink call (default 1000).
	BatchSize int
	// MaxSamples caps FileResult.Rejections (default 5).
	MaxSamples int
	// Clock tells what "the future" is: records more than a day ahead of it
	// are rejected (default: the real clock).
	Clock clockwork.Clock
	// OnFileStart, if set, is called before the first batch of each file
	// that will be read. An error aborts the import.
	OnFileStart func(ctx context.Context, name string, format Format) error
	// OnFileEnd, if set, is called after the last batch of each file that
	// was started, with its result (Err set if the file failed). An error
	// aborts the import.
	OnFileEnd func(ctx context.Context, result FileResult) error
	// Limits bound sizes and ratios (zero fields: DefaultLimits).
	Limits Limits
}

// Import reads files with the default Importer.
func Import(ctx context.Context, platform string, files []File, sink Sink, progress func(Progress)) (Result, error) {
	return Importer{}.Import(ctx, platform, files, sink, progress)
}

// Import reads the export files of platform ("spotify" or "youtube") and
// hands their records to sink. progress may be nil.
//
// The Result is always returned, also with an error. The error is:
//   - BAD_USER_INPUT for an unknown platform, or when one or more files were
//     not readable exports (errors.Join of the per-file errors, each naming
//     its file; the other files were imported);
//   - the sink's, OnFileStart's or OnFileEnd's error, or ctx's, which abort
//     at once (the remaining files are not read).
//
// A file picked on its own whose name is no export of platform is an error;
// an archive entry of that kind (a ReadMe, another product's data) is
// listed in Result.Ignored.
func (im Importer) Import(ctx context.Context, platform string, files []File, sink Sink, progress func(Progress)) (Result, error) {
	var res Result
	if platform != PlatformSpotify && platform != PlatformYouTube {
		return res, fmt.Errorf("importer: %w", apperr.Invalid("platform", "imports are supported for spotify and youtube, not %q", platform))
	}
	if sink == nil {
		return res, errors.New("importer: nil sink")
	}
	if im.BatchSize <= 0 {
		im.BatchSize = 1000
	}
	if im.MaxSamples <= 0 {
		im.MaxSamples = 5
	}
	if im.Clock == nil {
		im.Clock = clockwork.NewRealClock()
	}
	im.Limits = im.Limits.withDefaults()

	run := &run{im: &im, sink: sink, progress: progress, files: len(files)}
	for _, f := range files {
		run.prog.BytesTotal += f.Size
	}
	run.batch = make([]Record, 0, im.BatchSize)

	var fileErrs []error
	for i, f := range files {
		if err := ctx.Err(); err != nil {
			return res, fmt.Errorf("importer: %w", err)
		}
		format, owner, ok := DetectFormat(f.Name)
		switch {
		case !ok && f.InArchive:
			res.Ignored = append(res.Ignored, IgnoredFile{Name: f.Name, Reason: "not a " + platform + " export file"})
			run.prog.BytesRead += f.Size
			continue
		case ok && owner != platform && f.InArchive:
			res.Ignored = append(res.Ignored, IgnoredFile{Name: f.Name, Reason: "a " + owner + " export, not " + platform})
			run.prog.BytesRead += f.Size
			continue
		case !ok || owner != platform:
			err := fmt.Errorf("importer: %w", apperr.New(apperr.BadUserInput,
				"%s is not a %s export file: expected %s", f.Name, platform, expectedNames(platform)))
			res.Files = append(res.Files, FileResult{Name: f.Name, Err: err})
			fileErrs = append(fileErrs, err)
			run.prog.BytesRead += f.Size
			continue
		}

		fr, err := run.file(ctx, i, f, format)
		res.Files = append(res.Files, fr)
		if err != nil {
			return res, err
		}
		if fr.Err != nil {
			fileErrs = append(fileErrs, fr.Err)
		}
	}
	run.report()
	if len(res.Files) == 0 && len(res.Ignored) > 0 {
		return res, fmt.Errorf("importer: %w", apperr.New(apperr.BadUserInput,
			"the archive holds no %s export file (expected %s); it holds: %s", platform, expectedNames(platform), heldList(res.Ignored)))
	}
	return res, errors.Join(fileErrs...)
}

// heldList names an archive's entries for an error message, the first 20.
func heldList(ig []IgnoredFile) string {
	const max = 20
	names := make([]string, 0, min(len(ig), max))
	for i, f := range ig {
		if i == max {
			break
		}
		names = append(names, f.Name)
	}
	s := strings.Join(names, ", ")
	if len(ig) > max {
		s += fmt.Sprintf(" and %d more", len(ig)-max)
	}
	return s
}

// run is the state of one Import call.
type run struct {
	im       *Importer
	sink     Sink
	progress func(Progress)
	files    int
	prog     Progress
	batch    []Record
	// total counts the bytes read over all files, for Limits.MaxTotalBytes.
	total int64
}

// file reads one file. A returned error aborts the import; a fault in the
// file itself is in FileResult.Err.
func (r *run) file(ctx context.Context, idx int, f File, format Format) (FileResult, error) {
	fr := FileResult{Name: f.Name, Format: format}
	r.prog.File, r.prog.FileIndex, r.prog.Files = f.Name, idx, r.files
	bytesBefore := r.prog.BytesRead

	if r.im.OnFileStart != nil {
		if err := r.im.OnFileStart(ctx, f.Name, format); err != nil {
			return fr, fmt.Errorf("importer: %s: %w", f.Name, err)
		}
	}

	fs := &fileState{run: r, fr: &fr, now: r.im.Clock.Now(), lim: &r.im.Limits}
	rc, err := f.Open()
	if err != nil {
		fr.Err = fmt.Errorf("importer: %w", apperr.Wrap(err, apperr.BadUserInput, "%s could not be opened", f.Name))
	} else {
		lr := &limitReader{r: rc, name: f.Name, compressed: f.CompressedSize, lim: &r.im.Limits, total: &r.total}
		cr := &countingReader{r: lr, onRead: func(n int64) { r.prog.BytesRead = bytesBefore + n }}
		fs.counter = cr
		fr.Err = parserFor(format)(ctx, fs, cr)
		_ = rc.Close()
	}
	// A sink or context error surfaces as abortErr: it is not the file's fault.
	var abort *abortErr
	if errors.As(fr.Err, &abort) {
		fr.Err = nil
		return fr, abort.err
	}
	if err := fs.flush(ctx); err != nil {
		return fr, errors.Unwrap(err)
	}
	// The whole file counts as read for the progress bar, even when it
	// stopped early or its size was an estimate.
	if f.Size > 0 {
		r.prog.BytesRead = bytesBefore + f.Size
	}
	r.report()
	if r.im.OnFileEnd != nil {
		if err := r.im.OnFileEnd(ctx, fr); err != nil {
			return fr, fmt.Errorf("importer: %s: %w", f.Name, err)
		}
	}
	return fr, nil
}

func (r *run) report() {
	if r.progress != nil {
		r.progress(r.prog)
	}
}

// abortErr wraps errors that must stop the whole import (sink, context)
// while they travel up through a parser.
type abortErr struct{ err error }

func (e *abortErr) Error() string { return e.err.Error() }
func (e *abortErr) Unwrap() error { return e.err }

// fileState is what a parser works with.
type fileState struct {
	run     *run
	fr      *FileResult
	now     time.Time
	counter *countingReader
	lim     *Limits
}

// tick is called every 64 KiB of input: a cancelled import stops within
// milliseconds however the input is shaped (whitespace, huge records).
func (fs *fileState) tick(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &abortErr{fmt.Errorf("importer: %w", err)}
	}
	return nil
}

// str returns *p trimmed and clipped to Limits.MaxStringBytes, or "".
func (fs *fileState) str(p *string) string {
	if p == nil {
		return ""
	}
	return fs.name(*p)
}

// name trims s and clips it to Limits.MaxStringBytes.
func (fs *fileState) name(s string) string {
	return clip(strings.TrimSpace(s), fs.lim.MaxStringBytes)
}

func (fs *fileState) emit(ctx context.Context, rec Record) error {
	fs.run.batch = append(fs.run.batch, rec)
	fs.fr.Yielded++
	if len(fs.run.batch) >= fs.run.im.BatchSize {
		return fs.flush(ctx)
	}
	return nil
}

// flush hands the pending batch to the sink. Its errors are abortErr.
func (fs *fileState) flush(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return &abortErr{fmt.Errorf("importer: %w", err)}
	}
	if len(fs.run.batch) == 0 {
		return nil
	}
	if err := fs.run.sink(ctx, fs.run.batch); err != nil {
		fs.run.batch = fs.run.batch[:0]
		return &abortErr{fmt.Errorf("importer: %s: sink: %w", fs.fr.Name, err)}
	}
	fs.run.prog.Records += len(fs.run.batch)
	fs.run.batch = fs.run.batch[:0]
	fs.run.report()
	return nil
}

func (fs *fileState) reject(record int, reason string) {
	fs.fr.Rejected++
	if len(fs.fr.Rejections) < fs.run.im.MaxSamples {
		fs.fr.Rejections = append(fs.fr.Rejections, Rejection{Record: record, Reason: reason})
	}
}

func (fs *fileState) skip(reason string) {
	fs.fr.Skipped++
	if fs.fr.Skips == nil {
		fs.fr.Skips = make(map[string]int)
	}
	fs.fr.Skips[reason]++
}

// checkTime rejects timestamps no export can hold: before YouTube and
// Spotify existed, or more than a day ahead of the clock (a device with a
// wrong clock). It returns a rejection reason or "".
func (fs *fileState) checkTime(t time.Time) string {
	if t.Before(earliest) {
		return "timestamp " + t.Format(time.RFC3339) + " is before 2005"
	}
	if t.After(fs.now.Add(24 * time.Hour)) {
		return "timestamp " + t.Format(time.RFC3339) + " is in the future"
	}
	return ""
}

var earliest = time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)

// wrongFormat is the error for a file whose content is not what its name
// promised.
func (fs *fileState) wrongFormat(expected string) error {
	return fmt.Errorf("importer: %w", apperr.New(apperr.BadUserInput,
		"%s does not look like %s", fs.fr.Name, expected))
}

// corrupt is the error for a file that cannot be parsed past a point.
func (fs *fileState) corrupt(record int, offset int64, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("importer: %w", apperr.Wrap(err, apperr.BadUserInput,
			"%s is truncated: it ends at byte %d inside record %d", fs.fr.Name, offset, record))
	}
	return fmt.Errorf("importer: %w", apperr.Wrap(err, apperr.BadUserInput,
		"%s is corrupt in record %d, near byte %d", fs.fr.Name, record, offset))
}

func typeReason(e *json.UnmarshalTypeError) string {
	if e.Field == "" {
		return "element is a JSON " + e.Value + ", not an object"
	}
	return fmt.Sprintf("field %s is a JSON %s, expected %s", e.Field, e.Value, e.Type)
}

type countingReader struct {
	r      io.Reader
	n      int64
	onRead func(n int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.onRead(c.n)
	return n, err
}

func parserFor(f Format) func(ctx context.Context, fs *fileState, r io.Reader) error {
	switch f {
	case FormatSpotifyAccountMusic:
		return parseAccountMusic
	case FormatSpotifyAccountPodcast:
		return parseAccountPodcast
	case FormatSpotifyExtended:
		return parseExtended
	case FormatSpotifyExtendedVideo:
		return parseExtendedVideo
	case FormatYouTubeWatch:
		return parseWatchHistory
	case FormatYouTubeSearch:
		return parseSearchHistory
	}
	panic("importer: no parser for format " + string(f))
}
