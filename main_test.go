package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/testutil"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestUsersCreateThenServeAnswersMe(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"TWINME_DATA_DIR": dir, "TWINME_LISTEN": "127.0.0.1:0"}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"users", "create", "--email", "op@example.com", "--admin"}, &out, &errOut, env(vars)); err != nil {
		t.Fatalf("users create: %v\n%s", err, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	token := lines[len(lines)-1]
	if !strings.HasPrefix(token, "tm_") {
		t.Fatalf("no token printed: %s", out.String())
	}
	// A duplicate email is a clear error (exit code 1 in main).
	err := run(context.Background(), []string{"users", "create", "--email", "op@example.com"}, &out, &errOut, env(vars))
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate email: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var stdout testutil.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, &stdout, &errOut, env(vars)) }()
	var addr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := fmt.Sscanf(stdout.String(), "twinme is listening on %s", &addr); err == nil {
			break
		}
	}
	if addr == "" {
		cancel()
		t.Fatalf("server did not start: %s", stdout.String())
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", strings.NewReader(`{"query":"{ me { email role } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(res.Body)
	res.Body.Close()
	if !strings.Contains(body.String(), `"email":"op@example.com","role":"ADMIN"`) {
		t.Fatalf("me: %s", body.String())
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v after shutdown", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not shut down")
	}
	if _, err := filepath.Glob(filepath.Join(dir, "twinme.db")); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateStatusAndHelp(t *testing.T) {
	vars := map[string]string{"TWINME_DATA_DIR": t.TempDir()}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "up"}, &out, &errOut, env(vars)); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(context.Background(), []string{"migrate", "status"}, &out, &errOut, env(vars)); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "applied") || strings.Contains(out.String(), "pending") {
		t.Fatalf("status after up: %s", out.String())
	}
	out.Reset()
	_ = run(context.Background(), []string{"serve", "--help"}, &out, &errOut, env(vars))
	if !strings.Contains(out.String(), "-listen") || !strings.Contains(out.String(), "TWINME_DATABASE_URL") {
		t.Fatalf("serve --help lacks flags or env vars: %s", out.String())
	}
	if err := run(context.Background(), []string{"serve"}, &out, &errOut, env(map[string]string{"TWINME_LISTEN": "nonsense"})); err == nil || !strings.Contains(err.Error(), "TWINME_LISTEN") {
		t.Fatalf("bad listen address: %v", err)
	}
}
