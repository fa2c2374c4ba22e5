package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/store"
)

// fuzzOperations are the main mutations (and the paginated queries) whose
// variables a client controls entirely.
var fuzzOperations = []string{
	`mutation($n: String!, $s: [Scope!]!, $e: Time) { createApiToken(name: $n, scopes: $s, expiresAt: $e) { token } }`,
	`mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { id name } }`,
	`mutation($c: LifeCluster!, $l: Int!, $a: Audience) { setClusterPrivacy(cluster: $c, level: $l, audience: $a) { clusters { level } } }`,
	`mutation($e: [ObserverEventInput!]!) { recordObserverEvents(events: $e) { accepted rejected { reason } } }`,
	`mutation($enabled: Boolean!, $f: Boolean) { setObservation(enabled: $enabled, fullPaths: $f) { enabled } }`,
	`mutation($a: Audience!) { createShareLink(audience: $a) { token } }`,
	`mutation($a: Audience, $t: String) { startTwinConversation(audience: $a, shareToken: $t) { id } }`,
	`mutation($c: ID!, $x: String!, $t: String) { sendTwinMessage(conversationId: $c, text: $x, shareToken: $t) { message { id } } }`,
	`mutation($p: Platform!) { startConnection(platform: $p) { authorizeUrl } }`,
	`mutation($id: ID!) { revokeApiToken(id: $id) { id } revokeShareLink(id: $id) { id } }`,
	`query($p: Platform!, $d: String, $n: Int, $a: String) { platformData(platform: $p, dataType: $d, first: $n, after: $a) { edges { cursor } } }`,
	`query($c: LifeCluster, $n: Int, $a: String) { insights(cluster: $c, first: $n, after: $a) { edges { cursor } } }`,
}

// FuzzGraphQLVariables sends the main operations with any variables to the
// real handler (SQLite): whatever comes in, the answer is JSON, below 500,
// and every error carries a code other than INTERNAL.
func FuzzGraphQLVariables(f *testing.F) {
	seeds := []string{
		`{"n":"laptop","s":["FULL"],"e":"2027-01-01T00:00:00Z"}`, `{"n":"x","s":["full"],"e":"soon"}`, `{"n":"\u0000","s":[]}`,
		`{"i":{"name":"Ada","avatarUrl":"https://ex.com/a.png"}}`, `{"i":{"name":"` + strings.Repeat("a", 300) + `","avatarUrl":"javascript:x"}}`,
		`{"c":"CREATIVE","l":101,"a":"DATING"}`, `{"c":"creative","l":"50"}`, `{"c":"PERSONAL","l":-2147483649}`,
		`{"e":[{"clientEventId":"a","type":"focus","occurredAt":"2026-11-01T11:00:00Z","url":"https://ex.com/?q=1","data":{"k":1}}]}`,
		`{"e":[{"clientEventId":"","type":"","occurredAt":"0000-01-01T00:00:00Z","data":"\u0000"}]}`,
		`{"enabled":true,"f":null}`, `{"a":"EVERYONE"}`, `{"a":null,"t":"nope"}`, `{"c":"x","x":"hi","t":""}`,
		`{"p":"SPOTIFY"}`, `{"id":"00000000"}`, `{"p":"SPOTIFY","n":200,"a":"MjAyNnxh"}`, `{"n":0,"a":"%%"}`, `[]`, `null`, `{"n":1e400}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i%len(fuzzOperations)), s)
	}
	e := newEnv(f, store.SQLite, map[string]string{"TWINME_RATE_LIMIT": "0"})
	_, tok := e.user("fuzz@example.com", false)
	f.Fuzz(func(t *testing.T, op uint8, vars string) {
		query := fuzzOperations[int(op)%len(fuzzOperations)]
		body := `{"query":` + quoteJSON(query) + `,"variables":` + vars + `}`
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			t.Fatalf("%s: answer is not JSON (%d): %v", body, res.StatusCode, err)
		}
		if res.StatusCode >= 500 {
			t.Fatalf("%s: status %d %v", body, res.StatusCode, out.Errors)
		}
		for _, er := range out.Errors {
			code, _ := er.Extensions["code"].(string)
			if code == "" || code == "INTERNAL" {
				t.Fatalf("%s: error %q with code %q", body, er.Message, code)
			}
		}
	})
}

func quoteJSON(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
