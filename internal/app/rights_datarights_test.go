package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/store"
)

// download GETs an export download URL (its path and query, against this
// server) and returns the status and body.
func (e *testEnv) download(rawURL string) (int, []byte) {
	e.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		e.t.Fatal(err)
	}
	res, err := http.Get(e.srv.URL + u.RequestURI())
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// uploadArchive sends mutation (importDataExport or importData) with the
// archive as a GraphQL multipart upload.
func (e *testEnv) uploadArchive(token, query, name string, content []byte) gqlResponse {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"f": nil}})
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

// exportNow requests an export as token, writes it and downloads it.
func (e *testEnv) exportNow(token string) (id string, archive []byte, downloadURL string) {
	e.t.Helper()
	r := e.gql(token, `mutation { requestDataExport { export { id status } downloadUrl } }`, nil)
	if len(r.Errors) > 0 {
		e.t.Fatalf("requestDataExport: %s", r.Raw)
	}
	id, _ = dig(r.Data, "requestDataExport", "export", "id").(string)
	downloadURL, _ = dig(r.Data, "requestDataExport", "downloadUrl").(string)
	e.app.Exports.RunPending(context.Background(), true)
	st, body := e.download(downloadURL)
	if st != http.StatusOK {
		e.t.Fatalf("download: %d %s", st, body)
	}
	return id, body, downloadURL
}

// signatureFacts is what must survive export → import → analysis.
const signatureFacts = `{
  insights(first: 100) { edges { node { key cluster subcluster title body confidence sensitivity source evidence { label value weight } } } }
  soulSignature { analyzed traits { name score confidence } summaries { cluster text } }
  privacy { clusters { cluster level overrides { audience level } } }
  retention { platform days }
  me { timeZone }
}`

func facts(t *testing.T, e *testEnv, token string) string {
	t.Helper()
	r := e.gql(token, signatureFacts, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("facts: %s", r.Raw)
	}
	edges, _ := dig(r.Data, "insights", "edges").([]any)
	sort.Slice(edges, func(i, j int) bool {
		return fmt.Sprint(dig(edges[i].(map[string]any), "node", "key")) < fmt.Sprint(dig(edges[j].(map[string]any), "node", "key"))
	})
	b, _ := json.MarshalIndent(r.Data, "", " ")
	return string(b)
}

// TestExportImportSameSignature exports a demo user from instance A,
// imports the archive into a fresh instance B, analyses it there and gets
// the same insights, traits, privacy settings and retention choices.
func TestExportImportSameSignature(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		a := newEnv(t, d, nil)
		seeded, err := demo.SeedUser(ctx, demo.Deps{DB: a.app.DB, Auth: a.app.Auth, Ingest: a.app.Ingest, Soul: a.app.Soul, Clock: a.clock, Logger: logx.Discard(), Every: 12}, "sam@a.example")
		if err != nil {
			t.Fatal(err)
		}
		tokA := seeded.Token
		for _, m := range []string{
			`mutation { setClusterPrivacy(cluster: PERSONAL, level: 20) { clusters { level } } }`,
			`mutation { setClusterPrivacy(cluster: CREATIVE, level: 90, audience: FRIENDS) { clusters { level } } }`,
			`mutation { setRetention(platform: GITHUB, days: 3650) { days } }`,
			`mutation { updateProfile(input: {timeZone: "Australia/Sydney"}) { timeZone } }`,
			`mutation { requestAnalysis { insightsStored } }`,
		} {
			if r := e2(a, tokA, m); len(r.Errors) > 0 {
				t.Fatalf("%s: %s", m, r.Raw)
			}
		}
		want := facts(t, a, tokA)
		if !strings.Contains(want, `"key"`) || !strings.Contains(want, `"openness"`) {
			t.Fatalf("the demo user has no signature to compare: %s", want)
		}

		_, archive, url := a.exportNow(tokA)
		if st, body := a.download(url); st != http.StatusNotFound || !strings.Contains(string(body), "NOT_FOUND") {
			t.Fatalf("second download: %d %s", st, body)
		}
		r := a.gql(tokA, `{ dataExports { status progress itemsDone itemsTotal sizeBytes downloadedAt } }`, nil)
		if dig(r.Data, "dataExports") == nil || !strings.Contains(r.Raw, `"status":"DOWNLOADED"`) || !strings.Contains(r.Raw, `"progress":1`) {
			t.Fatalf("dataExports after download: %s", r.Raw)
		}
		if entries, _ := os.ReadDir(a.app.Exports.Dir()); len(entries) != 0 {
			t.Fatalf("the archive file outlived its download: %v", entries)
		}

		b := newEnv(t, d, nil)
		_, tokB := b.user("sam@b.example", false)
		imp := b.uploadArchive(tokB, `mutation($f: Upload!) { importDataExport(file: $f) { imported duplicate files { name records imported duplicate skipped } } }`, "twinme.zip", archive)
		if len(imp.Errors) > 0 || dig(imp.Data, "importDataExport", "imported") == float64(0) {
			t.Fatalf("import: %s", imp.Raw)
		}
		b.clock.Advance(time.Minute) // past the credential cache, so me reads the imported profile
		if r := b.gql(tokB, `mutation { requestAnalysis { insightsStored } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("analysis on B: %s", r.Raw)
		}
		if got := facts(t, b, tokB); got != want {
			t.Fatalf("signature after export → import → analysis differs\nA: %s\nB: %s", want, got)
		}

		// Importing the same archive again (importData takes it too) adds nothing.
		again := b.uploadArchive(tokB, `mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported duplicate files { name format } } }`, "twinme.zip", archive)
		if len(again.Errors) > 0 || !strings.Contains(again.Raw, `"format":"twinme-export"`) {
			t.Fatalf("importData with an archive: %s", again.Raw)
		}
		if r := b.gql(tokB, `{ platformData(platform: SPOTIFY, first: 1) { edges { node { id } } } }`, nil); len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		var before, after int
		_ = b.app.DB.NewSelect().TableExpr("user_platform_data").ColumnExpr("COUNT(*)").Scan(ctx, &before)
		b.uploadArchive(tokB, `mutation($f: Upload!) { importDataExport(file: $f) { imported } }`, "twinme.zip", archive)
		_ = b.app.DB.NewSelect().TableExpr("user_platform_data").ColumnExpr("COUNT(*)").Scan(ctx, &after)
		if before != after || before == 0 {
			t.Fatalf("re-import changed the item count: %d → %d", before, after)
		}
	})
}

func e2(e *testEnv, token, q string) gqlResponse { return e.gql(token, q, nil) }

// TestExportOfEmptyUserAndBadDownloads: an export of a user with nothing
// stored is a valid archive with the README and empty files; a second
// request while one runs returns it; used, expired and other exports'
// tokens are 404 with the same body.
func TestExportOfEmptyUserAndBadDownloads(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		e := newEnv(t, d, nil)
		_, tok := e.user("empty@example.com", false)
		_, other := e.user("other@example.com", false)

		r1 := e.gql(tok, `mutation { requestDataExport { export { id status } downloadUrl } }`, nil)
		r2 := e.gql(tok, `mutation { requestDataExport { export { id status } downloadUrl } }`, nil)
		id1 := dig(r1.Data, "requestDataExport", "export", "id")
		if id1 == nil || id1 != dig(r2.Data, "requestDataExport", "export", "id") {
			t.Fatalf("a second request while one is pending must return it: %s / %s", r1.Raw, r2.Raw)
		}
		url1, _ := dig(r1.Data, "requestDataExport", "downloadUrl").(string)
		url2, _ := dig(r2.Data, "requestDataExport", "downloadUrl").(string)
		if st, body := e.download(url2); st != http.StatusConflict {
			t.Fatalf("download before ready: %d %s", st, body)
		}
		e.app.Exports.RunPending(ctx, true)
		// The first URL was replaced by the second request.
		st1, body1 := e.download(url1)
		if st1 != http.StatusNotFound {
			t.Fatalf("replaced token: %d %s", st1, body1)
		}
		// Another export's token on this export's id.
		ro := e.gql(other, `mutation { requestDataExport { export { id } downloadUrl } }`, nil)
		otherURL, _ := dig(ro.Data, "requestDataExport", "downloadUrl").(string)
		e.app.Exports.RunPending(ctx, true)
		ou, _ := url.Parse(otherURL)
		mixed := strings.Replace(url2, "/api/exports/"+id1.(string), "/api/exports/"+strings.TrimPrefix(ou.Path, "/api/exports/"), 1)
		if st, body := e.download(mixed); st != http.StatusNotFound || string(body) != string(body1) {
			t.Fatalf("another export's token: %d %s", st, body)
		}
		// The other user cannot see this export either.
		if r := e.gql(other, `{ dataExports { id } }`, nil); strings.Contains(r.Raw, id1.(string)) {
			t.Fatalf("another user's export listed: %s", r.Raw)
		}

		st, archive := e.download(url2)
		if st != http.StatusOK {
			t.Fatalf("download: %d %s", st, archive)
		}
		zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
		if err != nil {
			t.Fatal(err)
		}
		names := map[string]string{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			b, _ := io.ReadAll(rc)
			rc.Close()
			names[f.Name] = string(b)
		}
		for _, n := range []string{"README.txt", "manifest.json", "profile.json", "connections.json", "observer_events.jsonl", "insights.jsonl",
			"signature.json", "privacy_settings.json", "retention.json", "share_links.json", "twin_conversations.jsonl", "access_log.jsonl"} {
			if _, ok := names[n]; !ok {
				t.Errorf("empty export lacks %s (has %v)", n, keys(names))
			}
		}
		if names["observer_events.jsonl"] != "" || names["insights.jsonl"] != "" || strings.TrimSpace(names["connections.json"]) != "[]" || strings.TrimSpace(names["signature.json"]) != "null" {
			t.Errorf("empty user's files are not empty: %q %q %q", names["observer_events.jsonl"], names["connections.json"], names["signature.json"])
		}
		if !strings.Contains(names["profile.json"], "empty@example.com") || !strings.Contains(names["README.txt"], "profile.json") {
			t.Errorf("profile or README: %s %s", names["profile.json"], names["README.txt"])
		}

		// The other user's export expires unread: 24 h later the link is
		// dead and the maintenance job deletes the file.
		e.clock.Advance(25 * time.Hour)
		if st, _ := e.download(otherURL); st != http.StatusNotFound {
			t.Fatalf("expired link: %d", st)
		}
		if n, err := e.app.Exports.Maintain(ctx); err != nil || n != 1 {
			t.Fatalf("maintain: %d %v", n, err)
		}
		if entries, _ := os.ReadDir(e.app.Exports.Dir()); len(entries) != 0 {
			t.Fatalf("expired archive not deleted: %v", entries)
		}
	})
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestTamperedArchiveRefused: an archive whose file was changed (checksum),
// extended with a file, or whose record is malformed is refused with the
// file name and the reason, and nothing of it is stored.
func TestTamperedArchiveRefused(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		a := newEnv(t, d, nil)
		seeded, err := demo.SeedUser(ctx, demo.Deps{DB: a.app.DB, Auth: a.app.Auth, Ingest: a.app.Ingest, Soul: a.app.Soul, Clock: a.clock, Logger: logx.Discard(), Every: 40}, "t@a.example")
		if err != nil {
			t.Fatal(err)
		}
		_, archive, _ := a.exportNow(seeded.Token)

		b := newEnv(t, d, nil)
		_, tokB := b.user("t@b.example", false)
		tablesOfB := []string{"user_platform_data", "soul_observer_events", "privacy_settings", "data_retention", "twin_conversations", "users"}
		rowsBefore := map[string]int64{}
		for _, table := range tablesOfB {
			n, err := b.app.DB.NewSelect().TableExpr(table).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rowsBefore[table] = n
		}
		cases := []struct {
			name, file, reason string
			edit               func(name string, content []byte) (string, []byte, bool)
		}{
			{"changed payload", "platforms/spotify/play.jsonl", "SHA-256", func(n string, c []byte) (string, []byte, bool) {
				if n == "platforms/spotify/play.jsonl" {
					// Same size, one digit of a play's duration changed.
					i := bytes.Index(c, []byte(`"ms_played":`)) + len(`"ms_played":`)
					c = bytes.Clone(c)
					c[i] = '0' + (c[i]-'0'+1)%10
				}
				return n, c, true
			}},
			{"added file", "platforms/spotify/extra.jsonl", "not listed", func(n string, c []byte) (string, []byte, bool) {
				if n == "README.txt" {
					return "platforms/spotify/extra.jsonl", []byte("{}\n"), true
				}
				return n, c, true
			}},
			{"dropped file", "observer_events.jsonl", "missing", func(n string, c []byte) (string, []byte, bool) {
				return n, c, n != "observer_events.jsonl"
			}},
		}
		for _, tc := range cases {
			bad := rewriteZip(t, archive, tc.edit)
			r := b.uploadArchive(tokB, `mutation($f: Upload!) { importDataExport(file: $f) { imported } }`, "bad.zip", bad)
			if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Raw, tc.file) || !strings.Contains(r.Raw, tc.reason) {
				t.Errorf("%s: want BAD_USER_INPUT naming %s (%s), got %s", tc.name, tc.file, tc.reason, r.Raw)
			}
		}
		// Not an archive at all.
		if r := b.uploadArchive(tokB, `mutation($f: Upload!) { importDataExport(file: $f) { imported } }`, "x.zip", []byte("not a zip")); r.code() != "BAD_USER_INPUT" {
			t.Errorf("garbage: %s", r.Raw)
		}
		for _, table := range tablesOfB {
			n, err := b.app.DB.NewSelect().TableExpr(table).Count(ctx)
			if err != nil || n != rowsBefore[table] {
				t.Errorf("%s holds %d rows after refused imports, %d before (%v)", table, n, rowsBefore[table], err)
			}
		}
	})
}

// rewriteZip copies a zip through edit (new name, content, keep).
func rewriteZip(t *testing.T, src []byte, edit func(string, []byte) (string, []byte, bool)) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		name, content, keep := edit(f.Name, b)
		if !keep {
			continue
		}
		w, _ := zw.Create(name)
		_, _ = w.Write(content)
	}
	_ = zw.Close()
	return out.Bytes()
}
