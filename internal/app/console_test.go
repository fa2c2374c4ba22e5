package app_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/twinme/twinme/internal/store"
)

// browserPath finds a Chromium to drive (Debian's `chromium` package).
func browserPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifactDir is where browser tests leave screenshots: TWINME_TEST_ARTIFACTS
// (.ci/run sets it to .ci/artifacts), else a directory under the temp dir.
func artifactDir(t *testing.T) string {
	dir := os.Getenv("TWINME_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "twinme-test-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	return abs
}

// TestAdminConsoleInHeadlessBrowser opens /admin in headless Chromium on a
// machine without internet (every asset comes from the binary), signs in
// with a pasted API token, runs { me { email } }, subscribes to
// cronExecutionCompleted, triggers runCronJob, sees the event arrive, and
// saves a screenshot.
func TestAdminConsoleInHeadlessBrowser(t *testing.T) {
	bin := browserPath()
	if bin == "" {
		t.Skip("no Chromium found (install Debian's `chromium` package, as .ci/run does, to run the admin console browser test)")
	}
	e := newEnv(t, store.SQLite, nil)
	_, token := e.user("root@example.com", true)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.NoSandbox, // CI runs as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// Everything the page logs as an error: CSP violations, failed loads
	// (a CDN would fail here), exceptions.
	var mu sync.Mutex
	var problems []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.LevelError {
				problems = append(problems, fmt.Sprintf("%s: %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Error())
		}
	})

	// GraphiQL re-parses the editor a moment after a change (a debounce)
	// and picks HTTP or the websocket from that parse: executing before it
	// would send a subscription over HTTP. So setting the query waits for
	// the parse to settle.
	setQuery := func(q string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.Evaluate(fmt.Sprintf(`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(%q)`, q), nil),
			chromedp.Sleep(1500 * time.Millisecond),
		}
	}
	waitResult := func(want ...string) chromedp.Action {
		cond := `(function(){ const el = document.querySelector('.result-window'); if (!el) return false; const t = el.innerText;`
		for _, w := range want {
			cond += fmt.Sprintf(` if (!t.includes(%q)) return false;`, w)
		}
		cond += ` return true; })()`
		return chromedp.Poll(cond, nil, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))
	}

	var who string
	err := chromedp.Run(ctx,
		log.Enable(),
		chromedp.Navigate(e.srv.URL+"/admin"),
		chromedp.WaitVisible("#token", chromedp.ByID),
		chromedp.SendKeys("#token", token, chromedp.ByID),
		chromedp.Click("#use-token", chromedp.ByID),
		chromedp.WaitVisible(".graphiql-container", chromedp.ByQuery),
		chromedp.Text("#who", &who, chromedp.ByID),
		chromedp.WaitVisible(".graphiql-query-editor .CodeMirror", chromedp.ByQuery),
		setQuery("{ me { email } }"),
		chromedp.Click(".graphiql-execute-button", chromedp.ByQuery),
		waitResult(`"email": "root@example.com"`),
	)
	if err != nil {
		t.Fatalf("console query: %v (page problems: %v)", err, problems)
	}
	if !strings.Contains(who, "root@example.com") {
		t.Fatalf("console header says %q", who)
	}

	err = chromedp.Run(ctx,
		setQuery("subscription { cronExecutionCompleted(job: \"maintenance\") { jobName status trigger } }"),
		chromedp.Click(".graphiql-execute-button", chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The subscription starts asynchronously over the websocket: trigger
	// runCronJob until its event shows in the result pane.
	arrived := make(chan error, 1)
	go func() {
		arrived <- chromedp.Run(ctx, waitResult(`"jobName": "maintenance"`, `"trigger": "ADMIN"`))
	}()
	var runs int
	for done := false; !done; {
		r := e.gql(token, `mutation { runCronJob(name: "maintenance") { status } }`, nil)
		if len(r.Errors) != 0 {
			t.Fatalf("runCronJob: %s", r.Raw)
		}
		runs++
		select {
		case err := <-arrived:
			if err != nil {
				t.Fatalf("cronExecutionCompleted never showed in the console after %d runs: %v (page problems: %v)", runs, err, problems)
			}
			done = true
		case <-time.After(700 * time.Millisecond):
		}
	}

	// The pasted token stays in memory: not in the URL or any storage.
	var exposed string
	var shot []byte
	err = chromedp.Run(ctx,
		chromedp.Evaluate(`location.href + JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie`, &exposed),
		chromedp.FullScreenshot(&shot, 100), // quality 100: PNG
	)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(exposed, token) {
		t.Fatal("the pasted token leaked into the URL, storage or cookies")
	}
	path := filepath.Join(artifactDir(t), "admin-console.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("admin console screenshot: %s\n", path)
	t.Logf("screenshot saved to %s", path)

	mu.Lock()
	defer mu.Unlock()
	if len(problems) != 0 {
		t.Fatalf("the console page logged errors (CSP violations, failed loads or exceptions): %v", problems)
	}
}
