package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/store"
)

// gqlFrom POSTs an operation as a browser with user agent ua would.
func (e *testEnv) gqlFrom(ua, token, query string, vars map[string]any) gqlResponse {
	e.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.do(req)
}

const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"

// TestAccessLog: every view of a twin by someone else through a share link
// (shared signature, guest conversation, guest message) is logged with the
// link, audience, time, browser family and a short salted address hash;
// the owner's own previews and chats are not; the owner sees the log live;
// it is kept for the retention and goes with its link.
func TestAccessLog(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		e := newEnv(t, d, nil)
		res, err := demo.SeedUser(ctx, demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Logger: logx.Discard(), Every: 40}, "seen@example.com")
		if err != nil {
			t.Fatal(err)
		}
		owner := res.Token
		_, visitor := e.user("visitor@example.com", false)
		_, admin := e.user("admin@example.com", true)

		r := e.gql(owner, `mutation { createShareLink(audience: FRIENDS) { token shareLink { id } } }`, nil)
		token, _ := dig(r.Data, "createShareLink", "token").(string)
		linkID, _ := dig(r.Data, "createShareLink", "shareLink", "id").(string)
		r = e.gql(owner, `mutation { createShareLink(audience: PROFESSIONAL) { token shareLink { id } } }`, nil)
		token2, _ := dig(r.Data, "createShareLink", "token").(string)
		link2, _ := dig(r.Data, "createShareLink", "shareLink", "id").(string)

		ws := e.subscribe(owner, `subscription { twinAccessed { kind audience client shareLinkId clientHash } }`, nil)
		defer ws.Close()
		waitSubscribers(t, e, 1)

		// The owner's own previews, chats and a look through their own link: not logged.
		for _, q := range []struct {
			q    string
			vars map[string]any
		}{
			{`{ soulSignature(audience: FRIENDS) { audience insights { title } } }`, nil},
			{`mutation { startTwinConversation(audience: FRIENDS) { id } }`, nil},
			{`query($t: String!) { sharedTwin(token: $t) { audience } }`, map[string]any{"t": token}},
		} {
			if r := e.gqlFrom(firefox, owner, q.q, q.vars); len(r.Errors) > 0 {
				t.Fatalf("%s: %s", q.q, r.Raw)
			}
		}
		if r := e.gql(owner, `{ twinAccessLog { edges { node { id } } } }`, nil); !strings.Contains(r.Raw, `"edges":[]`) {
			t.Fatalf("the owner's previews were logged: %s", r.Raw)
		}

		// Someone else: an anonymous view, a signed-in visitor's view, a
		// guest conversation and message.
		if r := e.gqlFrom(firefox, "", `query($t: String!) { sharedTwin(token: $t) { audience } }`, map[string]any{"t": token}); len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}
		m := readMsg(t, ws)
		if m.Type != "next" || !strings.Contains(string(m.Payload), `"kind":"VIEW","audience":"FRIENDS","client":"Firefox on Linux","shareLinkId":"`+linkID+`"`) {
			t.Fatalf("twinAccessed: %s %s", m.Type, m.Payload)
		}
		e.gqlFrom("curl/8.5.0", visitor, `query($t: String!) { sharedTwin(token: $t) { audience } }`, map[string]any{"t": token2})
		r = e.gqlFrom(firefox, "", `mutation($t: String) { startTwinConversation(shareToken: $t) { id } }`, map[string]any{"t": token})
		conv, _ := dig(r.Data, "startTwinConversation", "id").(string)
		if conv == "" {
			t.Fatal(r.Raw)
		}
		if r := e.gqlFrom(firefox, "", `mutation($c: ID!, $t: String) { sendTwinMessage(conversationId: $c, text: "hi", shareToken: $t) { reply { id } } }`, map[string]any{"c": conv, "t": token}); len(r.Errors) > 0 {
			t.Fatal(r.Raw)
		}

		r = e.gql(owner, `{ twinAccessLog(first: 10) { edges { node { kind audience client clientHash shareLinkId conversationId occurredAt } } pageInfo { hasNextPage } } }`, nil)
		edges, _ := dig(r.Data, "twinAccessLog", "edges").([]any)
		if len(edges) != 4 {
			t.Fatalf("want 4 entries (view, view, conversation, message), got %s", r.Raw)
		}
		kinds := []string{}
		hashes := map[string]bool{}
		for _, ed := range edges {
			n := ed.(map[string]any)["node"].(map[string]any)
			kinds = append(kinds, n["kind"].(string))
			h := n["clientHash"].(string)
			if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(h) {
				t.Fatalf("client hash %q", h)
			}
			hashes[h] = true
		}
		if !sameSet(kinds, []string{"VIEW", "VIEW", "CONVERSATION", "MESSAGE"}) {
			t.Fatalf("kinds %v", kinds)
		}
		if len(hashes) != 1 { // every request came from 127.0.0.1
			t.Fatalf("one address, several hashes: %v", hashes)
		}
		if !strings.Contains(r.Raw, `"client":"curl"`) || !strings.Contains(r.Raw, `"conversationId":"`+conv+`"`) {
			t.Fatalf("entries: %s", r.Raw)
		}
		// No raw address is stored anywhere in the log.
		var rows []store.AccessLogEntry
		if err := e.app.DB.NewSelect().Model(&rows).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(rows)
		if strings.Contains(string(raw), "127.0.0.1") {
			t.Fatalf("raw address stored: %s", raw)
		}

		// One link's entries; another user's link id is NOT_FOUND; paging.
		r = e.gql(owner, `query($l: ID) { twinAccessLog(shareLink: $l) { edges { node { audience } } } }`, map[string]any{"l": link2})
		if strings.Count(r.Raw, `"audience"`) != 1 || !strings.Contains(r.Raw, "PROFESSIONAL") {
			t.Fatalf("filtered by link: %s", r.Raw)
		}
		if r := e.gql(visitor, `query($l: ID) { twinAccessLog(shareLink: $l) { edges { node { audience } } } }`, map[string]any{"l": linkID}); r.code() != "NOT_FOUND" {
			t.Fatalf("another user's link: %s", r.Raw)
		}
		if r := e.gql(visitor, `{ twinAccessLog { edges { node { id } } } }`, nil); !strings.Contains(r.Raw, `"edges":[]`) {
			t.Fatalf("the visitor sees the owner's log: %s", r.Raw)
		}
		p1 := e.gql(owner, `{ twinAccessLog(first: 3) { edges { node { kind } } pageInfo { hasNextPage endCursor } } }`, nil)
		cur, _ := dig(p1.Data, "twinAccessLog", "pageInfo", "endCursor").(string)
		p2 := e.gql(owner, `query($a: String) { twinAccessLog(first: 3, after: $a) { edges { node { kind } } pageInfo { hasNextPage } } }`, map[string]any{"a": cur})
		if dig(p1.Data, "twinAccessLog", "pageInfo", "hasNextPage") != true || strings.Count(p2.Raw, `"kind"`) != 1 || dig(p2.Data, "twinAccessLog", "pageInfo", "hasNextPage") != false {
			t.Fatalf("paging: %s / %s", p1.Raw, p2.Raw)
		}

		// Deleting a link deletes its log; the rest ages out after 90 days.
		if r := e.gql(owner, `mutation($l: ID!) { deleteShareLink(id: $l) }`, map[string]any{"l": link2}); dig(r.Data, "deleteShareLink") != true {
			t.Fatalf("deleteShareLink: %s", r.Raw)
		}
		if r := e.gql(owner, `{ twinAccessLog { edges { node { kind } } } }`, nil); strings.Count(r.Raw, `"kind"`) != 3 {
			t.Fatalf("after deleting a link: %s", r.Raw)
		}
		e.clock.Advance(89 * 24 * time.Hour)
		if r := e.gql(admin, `mutation { runCronJob(name: "maintenance") { status } }`, nil); !strings.Contains(r.Raw, "SUCCESS") {
			t.Fatalf("maintenance: %s", r.Raw)
		}
		if r := e.gql(owner, `{ twinAccessLog { edges { node { kind } } } }`, nil); strings.Count(r.Raw, `"kind"`) != 3 {
			t.Fatalf("pruned before 90 days: %s", r.Raw)
		}
		e.clock.Advance(2 * 24 * time.Hour)
		e.gql(admin, `mutation { runCronJob(name: "maintenance") { status } }`, nil)
		if r := e.gql(owner, `{ twinAccessLog { edges { node { kind } } } }`, nil); !strings.Contains(r.Raw, `"edges":[]`) {
			t.Fatalf("kept past 90 days: %s", r.Raw)
		}
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	count := map[string]int{}
	for _, x := range a {
		count[x]++
	}
	for _, x := range b {
		count[x]--
	}
	for _, n := range count {
		if n != 0 {
			return false
		}
	}
	return true
}
