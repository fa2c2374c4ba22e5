package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/export"
)

// cmdExport writes a user's data archive to a file, streamed, with a
// progress bar; the same archive requestDataExport builds.
func cmdExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("export", "twinme export --user EMAIL --out FILE", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	email := fs.String("user", "", "email of the user to export (required)")
	out := fs.String("out", "", "the zip file to write (required; not overwritten if it exists)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *out == "" || fs.NArg() != 0 {
		fs.Usage()
		return errors.New("--user and --out are required")
	}
	a, u, err := openAppForUser(ctx, getenv, stderr, *email)
	if err != nil {
		return err
	}
	defer a.Close()
	// Written beside the target and renamed at the end: a cut export never
	// looks like a whole one.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".twinme-export-*.part")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	start := time.Now()
	var bar func(export.Progress) error
	if !*quiet {
		bar = exportBar(stderr)
	}
	n, err := export.Write(ctx, a.DB, u.ID, a.Clock.Now(), bw, bar)
	if bar != nil {
		fmt.Fprintln(stderr)
	}
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = tmp.Close()
	}
	if err != nil {
		return fmt.Errorf("export: %s", apperr.MessageOf(err))
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists; not overwritten", *out)
	}
	if err := os.Rename(tmp.Name(), *out); err != nil {
		return err
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "%s: %d records, %d bytes, in %s\n", *out, n, st.Size(), time.Since(start).Round(time.Millisecond))
	return nil
}

// exportBar draws a one-line bar of records written.
func exportBar(w io.Writer) func(export.Progress) error {
	last := -1
	return func(p export.Progress) error {
		pct := 100
		if p.Total > 0 {
			pct = int(p.Done * 100 / p.Total)
		}
		if pct == last {
			return nil
		}
		last = pct
		const width = 30
		filled := pct * width / 100
		fmt.Fprintf(w, "\r[%s%s] %3d%% %d/%d records", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, p.Done, p.Total)
		return nil
	}
}

// cmdImportExport loads a twinme export archive into a user of this
// instance, merging it like any import.
func cmdImportExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("import-export", "twinme import-export --user EMAIL FILE", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	email := fs.String("user", "", "email of the user to import into (required)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || fs.NArg() != 1 {
		fs.Usage()
		return errors.New("--user and one archive file are required")
	}
	a, u, err := openAppForUser(ctx, getenv, stderr, *email)
	if err != nil {
		return err
	}
	defer a.Close()
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var bar func(export.Progress)
	if !*quiet {
		b := exportBar(stderr)
		bar = func(p export.Progress) { _ = b(p) }
	}
	res, err := a.ArchiveImport.ImportArchive(ctx, u.ID, f, st.Size(), bar)
	if bar != nil {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		return fmt.Errorf("%s: %s", fs.Arg(0), apperr.MessageOf(err))
	}
	for _, fr := range res.Files {
		fmt.Fprintf(stdout, "%s: %d records, %d imported, %d duplicate, %d skipped\n", fr.Name, fr.Records, fr.Imported, fr.Duplicate, fr.Skipped)
	}
	fmt.Fprintf(stdout, "total: %d imported, %d duplicate; the analysis runs on the next serve (or requestAnalysis)\n", res.Imported, res.Duplicate)
	return nil
}
