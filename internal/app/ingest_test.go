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
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
)

func (e *testEnv) postObserver(token, body string) (int, map[string]any) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/observer/events", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func TestObserverEndpoint(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, map[string]string{"TWINME_CORS_ORIGINS": "chrome-extension://abcdefghijklmnop"})
		u, full := e.user("obs@example.com", false)
		ext, _, err := e.app.Auth.CreateAPIToken(context.Background(), u.ID, "extension", []string{auth.ScopeObserverWrite}, nil)
		if err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now().UTC()
		batch := fmt.Sprintf(`{"events":[
			{"clientEventId":"e1","type":"navigation","occurredAt":%q,"url":"https://news.example.com/story/42?utm=x#top"},
			{"clientEventId":"e2","type":"scroll","occurredAt":%q,"data":{"depth_pct":80,"speed":1.5}},
			{"clientEventId":"e3","type":"keylogger","occurredAt":%q}]}`,
			now.Format(time.RFC3339), now.Format(time.RFC3339), now.Format(time.RFC3339))

		if code, _ := e.postObserver("", batch); code != http.StatusUnauthorized {
			t.Fatalf("anonymous: %d", code)
		}
		// Observation is off until the user turns it on.
		code, body := e.postObserver(ext, batch)
		if code != http.StatusForbidden || !strings.Contains(fmt.Sprint(body), "observation") {
			t.Fatalf("observation off: %d %v", code, body)
		}
		if r := e.gql(ext, `mutation { setObservation(enabled: true) { enabled } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("observer token changing settings: %s", r.Raw)
		}
		if r := e.gql(full, `mutation { setObservation(enabled: true) { enabled fullPaths } }`, nil); dig(r.Data, "setObservation", "enabled") != true {
			t.Fatalf("setObservation: %s", r.Raw)
		}
		code, body = e.postObserver(ext, batch)
		rej, _ := body["rejected"].([]any)
		if code != 200 || body["accepted"] != 2.0 || len(rej) != 1 || !strings.Contains(fmt.Sprint(rej[0]), "e3") {
			t.Fatalf("partial acceptance: %d %v", code, body)
		}
		// A retried batch adds nothing.
		if code, body = e.postObserver(ext, batch); code != 200 || body["accepted"] != 2.0 {
			t.Fatalf("retry: %d %v", code, body)
		}
		evs, err := e.app.DB.ListObserverEvents(context.Background(), u.ID, now.Add(-time.Hour), now.Add(time.Hour), 100)
		if err != nil || len(evs) != 2 {
			t.Fatalf("stored %d events (err %v), want 2", len(evs), err)
		}
		for _, ev := range evs {
			if ev.Type == "navigation" && (ev.Domain != "news.example.com" || (ev.URL != nil && *ev.URL != "")) {
				t.Fatalf("navigation kept more than the domain: %+v", ev)
			}
		}
		// The same rules through GraphQL.
		r := e.gql(ext, `mutation($e: [ObserverEventInput!]!) { recordObserverEvents(events: $e) { accepted rejected { index reason } } }`,
			map[string]any{"e": []map[string]any{{"clientEventId": "g1", "type": "focus", "occurredAt": now.Format(time.RFC3339)}, {"clientEventId": "g2", "type": "focus", "occurredAt": now.Add(time.Hour).Format(time.RFC3339)}}})
		if dig(r.Data, "recordObserverEvents", "accepted") != 1.0 {
			t.Fatalf("recordObserverEvents (one from the future): %s", r.Raw)
		}
		// Bad input: malformed JSON, too many events.
		if code, _ := e.postObserver(ext, `{"events":[`); code != http.StatusBadRequest {
			t.Fatalf("malformed JSON: %d", code)
		}
		var many []string
		for i := 0; i < 501; i++ {
			many = append(many, fmt.Sprintf(`{"clientEventId":"m%d","type":"focus","occurredAt":%q}`, i, now.Format(time.RFC3339)))
		}
		if code, body := e.postObserver(ext, `{"events":[`+strings.Join(many, ",")+`]}`); code != http.StatusBadRequest {
			t.Fatalf("501 events: %d %v", code, body)
		}
		// CORS lets the extension call.
		req, _ := http.NewRequest(http.MethodOptions, e.srv.URL+"/api/observer/events", nil)
		req.Header.Set("Origin", "chrome-extension://abcdefghijklmnop")
		req.Header.Set("Access-Control-Request-Method", "POST")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.Header.Get("Access-Control-Allow-Origin") != "chrome-extension://abcdefghijklmnop" {
			t.Fatalf("extension CORS: %v", res.Header)
		}
	})
}

// uploadGraphQL sends importData as a GraphQL multipart request
// (github.com/jaydenseric/graphql-multipart-request-spec).
func (e *testEnv) uploadGraphQL(token, platformEnum, name string, content []byte) gqlResponse {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("operations", fmt.Sprintf(`{"query":"mutation($f: Upload!) { importData(platform: %s, file: $f) { imported duplicate rejected skipped files { name error imported duplicate } ignored } }","variables":{"f":null}}`, platformEnum))
	_ = mw.WriteField("map", `{"0":["variables.f"]}`)
	fw, _ := mw.CreateFormFile("0", name)
	_, _ = fw.Write(content)
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	return e.do(req)
}

func TestImportDataUpload(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, tok := e.user("imp@example.com", false)
		dir := filepath.Join("..", "ingest", "importer", "testdata", "Spotify Extended Streaming History")
		ext, err := os.ReadFile(filepath.Join(dir, "Streaming_History_Audio_2021-2022_0.json"))
		if err != nil {
			t.Fatal(err)
		}
		r := e.uploadGraphQL(tok, "SPOTIFY", "Streaming_History_Audio_2021-2022_0.json", ext)
		imported, _ := dig(r.Data, "importData", "imported").(float64)
		if imported == 0 || len(r.Errors) > 0 {
			t.Fatalf("first import: %s", r.Raw)
		}
		r = e.uploadGraphQL(tok, "SPOTIFY", "Streaming_History_Audio_2021-2022_0.json", ext)
		if dig(r.Data, "importData", "imported") != 0.0 || dig(r.Data, "importData", "duplicate") != imported {
			t.Fatalf("re-import must add nothing: %s", r.Raw)
		}
		// A zip of the same file adds nothing either; the ReadMe is ignored.
		var zbuf bytes.Buffer
		zw := zip.NewWriter(&zbuf)
		w, _ := zw.Create("Spotify Extended Streaming History/Streaming_History_Audio_2021-2022_0.json")
		_, _ = w.Write(ext)
		w, _ = zw.Create("Spotify Extended Streaming History/ReadMeFirst_ExtendedStreamingHistory.pdf")
		_, _ = io.WriteString(w, "%PDF-1.4")
		_ = zw.Close()
		r = e.uploadGraphQL(tok, "SPOTIFY", "my_spotify_data.zip", zbuf.Bytes())
		if dig(r.Data, "importData", "imported") != 0.0 || !strings.Contains(r.Raw, "ReadMeFirst") {
			t.Fatalf("zip import: %s", r.Raw)
		}
		// A file in the wrong format: an error naming it, nothing stored.
		r = e.uploadGraphQL(tok, "SPOTIFY", "Streaming_History_Audio_2023_0.json", []byte(`{"not":"an array"}`))
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Raw, "Streaming_History_Audio_2023_0.json") {
			t.Fatalf("wrong format: %s", r.Raw)
		}
		r = e.gql(tok, `{ platformData(platform: SPOTIFY, first: 2) { edges { node { dataType source payload } } pageInfo { hasNextPage endCursor } } }`, nil)
		edges, _ := dig(r.Data, "platformData", "edges").([]any)
		if len(edges) != 2 || dig(r.Data, "platformData", "pageInfo", "hasNextPage") != true || strings.Contains(r.Raw, "ip_addr") {
			t.Fatalf("platformData: %s", r.Raw)
		}
		_, other := e.user("other@example.com", false)
		if r := e.gql(other, `{ platformData(platform: SPOTIFY) { edges { node { id } } } }`, nil); !strings.Contains(r.Raw, `"edges":[]`) {
			t.Fatalf("another user sees data: %s", r.Raw)
		}
	})
}

func TestSyncNowStoresAndPushesProgress(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.Discord)
		api := platformtest.ServeDiscordAPI(f, 3)
		e := newEnv(t, d, withFake(map[string]string{}, platform.Discord, f))
		_, tok := e.user("sync@example.com", false)
		e.connect(tok, platform.Discord, f)

		ws, _, err := e.dialWS("", "graphql-transport-ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
		readMsg(t, ws)
		_ = ws.WriteJSON(map[string]any{"id": "p", "type": "subscribe", "payload": map[string]any{"query": `subscription { syncProgress(platform: DISCORD) { platform items done failed } }`}})
		waitSubscribers(t, e, 1)

		r := e.gql(tok, `mutation { syncNow(platform: DISCORD) { outcome fetched streams { name fetched } } }`, nil)
		if dig(r.Data, "syncNow", "outcome") != "synced" || dig(r.Data, "syncNow", "fetched") != 3.0 {
			t.Fatalf("syncNow: %s", r.Raw)
		}
		for {
			m := readMsg(t, ws)
			if m.Type != "next" {
				t.Fatalf("syncProgress: %s %s", m.Type, m.Payload)
			}
			if strings.Contains(string(m.Payload), `"done":true`) {
				break
			}
		}
		api.Join(platformtest.DiscordGuildNo(7))
		r = e.gql(tok, `mutation { syncNow(platform: DISCORD) { outcome } }`, nil)
		if dig(r.Data, "syncNow", "outcome") != "synced" {
			t.Fatalf("second sync: %s", r.Raw)
		}
		r = e.gql(tok, `{ platformData(platform: DISCORD) { edges { node { externalId } } } }`, nil)
		if edges, _ := dig(r.Data, "platformData", "edges").([]any); len(edges) != 4 {
			t.Fatalf("after two syncs: %s", r.Raw)
		}
		// The polling job finds nothing due right after a sync.
		r = e.gql(tok, `mutation { syncNow(platform: SPOTIFY) { outcome } }`, nil)
		if r.code() == "" {
			t.Fatalf("sync of a platform never connected: %s", r.Raw)
		}
	})
}
