package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
)

// TestTokenRefreshJobCounts is the end-to-end check: three
// connections expiring, one of them answered invalid_grant, gives
// tokens_checked 3, tokens_refreshed 2 and a per-connection outcome in
// result_data; admins watch it arrive over a websocket.
func TestTokenRefreshJobCounts(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.Spotify, platformtest.WithRotation(true))
		e := newEnv(t, d, withFake(map[string]string{}, platform.Spotify, f))
		_, admin := e.user("admin@example.com", true)
		for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
			_, tok := e.user(email, false)
			e.connect(tok, platform.Spotify, f)
		}
		_, alice := e.user("alice@example.com", false)
		if r := e.gql(alice, `{ cronJobs { name } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("non-admin cronJobs: %s", r.Raw)
		}
		if r := e.gql(alice, `mutation { runCronJob(name: "token-refresh") { id } }`, nil); r.code() != "FORBIDDEN" {
			t.Fatalf("non-admin runCronJob: %s", r.Raw)
		}

		// An admin watches runs finish.
		ws, _, err := e.dialWS("", "graphql-transport-ws")
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + admin}})
		readMsg(t, ws)
		_ = ws.WriteJSON(map[string]any{"id": "c", "type": "subscribe", "payload": map[string]any{"query": `subscription { cronExecutionCompleted(job: "token-refresh") { jobName status tokensRefreshed trigger } }`}})
		waitSubscribers(t, e, 1)

		e.clock.Advance(55 * time.Minute) // Spotify tokens live an hour: all three are within the margin
		f.FailNext(1, platformtest.FailInvalidGrant)
		r := e.gql(admin, `mutation { runCronJob(name: "token-refresh") { status tokensChecked tokensRefreshed trigger resultData } }`, nil)
		ex, _ := dig(r.Data, "runCronJob").(map[string]any)
		if ex == nil || ex["status"] != "SUCCESS" || ex["tokensChecked"] != 3.0 || ex["tokensRefreshed"] != 2.0 || ex["trigger"] != "ADMIN" {
			t.Fatalf("runCronJob: %s", r.Raw)
		}
		raw, _ := json.Marshal(ex["resultData"])
		var data struct {
			Connections []struct{ Outcome string } `json:"connections"`
		}
		_ = json.Unmarshal(raw, &data)
		outcomes := map[string]int{}
		for _, c := range data.Connections {
			outcomes[c.Outcome]++
		}
		if outcomes["refreshed"] != 2 || outcomes["needs_reauth"] != 1 || strings.Contains(string(raw), "access") {
			t.Fatalf("result_data: %s", raw)
		}
		m := readMsg(t, ws)
		if m.Type != "next" || !strings.Contains(string(m.Payload), `"tokensRefreshed":2`) || !strings.Contains(string(m.Payload), `"trigger":"ADMIN"`) {
			t.Fatalf("cronExecutionCompleted: %s %s", m.Type, m.Payload)
		}

		r = e.gql(admin, `{ cronJobs { name schedule lastRun { status } consecutiveFailures } cronExecutions(job: "token-refresh") { edges { node { jobName tokensChecked } } } connectionHealth { platform status count } }`, nil)
		if !strings.Contains(r.Raw, `"name":"token-refresh","schedule":"every 5m","lastRun":{"status":"SUCCESS"}`) ||
			!strings.Contains(r.Raw, `{"platform":"SPOTIFY","status":"NEEDS_REAUTH","count":1}`) ||
			!strings.Contains(r.Raw, `{"platform":"SPOTIFY","status":"CONNECTED","count":2}`) {
			t.Fatalf("admin views: %s", r.Raw)
		}
		if r := e.gql(admin, `mutation { runCronJob(name: "nope") { id } }`, nil); r.code() != "BAD_USER_INPUT" || !strings.Contains(r.Raw, "token-refresh") {
			t.Fatalf("unknown job: %s", r.Raw)
		}
	})
}

func TestCronHTTPTriggerAndMetrics(t *testing.T) {
	secret := "0123456789abcdef-cron"
	e := newEnv(t, store.SQLite, map[string]string{"TWINME_CRON_SECRET": secret})
	post := func(auth string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/api/cron/maintenance", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res, string(b)
	}
	if res, _ := post(""); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no secret: %d", res.StatusCode)
	}
	if res, _ := post("Bearer wrong-secret-wrong"); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong secret: %d", res.StatusCode)
	}
	res, body := post("Bearer " + secret)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `"job_name":"maintenance"`) || !strings.Contains(body, `"trigger":"http"`) {
		t.Fatalf("trigger: %d %s", res.StatusCode, body)
	}
	if hres, err := http.Get(e.srv.URL + "/api/health"); err == nil {
		hres.Body.Close()
	}
	mres, err := http.Get(e.srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mres.Body)
	mres.Body.Close()
	for _, want := range []string{`job="maintenance"`, `route="/api/cron/{job}"`, `route="GET /api/health"`} {
		if !strings.Contains(string(mb), want) {
			t.Fatalf("/metrics lacks %s:\n%.2000s", want, mb)
		}
	}
	// Without a secret the triggers are disabled, never open.
	e2 := newEnv(t, store.SQLite, nil)
	req, _ := http.NewRequest(http.MethodPost, e2.srv.URL+"/api/cron/maintenance", nil)
	r2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r2.Body.Close()
	if r2.StatusCode == http.StatusOK || r2.StatusCode < 400 {
		t.Fatalf("trigger without configured secret: %d", r2.StatusCode)
	}
}

func TestMalformedScheduleStopsStartup(t *testing.T) {
	e := newEnvErr(t, store.SQLite, map[string]string{"TWINME_SCHEDULE_TOKEN_REFRESH": "every banana"})
	if e == nil || !strings.Contains(e.Error(), "TWINME_SCHEDULE_TOKEN_REFRESH") {
		t.Fatalf("want an error naming TWINME_SCHEDULE_TOKEN_REFRESH, got %v", e)
	}
}
