package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportThenImportExportCLI: twinme export writes a user's archive with
// a progress bar; twinme import-export loads it into a user of another
// instance; a changed archive is refused naming the file.
func TestExportThenImportExportCLI(t *testing.T) {
	ctx := context.Background()
	a := map[string]string{"TWINME_DATA_DIR": t.TempDir()}
	b := map[string]string{"TWINME_DATA_DIR": t.TempDir()}
	var out, errOut bytes.Buffer
	if err := run(ctx, []string{"users", "create", "--email", "me@a.example"}, &out, &errOut, env(a)); err != nil {
		t.Fatalf("users create: %v %s", err, errOut.String())
	}
	file := filepath.Join(t.TempDir(), "me.zip")
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"export", "--user", "me@a.example", "--out", file}, &out, &errOut, env(a)); err != nil {
		t.Fatalf("export: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "me.zip: 0 records") || !strings.Contains(errOut.String(), "100%") {
		t.Fatalf("export output: %q %q", out.String(), errOut.String())
	}
	if err := run(ctx, []string{"export", "--user", "me@a.example", "--out", file}, &out, &errOut, env(a)); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("overwriting an archive: %v", err)
	}
	if err := run(ctx, []string{"users", "create", "--email", "me@b.example"}, &out, &errOut, env(b)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"import-export", "--user", "me@b.example", "--quiet", file}, &out, &errOut, env(b)); err != nil {
		t.Fatalf("import-export: %v %s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "profile.json: 1 records") || !strings.Contains(out.String(), "total:") {
		t.Fatalf("import-export output: %s", out.String())
	}
	raw, _ := os.ReadFile(file)
	bad := filepath.Join(t.TempDir(), "bad.zip")
	_ = os.WriteFile(bad, raw[:len(raw)/2], 0o600)
	if err := run(ctx, []string{"import-export", "--user", "me@b.example", "--quiet", bad}, &out, &errOut, env(b)); err == nil || !strings.Contains(err.Error(), "archive refused") {
		t.Fatalf("cut archive: %v", err)
	}
}
