// Command twinme serves the Twin Me GraphQL API and runs its jobs.
//
//	twinme serve                       run the server (embedded SQLite by default)
//	twinme migrate up|down|status      manage the database schema
//	twinme users create --email E      create a user and print an API token
//
// Every setting comes from TWINME_* environment variables; see --help.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "twinme:", err)
		}
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(1)
	}
}

const usage = `twinme — the Twin Me backend

Usage:
  twinme serve                                   run the HTTP server and scheduled jobs
  twinme migrate up|down|status                  apply, undo (last group) or list migrations
  twinme users create --email E [--name N] [--admin]
                                                 create a user and print an API token once
  twinme import --user EMAIL --platform P FILE…   import data exports (JSON files or zip archives) for a user
  twinme demo [--email E] [--live [--every D]]   create a demo user with a year of synthetic activity, analyse it, print a token;
                                                 --live then serves the API and feeds the demo user a new day every D
  twinme export --user EMAIL --out FILE           write everything held of a user to a zip archive (with a progress bar)
  twinme import-export --user EMAIL FILE         load a twinme export archive (from any instance) into a user
  twinme cron run <job>                          run one scheduled job once and print its execution as JSON
  twinme cron list                               list the jobs and their schedules
  twinme keys generate                           print a new encryption key for TWINME_ENCRYPTION_KEYS
  twinme keys rotate                             re-encrypt every stored token with the current key

Run "twinme <command> --help" for the flags and environment variables of a command.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		fmt.Fprint(stdout, "\nEnvironment:\n"+config.Help())
		if len(args) == 0 {
			return errors.New("no command given")
		}
		return flag.ErrHelp
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, getenv)
	case "migrate":
		return cmdMigrate(ctx, args[1:], stdout, stderr, getenv)
	case "users":
		return cmdUsers(ctx, args[1:], stdout, stderr, getenv)
	case "keys":
		return cmdKeys(ctx, args[1:], stdout, stderr, getenv)
	case "cron":
		return cmdCron(ctx, args[1:], stdout, stderr, getenv)
	case "import":
		return cmdImport(ctx, args[1:], stdout, stderr, getenv)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr, getenv)
	case "export":
		return cmdExport(ctx, args[1:], stdout, stderr, getenv)
	case "import-export":
		return cmdImportExport(ctx, args[1:], stdout, stderr, getenv)
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// newFlags returns a flag set whose --help lists its flags and envVars.
func newFlags(name, synopsis string, stdout io.Writer, envVars ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
		fmt.Fprint(stdout, "\nEnvironment:\n"+config.Help(envVars...))
	}
	return fs
}

// openApp loads the configuration (flags in overrides win over the
// environment) and wires twinme, logging at level (the configured one when
// "") and migrating the database when migrate. The caller closes it.
// openAppForUser opens the app as the per-user CLI commands (import, export,
// import-export) do, and finds the user they act for.
func openAppForUser(ctx context.Context, getenv func(string) string, stderr io.Writer, email string) (*app.App, *store.User, error) {
	a, err := openApp(ctx, getenv, nil, stderr, "warn", true)
	if err != nil {
		return nil, nil, err
	}
	u, err := a.DB.UserByEmail(ctx, email)
	if err != nil {
		_ = a.Close()
		return nil, nil, fmt.Errorf("no user with email %s", email)
	}
	return a, u, nil
}

func openApp(ctx context.Context, getenv func(string) string, overrides map[string]string, stderr io.Writer, level string, migrate bool) (*app.App, error) {
	cfg, err := loadConfig(getenv, overrides)
	if err != nil {
		return nil, err
	}
	if level == "" {
		level = cfg.LogLevel
	}
	return app.New(ctx, cfg, logx.New(stderr, cfg.LogFormat, level), app.Options{Migrate: migrate})
}

// loadConfig reads the environment, with flags (name → env var) on top.
func loadConfig(getenv func(string) string, overrides map[string]string) (*config.Config, error) {
	return config.Load(func(k string) string {
		if v, ok := overrides[k]; ok && v != "" {
			return v
		}
		return getenv(k)
	})
}

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("serve", "twinme serve [--listen ADDR] [--database-url URL] [--data-dir DIR]", stdout)
	listen := fs.String("listen", "", "host:port to listen on (TWINME_LISTEN)")
	dbURL := fs.String("database-url", "", "database URL (TWINME_DATABASE_URL)")
	dataDir := fs.String("data-dir", "", "data directory (TWINME_DATA_DIR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv, map[string]string{"TWINME_LISTEN": *listen, "TWINME_DATABASE_URL": *dbURL, "TWINME_DATA_DIR": *dataDir})
	if err != nil {
		return err
	}
	log := logx.New(stderr, cfg.LogFormat, cfg.LogLevel)
	// Libraries that write to the standard logger (gqlgen on a refused
	// websocket upgrade) then write the same structured lines, JSON in production.
	slog.SetDefault(log)
	a, err := app.New(ctx, cfg, log, app.Options{Migrate: true})
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("twinme starting", slog.String("environment", string(cfg.Environment)), slog.String("database", a.DB.Location))
	return a.Serve(ctx, func(addr string) {
		base := cfg.PublicURL
		fmt.Fprintf(stdout, "twinme is listening on %s\n  GraphQL:    %s/graphql\n  Console:    %s/admin\n  Health:     %s/api/health\n", addr, base, base, base)
	})
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("migrate", "twinme migrate up|down|status [--database-url URL]", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	dbURL := fs.String("database-url", "", "database URL (TWINME_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("migrate needs one of up, down, status")
	}
	a, err := openApp(ctx, getenv, map[string]string{"TWINME_DATABASE_URL": *dbURL}, stderr, "", false)
	if err != nil {
		return err
	}
	defer a.Close()
	switch fs.Arg(0) {
	case "up":
		applied, err := a.DB.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) == 0 {
			fmt.Fprintln(stdout, "database is up to date")
		}
		for _, m := range applied {
			fmt.Fprintln(stdout, "applied", m)
		}
	case "down":
		undone, err := a.DB.Rollback(ctx)
		if err != nil {
			return err
		}
		if len(undone) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		for _, m := range undone {
			fmt.Fprintln(stdout, "rolled back", m)
		}
	case "status":
		st, err := a.DB.MigrationStatus(ctx)
		if err != nil {
			return err
		}
		for _, m := range st {
			state := "pending"
			if m.Applied {
				state = "applied"
			}
			fmt.Fprintf(stdout, "%-8s %s\n", state, m.Name)
		}
	default:
		return fmt.Errorf("unknown migrate action %q (want up, down or status)", fs.Arg(0))
	}
	return nil
}

func cmdUsers(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 && args[0] == "set-role" {
		return cmdUsersSetRole(ctx, args[1:], stdout, stderr, getenv)
	}
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stdout, "Usage: twinme users create --email E [--name N] [--admin]\n       twinme users set-role --email E --role user|admin\n")
		return errors.New("users needs the create or set-role action")
	}
	fs := newFlags("users create", "twinme users create --email E [--name N] [--admin]", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR", "TWINME_ADMIN_EMAILS")
	email := fs.String("email", "", "email address of the new user (required)")
	name := fs.String("name", "", "display name")
	admin := fs.Bool("admin", false, "give the user the admin role")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" {
		fs.Usage()
		return errors.New("--email is required")
	}
	a, err := openApp(ctx, getenv, nil, stderr, "warn", true)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Auth.CreateUser(ctx, *email, *name, *admin)
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return errors.New(apperr.MessageOf(err))
		}
		return err
	}
	token, _, err := a.Auth.CreateAPIToken(ctx, u.ID, "created by twinme users create", []string{auth.ScopeFull}, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s (%s, role %s)\nAPI token (shown once, keep it safe):\n%s\n", u.Email, u.ID, u.Role, token)
	return nil
}

// cmdUsersSetRole grants or removes the admin role. A demotion ends the
// user's admin view everywhere: on PostgreSQL every instance hears it on the
// bus, drops the cached credentials and closes the user's websockets.
func cmdUsersSetRole(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("users set-role", "twinme users set-role --email E --role user|admin", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	email := fs.String("email", "", "email address of the user (required)")
	role := fs.String("role", "", "user or admin (required)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if strings.TrimSpace(*email) == "" || *role == "" {
		fs.Usage()
		return errors.New("--email and --role are required")
	}
	a, err := openApp(ctx, getenv, nil, stderr, "warn", true)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.DB.UserByEmail(ctx, strings.TrimSpace(*email))
	if err == nil {
		u, err = a.Auth.SetRole(ctx, u.ID, domain.Role(strings.ToLower(*role)))
	}
	if err != nil {
		if apperr.CodeOf(err) != apperr.Internal {
			return errors.New(apperr.MessageOf(err))
		}
		return err
	}
	fmt.Fprintf(stdout, "user %s (%s) now has role %s\n", u.Email, u.ID, u.Role)
	return nil
}

func cmdKeys(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	usage := "Usage: twinme keys generate | twinme keys rotate\n\n" +
		"generate prints a new key as id:base64. To rotate: put the new key first in\n" +
		"TWINME_ENCRYPTION_KEYS (keep the old ones after it), restart, run `twinme keys rotate`,\n" +
		"then remove the old keys once it reports 0 skipped.\n\nEnvironment:\n" + config.Help("TWINME_ENCRYPTION_KEYS", "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	if len(args) != 1 {
		fmt.Fprint(stdout, usage)
		return errors.New("keys needs generate or rotate")
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprint(stdout, usage)
		return flag.ErrHelp
	case "generate":
		fmt.Fprintln(stdout, secret.GenerateKeySpec())
		return nil
	case "rotate":
		a, err := openApp(ctx, getenv, nil, stderr, "warn", true)
		if err != nil {
			return err
		}
		defer a.Close()
		res, err := a.Tokens.RotateKeys(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "checked %d connections, re-encrypted %d with key %q, skipped %d (changed meanwhile; run again)\n", res.Checked, res.Rotated, a.Keyring.CurrentKeyID(), res.Skipped)
		fmt.Fprintf(stdout, "checked %d pending connect flows, re-encrypted %d, skipped %d\n", res.StatesChecked, res.StatesRotated, res.StatesSkipped)
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("unknown keys action %q (want generate or rotate)", args[0])
	}
}

func cmdCron(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	usage := "Usage: twinme cron run <job> | twinme cron list\n\n" +
		"run executes one job once (trigger cli), records it in cron_executions and prints the execution;\n" +
		"it exits 1 when the run failed, for a Kubernetes CronJob or a systemd timer.\n\nEnvironment:\n" +
		config.Help("TWINME_DATABASE_URL", "TWINME_DATA_DIR", "TWINME_ENCRYPTION_KEYS", "TWINME_INSTANCE")
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usage)
		if len(args) == 0 {
			return errors.New("cron needs run or list")
		}
		return flag.ErrHelp
	}
	a, err := openApp(ctx, getenv, nil, stderr, "", true)
	if err != nil {
		return err
	}
	defer a.Close()
	switch {
	case args[0] == "list" && len(args) == 1:
		jobs, err := a.Scheduler.Jobs(ctx)
		if err != nil {
			return err
		}
		for _, j := range jobs {
			last := "never ran"
			if j.LastRun != nil {
				last = fmt.Sprintf("last %s at %s", j.LastRun.Status, j.LastRun.ExecutedAt.Format(time.RFC3339))
			}
			fmt.Fprintf(stdout, "%-18s %-12s %s\n", j.Name, j.Schedule, last)
		}
		return nil
	case args[0] == "run" && len(args) == 2:
		ex, err := a.Scheduler.RunNow(ctx, args[1], store.TriggerCLI)
		if err != nil {
			return errors.New(apperr.MessageOf(err))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ex); err != nil {
			return err
		}
		if ex.Status.Failed() {
			return fmt.Errorf("job %s ended with status %s", ex.JobName, ex.Status)
		}
		return nil
	default:
		fmt.Fprint(stdout, usage)
		return fmt.Errorf("unknown cron action %q", strings.Join(args, " "))
	}
}

func cmdImport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("import", "twinme import --user EMAIL --platform spotify|youtube FILE…", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR")
	email := fs.String("user", "", "email of the user whose export this is (required)")
	plat := fs.String("platform", "", "spotify (account data or extended streaming history) or youtube (Google Takeout history) (required)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" || *plat == "" || fs.NArg() == 0 {
		fs.Usage()
		return errors.New("--user, --platform and at least one file are required")
	}
	platformID, err := platform.Parse(*plat)
	if err != nil {
		return err
	}
	a, u, err := openAppForUser(ctx, getenv, stderr, *email)
	if err != nil {
		return err
	}
	defer a.Close()
	var files []importer.File
	for _, path := range fs.Args() {
		if strings.HasSuffix(strings.ToLower(path), ".zip") {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				return err
			}
			zf, err := importer.FilesFromZip(f, st.Size())
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			files = append(files, zf...)
			continue
		}
		pf, err := importer.FilesFromPaths(path)
		if err != nil {
			return err
		}
		files = append(files, pf...)
	}
	var bar func(importer.Progress)
	if !*quiet {
		bar = progressBar(stderr)
	}
	res, err := a.Ingest.ImportFiles(ctx, u.ID, platformID, files, bar)
	if bar != nil {
		fmt.Fprintln(stderr)
	}
	for _, f := range res.Files {
		line := fmt.Sprintf("%s (%s): %d imported, %d duplicate, %d rejected, %d skipped", f.Name, f.Format, f.Imported, f.Duplicate, f.Rejected, f.Skipped)
		if f.Error != "" {
			line = fmt.Sprintf("%s: not imported: %s", f.Name, f.Error)
		}
		fmt.Fprintln(stdout, line)
		for _, r := range f.Rejections {
			fmt.Fprintf(stdout, "  record %d rejected: %s\n", r.Record, r.Reason)
		}
	}
	for _, ig := range res.Ignored {
		fmt.Fprintf(stdout, "%s: ignored (%s)\n", ig.Name, ig.Reason)
	}
	fmt.Fprintf(stdout, "total: %d imported, %d duplicate, %d rejected, %d skipped\n", res.Imported, res.Duplicate, res.Rejected, res.Skipped)
	if err != nil {
		return errors.New(apperr.MessageOf(err))
	}
	return nil
}

// progressBar draws a one-line bar of bytes read on w (a terminal's stderr).
func progressBar(w io.Writer) func(importer.Progress) {
	last := -1
	return func(p importer.Progress) {
		if p.BytesTotal <= 0 {
			return
		}
		pct := int(p.BytesRead * 100 / p.BytesTotal)
		if pct == last {
			return
		}
		last = pct
		const width = 30
		filled := pct * width / 100
		fmt.Fprintf(w, "\r[%s%s] %3d%% %d records  %s", strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, p.Records, p.File)
	}
}

func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := newFlags("demo", "twinme demo [--email E] [--live [--every D] [--listen ADDR]]", stdout, "TWINME_DATABASE_URL", "TWINME_DATA_DIR", "TWINME_LISTEN")
	email := fs.String("email", demo.DefaultEmail, "email of the demo user (created, or reused)")
	live := fs.Bool("live", false, "after seeding, serve the API (like serve) and feed the demo user a new day of activity every --every, through the ingest path, so insightAdded and soulSignatureUpdated subscribers see it arrive")
	every := fs.Duration("every", 5*time.Second, "with --live: how often a new day arrives")
	listen := fs.String("listen", "", "with --live: host:port to listen on (TWINME_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *live && *every < time.Second {
		return fmt.Errorf("--every must be at least 1s, got %s", *every)
	}
	level := "warn"
	if *live {
		level = ""
	}
	a, err := openApp(ctx, getenv, map[string]string{"TWINME_LISTEN": *listen}, stderr, level, true)
	if err != nil {
		return err
	}
	cfg := a.Config
	defer a.Close()
	start := time.Now()
	fmt.Fprintln(stderr, "seeding a year of synthetic Spotify, YouTube, GitHub, Gmail, Discord, LinkedIn and browsing activity…")
	deps := demo.Deps{DB: a.DB, Auth: a.Auth, Ingest: a.Ingest, Soul: a.Soul, Clock: a.Clock, Logger: a.Log}
	res, err := demo.SeedUser(ctx, deps, *email)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo user %s: %d platform items and %d browser events stored, %d insights, in %s\n",
		*email, res.Stored, res.Observer, res.Run.InsightsStored, time.Since(start).Round(time.Millisecond))
	if sv, err := a.Soul.Signature(ctx, res.UserID, res.UserID, ""); err == nil {
		fmt.Fprintln(stdout, "\nrelations and changes found:")
		for _, in := range sv.View.Insights {
			if strings.HasPrefix(in.Key, "correlation.") || strings.HasPrefix(in.Key, "change.") {
				fmt.Fprintf(stdout, "  - %s\n    %s\n", in.Title, in.Body)
			}
		}
	}
	fmt.Fprintf(stdout, "\nAPI token (shown once):\n%s\n\n", res.Token)
	if !*live {
		fmt.Fprintf(stdout, "Try it (with `twinme serve` running):\n")
		fmt.Fprintf(stdout, "  curl -s %s/graphql -H 'Authorization: Bearer %s' -H 'Content-Type: application/json' \\\n    -d '{\"query\":\"{ soulSignature { traits { name score confidence } summaries { cluster text } } }\"}'\n", cfg.PublicURL, res.Token)
		return nil
	}
	fmt.Fprintf(stdout, "Live: a new day arrives every %s. In the playground (%s/playground), open the Headers tab and enter\n"+
		"  {\"Authorization\": \"Bearer %s\"}\n(GraphiQL sends these headers as the websocket's connection_init payload), then run\n"+
		"  subscription { insightAdded { key title body } }\nor\n  subscription { soulSignatureUpdated { analyzedAt } }\n\n",
		*every, cfg.PublicURL, res.Token)
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	fed := make(chan error, 1)
	go func() { fed <- demo.Live(feedCtx, deps, res.UserID, *every) }()
	err = a.Serve(ctx, func(addr string) {
		fmt.Fprintf(stdout, "twinme is listening on %s\n  GraphQL:    %s/graphql\n  Playground: %s/playground\n", addr, cfg.PublicURL, cfg.PublicURL)
	})
	stopFeed()
	if ferr := <-fed; err == nil {
		err = ferr
	}
	return err
}
