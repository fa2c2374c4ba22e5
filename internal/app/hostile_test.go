package app_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/testutil"
)

// newLoggedEnv is newEnv with the server's log captured as JSON at debug
// level (everything it would ever write).
func newLoggedEnv(t testing.TB, d store.Dialect, env map[string]string) (*testEnv, *testutil.SyncBuffer) {
	t.Helper()
	logs := &testutil.SyncBuffer{}
	return startEnv(t, d, env, logx.New(logs, "json", "debug")), logs
}

// errorLines returns the log lines at ERROR level.
func errorLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) {
			out = append(out, l)
		}
	}
	return out
}

type badRequest struct {
	name        string
	method      string
	path        string // default /graphql
	contentType string // default application/json
	body        string
	anonymous   bool
	header      map[string]string
	wantStatus  int
	wantCode    string
	wantField   string
}

func gqlBody(query string, vars map[string]any) string {
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return string(b)
}

func multipartBody(parts ...[2]string) (string, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		if strings.HasPrefix(p[0], "file:") {
			fw, _ := mw.CreateFormFile(strings.TrimPrefix(p[0], "file:"), "x.json")
			_, _ = io.WriteString(fw, p[1])
			continue
		}
		_ = mw.WriteField(p[0], p[1])
	}
	_ = mw.Close()
	return buf.String(), mw.FormDataContentType()
}

// malformedRequests is the table of client mistakes: each has its status and
// extensions.code, and none may be logged at ERROR.
func malformedRequests() []badRequest {
	sha := func(s string) string { h := sha256.Sum256([]byte(s)); return hex.EncodeToString(h[:]) }
	mpNoOps, ctNoOps := multipartBody([2]string{"map", `{}`})
	mpBadOps, ctBadOps := multipartBody([2]string{"operations", `{"query":`}, [2]string{"map", `{}`})
	mpNoMap, ctNoMap := multipartBody([2]string{"operations", `{"query":"mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported } }","variables":{"f":null}}`})
	mpBadMap, ctBadMap := multipartBody([2]string{"operations", `{"query":"mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported } }","variables":{"f":null}}`}, [2]string{"map", `[1,2]`})
	mpBadPath, ctBadPath := multipartBody([2]string{"operations", `{"query":"mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported } }","variables":{"f":null}}`}, [2]string{"map", `{"0":["variables.nope"]}`}, [2]string{"file:0", "[]"})
	mpNoFile, ctNoFile := multipartBody([2]string{"operations", `{"query":"mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported } }","variables":{"f":null}}`}, [2]string{"map", `{}`})
	apqQuery := `{ me { id } }`
	return []badRequest{
		// Bodies that are not a GraphQL request.
		{name: "truncated JSON", body: `{"query":`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "empty body", body: ``, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "JSON array", body: `[]`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "batched array", body: `[{"query":"{ me { id } }"}]`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "JSON string", body: `"{ me { id } }"`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "JSON number", body: `42`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "JSON null", body: `null`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "query is a number", body: `{"query":1}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "variables is an array", body: `{"query":"{ me { id } }","variables":[]}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "variables is a string", body: `{"query":"{ me { id } }","variables":"x"}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "operationName is a number", body: `{"query":"{ me { id } }","operationName":5}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "extensions is a string", body: `{"query":"{ me { id } }","extensions":"x"}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "trailing garbage", body: `{"query":"{ me { id } }"} trailing`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "two objects", body: `{"query":"{ me { id } }"}{"query":"{ me { id } }"}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "invalid UTF-8", body: "{\"query\":\"{ me { id } }\",\"variables\":{\"a\":\"\xff\"}}", wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "unquoted key", body: `{query:"{ me { id } }"}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "body over the limit", body: `{"query":"{ me { id } }","variables":{"pad":"` + strings.Repeat("x", 2<<20) + `"}}`, wantStatus: 413, wantCode: "BAD_USER_INPUT"},
		// Transports.
		{name: "PUT", method: http.MethodPut, body: gqlBody(`{ me { id } }`, nil), wantStatus: 405, wantCode: "BAD_REQUEST"},
		{name: "DELETE", method: http.MethodDelete, wantStatus: 405, wantCode: "BAD_REQUEST"},
		{name: "PATCH", method: http.MethodPatch, body: gqlBody(`{ me { id } }`, nil), wantStatus: 405, wantCode: "BAD_REQUEST"},
		{name: "text/plain", contentType: "text/plain", body: gqlBody(`{ me { id } }`, nil), wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "no content type", contentType: "-", body: gqlBody(`{ me { id } }`, nil), wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "form urlencoded", contentType: "application/x-www-form-urlencoded", body: "query=%7B+me+%7B+id+%7D+%7D", wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "application/graphql", contentType: "application/graphql", body: `{ me { id } }`, wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "application/xml", contentType: "application/xml", body: `<q/>`, wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "unparsable content type", contentType: "application/json; charset", body: gqlBody(`{ me { id } }`, nil), wantStatus: 415, wantCode: "BAD_REQUEST"},
		{name: "GET without query", method: http.MethodGet, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "GET variables not JSON", method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(`query($p: Platform!) { platformData(platform: $p) { edges { cursor } } }`) + "&variables=nope", wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "GET extensions not JSON", method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(`{ me { id } }`) + "&extensions=nope", wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "GET bad escape", method: http.MethodGet, path: "/graphql?query=%zz", wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "GET mutation", method: http.MethodGet, path: "/graphql?query=" + url.QueryEscape(`mutation { logout }`), wantStatus: 405, wantCode: "BAD_USER_INPUT"},
		{name: "multipart without operations", contentType: ctNoOps, body: mpNoOps, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "multipart operations not JSON", contentType: ctBadOps, body: mpBadOps, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "multipart without map", contentType: ctNoMap, body: mpNoMap, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "multipart map not an object", contentType: ctBadMap, body: mpBadMap, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "multipart map to a missing path", contentType: ctBadPath, body: mpBadPath, wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "f"},
		{name: "multipart without boundary", contentType: "multipart/form-data", body: "x", wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "upload variable left null", contentType: ctNoFile, body: mpNoFile, wantStatus: 200, wantCode: "BAD_USER_INPUT"},
		// Documents.
		{name: "syntax error", body: gqlBody(`{ me {`, nil), wantStatus: 422, wantCode: "GRAPHQL_PARSE_FAILED"},
		{name: "empty query", body: `{"query":""}`, wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown field", body: gqlBody(`{ nope }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown operation name", body: `{"query":"query A { me { id } }","operationName":"B"}`, wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "two anonymous operations", body: gqlBody(`{ me { id } } { me { email } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "missing required argument", body: gqlBody(`{ platformData { edges { cursor } } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "argument of the wrong type", body: gqlBody(`{ platformData(platform: 5) { edges { cursor } } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "lowercase enum literal", body: gqlBody(`{ platformData(platform: spotify) { edges { cursor } } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "unknown argument", body: gqlBody(`{ me(x: 1) { id } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "leaf without selection", body: gqlBody(`{ me }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "undeclared variable", body: gqlBody(`{ platformData(platform: $p) { edges { cursor } } }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		{name: "deep nonsense fragment cycle", body: gqlBody(`query { me { ...A } } fragment A on User { ...B } fragment B on User { ...A }`, nil), wantStatus: 422, wantCode: "GRAPHQL_VALIDATION_FAILED"},
		// Variables and arguments.
		{name: "lowercase enum variable", body: gqlBody(`query($p: Platform!) { platformData(platform: $p) { edges { cursor } } }`, map[string]any{"p": "spotify"}), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "platform"},
		{name: "missing variable", body: gqlBody(`query($p: Platform!) { platformData(platform: $p) { edges { cursor } } }`, nil), wantStatus: 422, wantCode: "BAD_USER_INPUT", wantField: "p"},
		{name: "null for a non-null variable", body: gqlBody(`query($p: Platform!) { platformData(platform: $p) { edges { cursor } } }`, map[string]any{"p": nil}), wantStatus: 422, wantCode: "BAD_USER_INPUT", wantField: "p"},
		{name: "string for an Int variable", body: gqlBody(`query($n: Int) { platformData(platform: SPOTIFY, first: $n) { edges { cursor } } }`, map[string]any{"n": "ten"}), wantStatus: 422, wantCode: "BAD_USER_INPUT", wantField: "n"},
		{name: "fraction for an Int variable", body: gqlBody(`query($n: Int) { platformData(platform: SPOTIFY, first: $n) { edges { cursor } } }`, map[string]any{"n": 1.5}), wantStatus: 422, wantCode: "BAD_USER_INPUT", wantField: "n"},
		{name: "bad Time literal", body: gqlBody(`mutation { createApiToken(name: "t", scopes: [FULL], expiresAt: "yesterday") { token } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "expiresAt"},
		{name: "bad Time variable", body: gqlBody(`mutation($e: Time) { createApiToken(name: "t", scopes: [FULL], expiresAt: $e) { token } }`, map[string]any{"e": "2026-13-45"}), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "expiresAt"},
		{name: "NUL in a string literal", body: gqlBody(`mutation { updateProfile(input: {name: "a\u0000b"}) { id } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "name"},
		{name: "NUL in a string variable", body: gqlBody(`mutation($n: String) { updateProfile(input: {name: $n}) { id } }`, map[string]any{"n": "a\x00b"}), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "name"},
		{name: "NUL in an ID", body: gqlBody(`mutation { revokeApiToken(id: "\u0000") { id } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "id"},
		{name: "NUL in a token name", body: gqlBody(`mutation($n: String!) { createApiToken(name: $n, scopes: [FULL]) { token } }`, map[string]any{"n": "\x00"}), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "name"},
		{name: "NUL in JSON data", body: gqlBody(`mutation($e: [ObserverEventInput!]!) { recordObserverEvents(events: $e) { accepted } }`, map[string]any{"e": []any{map[string]any{"clientEventId": "c1", "type": "focus", "occurredAt": "2026-11-01T11:00:00Z", "data": map[string]any{"k": "\x00"}}}}), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "data"},
		{name: "negative page size", body: gqlBody(`{ platformData(platform: SPOTIFY, first: -1) { edges { cursor } } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "first"},
		{name: "huge page size", body: gqlBody(`{ platformData(platform: SPOTIFY, first: 100000) { edges { cursor } } }`, nil), wantStatus: 200, wantCode: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "garbage cursor", body: gqlBody(`{ platformData(platform: SPOTIFY, after: "not-a-cursor") { edges { cursor } } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "after"},
		{name: "garbage insights cursor", body: gqlBody(`{ insights(after: "%%%") { edges { cursor } } }`, nil), wantStatus: 200, wantCode: "BAD_USER_INPUT", wantField: "after"},
		{name: "APQ hash mismatch", body: `{"query":"` + apqQuery + `","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + sha("other") + `"}}}`, wantStatus: 200, wantCode: "BAD_USER_INPUT"},
		{name: "APQ unknown hash", body: `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + sha("unknown") + `"}}}`, wantStatus: 200, wantCode: "PERSISTED_QUERY_NOT_FOUND"},
		{name: "APQ extension not an object", body: `{"query":"{ me { id } }","extensions":{"persistedQuery":"x"}}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "too complex", body: gqlBody(`{ a: platformData(platform: SPOTIFY, first: 200) { edges { node { payload } } } b: platformData(platform: SPOTIFY, first: 200) { edges { node { payload } } } c: platformData(platform: SPOTIFY, first: 200) { edges { node { payload } } } }`, nil), wantStatus: 200, wantCode: "COMPLEXITY_LIMIT_EXCEEDED"},
		{name: "subscription over POST", body: gqlBody(`subscription { insightAdded { title } }`, nil), wantStatus: 422, wantCode: "BAD_REQUEST"},
		// Authentication.
		{name: "anonymous me", anonymous: true, body: gqlBody(`{ me { id } }`, nil), wantStatus: 200, wantCode: "UNAUTHENTICATED"},
		{name: "unknown bearer token", anonymous: true, header: map[string]string{"Authorization": "Bearer nope"}, body: gqlBody(`{ me { id } }`, nil), wantStatus: 401, wantCode: "UNAUTHENTICATED"},
		{name: "basic auth", anonymous: true, header: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, body: gqlBody(`{ me { id } }`, nil), wantStatus: 401, wantCode: "UNAUTHENTICATED"},
		// Other routes.
		{name: "observer body not JSON", path: "/api/observer/events", body: `events`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "observer events not a list", path: "/api/observer/events", body: `{"events":"x"}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "observer trailing data", path: "/api/observer/events", body: `{"events":[]} {}`, wantStatus: 400, wantCode: "BAD_REQUEST"},
		{name: "observer multipart over 1 MiB", path: "/api/observer/events", contentType: "multipart/form-data; boundary=x", body: strings.Repeat("x", 2<<20), wantStatus: 413, wantCode: "BAD_USER_INPUT"},
		{name: "observer anonymous", path: "/api/observer/events", anonymous: true, body: `{"events":[]}`, wantStatus: 401, wantCode: "UNAUTHENTICATED"},
		{name: "unknown route", path: "/nope", method: http.MethodGet, wantStatus: 404, wantCode: "NOT_FOUND"},
	}
}

func (e *testEnv) send(c badRequest, token string) (int, map[string]any, string) {
	e.t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	path := c.path
	if path == "" {
		path = "/graphql"
	}
	var body io.Reader
	if c.body != "" {
		body = strings.NewReader(c.body)
	}
	req, _ := http.NewRequest(method, e.srv.URL+path, body)
	switch c.contentType {
	case "":
		if method != http.MethodGet {
			req.Header.Set("Content-Type", "application/json")
		}
	case "-":
	default:
		req.Header.Set("Content-Type", c.contentType)
	}
	if !c.anonymous {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		e.t.Fatalf("%s: %v", c.name, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res.StatusCode, out, string(raw)
}

func firstError(out map[string]any) (code, field string) {
	errs, _ := out["errors"].([]any)
	if len(errs) == 0 {
		return "", ""
	}
	first, _ := errs[0].(map[string]any)
	ext, _ := first["extensions"].(map[string]any)
	code, _ = ext["code"].(string)
	field, _ = ext["field"].(string)
	return code, field
}

// Finding 6: every client mistake gets its status and code, and nothing at
// ERROR in the log.
func TestMalformedRequestsAreCodedAndNotLoggedAsErrors(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e, logs := newLoggedEnv(t, d, map[string]string{"TWINME_MAX_QUERY_COMPLEXITY": "1000"})
		_, tok := e.user("mallory@example.com", false)
		cases := malformedRequests()
		if len(cases) < 60 {
			t.Fatalf("only %d cases", len(cases))
		}
		for _, c := range cases {
			before := len(logs.String())
			status, out, raw := e.send(c, tok)
			code, field := firstError(out)
			if status != c.wantStatus || code != c.wantCode || (c.wantField != "" && field != c.wantField) {
				t.Errorf("%s: got %d %s field %q, want %d %s field %q: %.300s", c.name, status, code, field, c.wantStatus, c.wantCode, c.wantField, raw)
			}
			if errs := errorLines(logs.String()[before:]); len(errs) > 0 {
				t.Errorf("%s: logged at ERROR: %s", c.name, strings.Join(errs, "\n"))
			}
		}
		wsCases := []struct {
			name     string
			msg      any
			wantCode string
		}{
			{"ws syntax error", map[string]any{"query": `subscription { insightAdded {`}, "GRAPHQL_PARSE_FAILED"},
			{"ws unknown field", map[string]any{"query": `subscription { nope }`}, "GRAPHQL_VALIDATION_FAILED"},
			{"ws lowercase enum variable", map[string]any{"query": `subscription($p: Platform) { syncProgress(platform: $p) { items } }`, "variables": map[string]any{"p": "discord"}}, "BAD_USER_INPUT"},
			{"ws NUL in a variable", map[string]any{"query": `subscription($c: ID!) { twinReply(conversationId: $c) { text } }`, "variables": map[string]any{"c": "\x00"}}, "BAD_USER_INPUT"},
			{"ws variables not an object", map[string]any{"query": `subscription { insightAdded { title } }`, "variables": "x"}, "BAD_REQUEST"},
			{"ws query not a string", map[string]any{"query": 5}, "BAD_REQUEST"},
		}
		for _, c := range wsCases {
			before := len(logs.String())
			ws, _, err := e.dialWS("", "graphql-transport-ws")
			if err != nil {
				t.Fatal(err)
			}
			_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
			if m := readMsg(t, ws); m.Type != "connection_ack" {
				t.Fatalf("%s: init: %s", c.name, m.Type)
			}
			_ = ws.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": c.msg})
			got := wsErrorCode(t, ws)
			if got != c.wantCode {
				t.Errorf("%s: code %q, want %q", c.name, got, c.wantCode)
			}
			ws.Close()
			if errs := errorLines(logs.String()[before:]); len(errs) > 0 {
				t.Errorf("%s: logged at ERROR: %s", c.name, strings.Join(errs, "\n"))
			}
		}
		// A frame that is not a protocol message closes the socket (gqlgen's
		// transport decides the close code), and nothing is logged at ERROR.
		for name, frame := range map[string]string{"ws not JSON": `{"type":`, "ws unknown type": `{"type":"nope"}`, "ws binary garbage": "\x00\xff"} {
			before := len(logs.String())
			ws, _, err := e.dialWS("", "graphql-transport-ws")
			if err != nil {
				t.Fatal(err)
			}
			_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
			readMsg(t, ws)
			_ = ws.WriteMessage(websocket.TextMessage, []byte(frame))
			_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
			var ce *websocket.CloseError
			for {
				_, _, err := ws.ReadMessage()
				if err != nil {
					if !asCloseError(err, &ce) {
						t.Errorf("%s: ended with %v, want a close frame", name, err)
					}
					break
				}
			}
			ws.Close()
			if errs := errorLines(logs.String()[before:]); len(errs) > 0 {
				t.Errorf("%s: logged at ERROR: %s", name, strings.Join(errs, "\n"))
			}
		}
	})
}

// wsErrorCode reads until the subscription's error and returns its code.
func wsErrorCode(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	for {
		m := readMsg(t, ws)
		switch m.Type {
		case "error":
			var errs []struct {
				Extensions map[string]any `json:"extensions"`
			}
			_ = json.Unmarshal(m.Payload, &errs)
			if len(errs) == 0 {
				return "(none) " + string(m.Payload)
			}
			c, _ := errs[0].Extensions["code"].(string)
			return c
		case "next":
			var p struct {
				Errors []struct {
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			_ = json.Unmarshal(m.Payload, &p)
			if len(p.Errors) > 0 {
				c, _ := p.Errors[0].Extensions["code"].(string)
				return c
			}
		case "complete":
			return "(complete)"
		default:
			return fmt.Sprintf("(%s %s)", m.Type, m.Payload)
		}
	}
}

// Finding 3: importData answers per file. A zip with new plays and one
// truncated file used to answer data:null although the plays were stored.
func TestImportDataAnswersPerFile(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, tok := e.user("perfile@example.com", false)
		var plays []string
		for i := 0; i < 300; i++ {
			plays = append(plays, fmt.Sprintf(`{"endTime":"2021-03-04 %02d:%02d","artistName":"A","trackName":"T%d","msPlayed":1000}`, i/60, i%60, i))
		}
		z := zipBytes(t, map[string]string{
			"MyData/StreamingHistory_music_0.json": "[" + strings.Join(plays, ",") + "]",
			"MyData/StreamingHistory_music_1.json": `[{"endTime":"2021-03-05 10:00","artistName":"B","trackName":"U","msPlayed":1000},{"endTi`,
		})
		r := e.uploadGraphQLQuery(tok, `mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported files { name imported error errorCode } } }`, "my_spotify_data.zip", z)
		if len(r.Errors) != 0 || dig(r.Data, "importData", "imported") != 300.0 {
			t.Fatalf("answer: %s", r.Raw)
		}
		files, _ := dig(r.Data, "importData", "files").([]any)
		if len(files) != 2 {
			t.Fatalf("files: %s", r.Raw)
		}
		bad := files[0].(map[string]any)
		if !strings.HasSuffix(fmt.Sprint(bad["name"]), "_1.json") {
			bad = files[1].(map[string]any)
		}
		if bad["errorCode"] != "BAD_USER_INPUT" || !strings.Contains(fmt.Sprint(bad["error"]), "truncated") || bad["imported"] != 0.0 {
			t.Fatalf("truncated file: %s", r.Raw)
		}
		// What was stored is exactly what was reported.
		r = e.gql(tok, `{ platformData(platform: SPOTIFY, first: 200) { edges { cursor } pageInfo { hasNextPage endCursor } } }`, nil)
		n := len(dig(r.Data, "platformData", "edges").([]any))
		after := dig(r.Data, "platformData", "pageInfo", "endCursor")
		r = e.gql(tok, `query($a: String) { platformData(platform: SPOTIFY, first: 200, after: $a) { edges { cursor } } }`, map[string]any{"a": after})
		n += len(dig(r.Data, "platformData", "edges").([]any))
		if n != 300 {
			t.Fatalf("stored %d rows, reported 300", n)
		}
		// An archive with nothing for the platform: BAD_USER_INPUT listing it.
		z = zipBytes(t, map[string]string{"Takeout/YouTube/history/watch-history.json": "[]", "Takeout/index.html": "<html>"})
		r = e.uploadGraphQLQuery(tok, `mutation($f: Upload!) { importData(platform: SPOTIFY, file: $f) { imported } }`, "takeout.zip", z)
		if r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Raw, "watch-history.json") || !strings.Contains(r.Raw, "index.html") {
			t.Fatalf("nothing for the platform: %s", r.Raw)
		}
	})
}

func zipBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(w, content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func (e *testEnv) uploadGraphQLQuery(token, query, name string, content []byte) gqlResponse {
	e.t.Helper()
	ops, _ := json.Marshal(map[string]any{"query": query, "variables": map[string]any{"f": nil}})
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
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

// Finding 4: the observer's 1 MiB holds whatever the content type (a
// multipart body used to get the 512 MiB upload bound).
func TestObserverBodyLimitWhateverTheContentType(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	_, tok := e.user("obs@example.com", false)
	for _, ct := range []string{"multipart/form-data; boundary=x", "application/json", "text/plain", ""} {
		for _, chunked := range []bool{false, true} {
			var body io.Reader = bytes.NewReader(bytes.Repeat([]byte("x"), 3<<20))
			if chunked {
				body = io.MultiReader(body)
			}
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/observer/events", body)
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			if r := e.do(req); r.Status != http.StatusRequestEntityTooLarge {
				t.Fatalf("%q chunked=%v: %d %s", ct, chunked, r.Status, r.Raw)
			}
		}
	}
}

// Finding 7: secrets sent in every place a client can put them never reach
// the log, at any level, whatever the outcome of the request.
func TestSecretsNeverReachTheLog(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e, logs := newLoggedEnv(t, d, nil)
		_, tok := e.user("secretive@example.com", false)
		const secret = "S3CR3T-hunter2-Zq9"
		bodies := []string{
			// a password-like variable, a share token, a literal: valid, invalid, malformed
			gqlBody(`query($pw: String) { sharedTwin(token: $pw) { missing } }`, map[string]any{"pw": secret}),
			gqlBody(`{ sharedTwin(token: "`+secret+`") { missing } }`, nil),
			gqlBody(`mutation { updateProfile(input: {name: "`+secret+`\u0000"}) { id } }`, nil),
			gqlBody(`mutation($n: String!) { createApiToken(name: $n, scopes: [FULL]) { token } }`, map[string]any{"n": secret}),
			gqlBody(`{ me { `+secret+` } }`, nil),
			gqlBody(`{ me { id `, map[string]any{"x": secret}),
			`{"query":"{ me { id } }","variables":{"pw":"` + secret + `"}} trailing`,
			`{"query":"` + secret,
			`{"query":"{ me { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"` + secret + `"}}}`,
			`{"query":"{ me { id } }","operationName":"` + secret + `"}`,
			`{"query":"{ me { id } }","variables":{"big":"` + strings.Repeat(secret, 100000) + `"}}`,
		}
		for _, b := range bodies {
			req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql?token="+secret, strings.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("X-Api-Key", secret)
			req.AddCookie(&http.Cookie{Name: "twinme_session", Value: secret})
			e.do(req)
		}
		// Over GET, in the URL; a bad bearer token; the observer; a websocket.
		e.do(mustReq(http.NewRequest(http.MethodGet, e.srv.URL+"/graphql?query="+url.QueryEscape(`{ sharedTwin(token: "`+secret+`") { missing } }`)+"&variables="+url.QueryEscape(`{"s":"`+secret+`"}`), nil)))
		bad, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(gqlBody(`{ me { id } }`, nil)))
		bad.Header.Set("Content-Type", "application/json")
		bad.Header.Set("Authorization", "Bearer "+secret)
		e.do(bad)
		e.postObserver(tok, `{"events":[{"clientEventId":"`+secret+`","type":"`+secret+`","occurredAt":"x","url":"https://example.com/?pw=`+secret+`","data":{"pw":"`+secret+`"}}]}`)
		e.postObserver(tok, `{"events":"`+secret)
		ws, _, err := e.dialWS("", "graphql-transport-ws")
		if err != nil {
			t.Fatal(err)
		}
		_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
		readMsg(t, ws)
		_ = ws.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": `subscription($c: ID!) { twinReply(conversationId: $c) { text } }`, "variables": map[string]any{"c": secret}}})
		_ = ws.WriteJSON(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": `subscription { twinReply(conversationId: "` + secret + `") { text } }`}})
		_ = ws.WriteJSON(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": 5, "variables": secret}})
		time.Sleep(200 * time.Millisecond) // let the socket's operations log whatever they log
		ws.Close()
		ws2, _, err := e.dialWS("", "graphql-ws")
		if err == nil {
			_ = ws2.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + secret}})
			_ = ws2.SetReadDeadline(time.Now().Add(2 * time.Second))
			_, _, _ = ws2.ReadMessage()
			ws2.Close()
		}
		out := logs.String()
		if out == "" {
			t.Fatal("nothing was logged: the test would prove nothing")
		}
		if strings.Contains(out, secret) || strings.Contains(out, "hunter2") {
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, "hunter2") {
					t.Errorf("secret in the log: %.400s", l)
				}
			}
		}
		if len(out) > 200_000 {
			t.Errorf("the log grew by %d bytes", len(out))
		}
	})
}

func mustReq(r *http.Request, err error) *http.Request {
	if err != nil {
		panic(err)
	}
	return r
}

// Finding 8: page sizes are priced on every list. 120 aliases of a 200-row
// page are refused with the default budget; the README's dashboard queries
// pass.
func TestQueryCostFromPageSizes(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	_, tok := e.user("cost@example.com", false)
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&b, " a%d: platformData(platform: SPOTIFY, first: 200) { edges { node { payload } } }", i)
	}
	b.WriteString(" }")
	if r := e.gql(tok, b.String(), nil); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("120 aliases: %.300s", r.Raw)
	}
	// One alias of the largest page is fine; so is a page through a variable,
	// and a variable page size is priced too.
	if r := e.gql(tok, `{ platformData(platform: SPOTIFY, first: 200) { edges { cursor node { id dataType externalId occurredAt payload source firstSeenAt updatedAt } } pageInfo { hasNextPage endCursor } } }`, nil); len(r.Errors) != 0 {
		t.Fatalf("one full page: %s", r.Raw)
	}
	q := `query($n: Int) { a: platformData(platform: SPOTIFY, first: $n) { edges { node { payload } } } b: platformData(platform: SPOTIFY, first: $n) { edges { node { payload } } } }`
	if r := e.gql(tok, q, map[string]any{"n": 2000}); r.code() != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Fatalf("page size in a variable: %.300s", r.Raw)
	}
	for _, q := range []string{
		`{ me { email role } }`,
		`{ soulSignature { traits { name score confidence } summaries { cluster text } insights { title sensitivity } } }`,
		`{ insights(first: 50) { edges { cursor node { title cluster evidence { label value weight } } } pageInfo { hasNextPage endCursor } } }`,
		`{ lifeClusters { cluster level subclusters { slug } overrides { audience level } } connections { platform status } platforms { platform configured scopes reads } }`,
	} {
		if r := e.gql(tok, q, nil); r.code() == "COMPLEXITY_LIMIT_EXCEEDED" || r.code() == "GRAPHQL_VALIDATION_FAILED" {
			t.Fatalf("dashboard query refused: %s: %.300s", q, r.Raw)
		}
	}
}

// The costs the README's "Query cost" table shows.
func TestQueryCostsInTheReadme(t *testing.T) {
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_MAX_QUERY_COMPLEXITY": "10"})
	_, admin := e.user("costs@example.com", true)
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 120; i++ {
		fmt.Fprintf(&aliases, " a%d: platformData(platform: SPOTIFY, first: 200) { edges { node { payload } } }", i)
	}
	aliases.WriteString(" }")
	for q, want := range map[string]int{
		`{ me { email role } }`: -1, // 3: under the lowest budget (10)
		`{ soulSignature { traits { name score confidence } summaries { cluster text } insights { title sensitivity } } }`:                                                                        74,
		`{ insights { edges { cursor node { title cluster evidence { label value weight } } } pageInfo { hasNextPage endCursor } } }`:                                                             781,
		`{ platformData(platform: SPOTIFY) { edges { cursor node { id occurredAt payload } } pageInfo { hasNextPage endCursor } } }`:                                                              451,
		`{ platformData(platform: SPOTIFY, first: 200) { edges { cursor node { id dataType externalId occurredAt payload source firstSeenAt updatedAt } } pageInfo { hasNextPage endCursor } } }`: 2801,
		`{ lifeClusters { cluster level subclusters { slug } overrides { audience level } } }`:                                                                                                    341,
		`{ users(first: 100) { edges { cursor node { id email name role } } } }`:                                                                                                                  701,
		aliases.String(): 72120,
	} {
		r := e.gql(admin, q, nil)
		var got int
		if len(r.Errors) > 0 {
			_, _ = fmt.Sscanf(r.Errors[0].Message, "operation has complexity %d", &got)
		} else {
			got = -1 // under 10
		}
		if got != want {
			t.Errorf("%.80s: cost %d, README says %d (%s)", q, got, want, r.Errors)
		}
	}
}
