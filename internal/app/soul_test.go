package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/demo"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
	"github.com/twinme/twinme/internal/store"
)

// subscribe opens a websocket, authenticates with token (if any) and
// subscribes to query.
func (e *testEnv) subscribe(token, query string, vars map[string]any) *websocket.Conn {
	e.t.Helper()
	c, _, err := e.dialWS("", "graphql-transport-ws")
	if err != nil {
		e.t.Fatal(err)
	}
	init := map[string]any{"type": "connection_init"}
	if token != "" {
		init["payload"] = map[string]any{"Authorization": "Bearer " + token}
	}
	_ = c.WriteJSON(init)
	if m := readMsg(e.t.(*testing.T), c); m.Type != "connection_ack" {
		e.t.Fatalf("ack: %+v", m)
	}
	_ = c.WriteJSON(map[string]any{"id": "s", "type": "subscribe", "payload": map[string]any{"query": query, "variables": vars}})
	return c
}

// TestSyncAnalysisInsightAdded is the end-to-end path: a sync
// stores new plays, the debounced analysis runs, and a websocket client
// subscribed to insightAdded receives the new insight.
func TestSyncAnalysisInsightAdded(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		f := newFake(t, platform.Spotify, platformtest.WithRotation(true))
		platformtest.ServeSpotifyAPI(f, 50)
		e := newEnv(t, d, withFake(map[string]string{}, platform.Spotify, f))
		_, tok := e.user("listener@example.com", false)
		e.connect(tok, platform.Spotify, f)

		ctx, cancel := context.WithCancel(context.Background())
		wait := e.app.Soul.Start(ctx)
		defer func() { cancel(); wait() }()

		ws := e.subscribe(tok, `subscription { insightAdded { key cluster title source evidence { label } } }`, nil)
		defer ws.Close()
		waitSubscribers(t, e, 1)

		if r := e.gql(tok, `mutation { syncNow(platform: SPOTIFY) { outcome fetched } }`, nil); dig(r.Data, "syncNow", "outcome") != "synced" {
			t.Fatalf("syncNow: %s", r.Raw)
		}
		// The analysis is debounced: move the clock past the window until it
		// runs. One reader without a deadline (a gorilla connection is
		// unusable after its first read timeout) hands messages over.
		msgs := make(chan wsMsg, 16)
		go func() {
			defer close(msgs)
			for {
				var m wsMsg
				if err := ws.ReadJSON(&m); err != nil {
					return
				}
				msgs <- m
			}
		}()
		var got wsMsg
		for i := 0; i < 40 && got.Type == ""; i++ {
			e.clock.Advance(31 * time.Second)
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("websocket closed before insightAdded")
				}
				if m.Type == "next" {
					got = m
				}
			case <-time.After(250 * time.Millisecond):
			}
		}
		for wait := time.After(10 * time.Second); got.Type == ""; {
			// The run was triggered; it may still be storing under load.
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatal("websocket closed before insightAdded")
				}
				if m.Type == "next" {
					got = m
				}
			case <-wait:
				t.Fatal("no insightAdded 10s after the debounce window passed")
			}
		}
		if got.Type != "next" || !strings.Contains(string(got.Payload), `"source":"PATTERN"`) || !strings.Contains(string(got.Payload), `"cluster":"`) {
			t.Fatalf("insightAdded after a sync: %+v %s", got, got.Payload)
		}
		// Insights are published as they are stored; the signature follows
		// at the end of the same run.
		var r gqlResponse
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			r = e.gql(tok, `{ insights(first: 50) { edges { node { key title } } } soulSignature { analyzed } }`, nil)
			if dig(r.Data, "soulSignature", "analyzed") == true {
				break
			}
		}
		if dig(r.Data, "soulSignature", "analyzed") != true || !strings.Contains(r.Raw, "music.") {
			t.Fatalf("after analysis: %s", r.Raw)
		}
	})
}

func TestPrivacyShareLinksAndTwinChat(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		fake := llmtest.NewServer(t, "")
		e := newEnv(t, d, map[string]string{"TWINME_ANTHROPIC_API_KEY": llmtest.Key, "TWINME_ANTHROPIC_BASE_URL": fake.URL})
		res, err := demo.SeedUser(context.Background(), demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Every: 10}, "owner@example.com")
		if err != nil {
			t.Fatal(err)
		}
		owner := res.Token
		_, stranger := e.user("stranger@example.com", false)

		// Sliders: validated, per audience.
		if r := e.gql(owner, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 101) { clusters { level } } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("level 101: %s", r.Raw)
		}
		r := e.gql(owner, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 0, audience: PROFESSIONAL) { clusters { cluster level overrides { audience level } } } }`, nil)
		if !strings.Contains(r.Raw, `{"cluster":"PERSONAL","level":50,"overrides":[{"audience":"PROFESSIONAL","level":0}]}`) {
			t.Fatalf("override: %s", r.Raw)
		}
		full := e.gql(owner, `{ soulSignature { analyzed insights { cluster title } traits { name } missing } }`, nil)
		if !strings.Contains(full.Raw, `"cluster":"PERSONAL"`) {
			t.Fatalf("owner sees personal insights: %s", full.Raw)
		}

		// A professional share link never shows the personal cluster.
		r = e.gql(owner, `mutation { createShareLink(audience: PROFESSIONAL) { token shareLink { id audience } } }`, nil)
		token, _ := dig(r.Data, "createShareLink", "token").(string)
		linkID, _ := dig(r.Data, "createShareLink", "shareLink", "id").(string)
		if token == "" {
			t.Fatalf("createShareLink: %s", r.Raw)
		}
		shared := e.gql("", `query($t: String!) { sharedTwin(token: $t) { audience insights { cluster title sensitivity } completeness { cluster } } }`, map[string]any{"t": token})
		if len(shared.Errors) > 0 || strings.Contains(shared.Raw, `"cluster":"PERSONAL"`) || !strings.Contains(shared.Raw, `"audience":"PROFESSIONAL"`) || !strings.Contains(shared.Raw, `"completeness":[]`) {
			t.Fatalf("sharedTwin: %s", shared.Raw)
		}
		if strings.Count(shared.Raw, `"title"`) >= strings.Count(full.Raw, `"title"`) {
			t.Fatal("the audience sees as much as the owner")
		}

		// A guest chats through the link; the model never hears of the personal cluster.
		fake.Respond(llmtest.Text("I write ", "code ", "mostly on weekdays."))
		r = e.gql("", `mutation($t: String) { startTwinConversation(shareToken: $t) { id audience } }`, map[string]any{"t": token})
		convID, _ := dig(r.Data, "startTwinConversation", "id").(string)
		if convID == "" || dig(r.Data, "startTwinConversation", "audience") != "PROFESSIONAL" {
			t.Fatalf("startTwinConversation: %s", r.Raw)
		}
		ws := e.subscribe("", `subscription($c: ID!, $t: String) { twinReply(conversationId: $c, shareToken: $t) { text done error } }`, map[string]any{"c": convID, "t": token})
		defer ws.Close()
		waitSubscribers(t, e, 1)
		r = e.gql("", `mutation($c: ID!, $t: String) { sendTwinMessage(conversationId: $c, text: "What do you do?", shareToken: $t) { message { role text } reply { id role completed } } }`, map[string]any{"c": convID, "t": token})
		if dig(r.Data, "sendTwinMessage", "reply", "role") != "TWIN" {
			t.Fatalf("sendTwinMessage: %s", r.Raw)
		}
		var text strings.Builder
		for {
			m := readMsg(t, ws)
			var p struct {
				Data struct {
					TwinReply struct {
						Text string
						Done bool
					}
				}
			}
			_ = json.Unmarshal(m.Payload, &p)
			text.WriteString(p.Data.TwinReply.Text)
			if p.Data.TwinReply.Done || m.Type != "next" {
				break
			}
		}
		if text.String() != "I write code mostly on weekdays." {
			t.Fatalf("streamed reply %q", text.String())
		}
		last, ok := fake.Last()
		if !ok {
			t.Fatal("the model was not called")
		}
		for _, line := range strings.Split(full.Raw, `"title":"`)[1:] {
			title := line[:strings.Index(line, `"`)]
			if strings.Contains(full.Raw, `"cluster":"PERSONAL","title":"`+title+`"`) && strings.Contains(string(last.Body), title) {
				t.Fatalf("a personal insight (%q) reached the model through a professional link", title)
			}
		}
		// The conversation is stored; a stranger cannot read it.
		r = e.gql("", `query($c: ID!, $t: String) { twinConversation(id: $c, shareToken: $t) { messages { role text completed } } }`, map[string]any{"c": convID, "t": token})
		if !strings.Contains(r.Raw, `"text":"I write code mostly on weekdays.","completed":true`) {
			t.Fatalf("stored conversation: %s", r.Raw)
		}
		if r := e.gql(stranger, `query($c: ID!) { twinConversation(id: $c) { id } }`, map[string]any{"c": convID}); r.code() != "NOT_FOUND" {
			t.Fatalf("stranger reading the conversation: %s", r.Raw)
		}
		// Bad messages, revoked links.
		if r := e.gql("", `mutation($c: ID!, $t: String) { sendTwinMessage(conversationId: $c, text: "  ", shareToken: $t) { reply { id } } }`, map[string]any{"c": convID, "t": token}); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("empty message: %s", r.Raw)
		}
		if r := e.gql(stranger, `mutation($id: ID!) { revokeShareLink(id: $id) { id } }`, map[string]any{"id": linkID}); r.code() != "NOT_FOUND" {
			t.Fatalf("stranger revoking: %s", r.Raw)
		}
		e.gql(owner, `mutation($id: ID!) { revokeShareLink(id: $id) { revokedAt } }`, map[string]any{"id": linkID})
		if r := e.gql("", `query($t: String!) { sharedTwin(token: $t) { audience } }`, map[string]any{"t": token}); r.code() != "NOT_FOUND" {
			t.Fatalf("revoked link: %s", r.Raw)
		}
		if r := e.gql("", `{ sharedTwin(token: "tms_nope") { audience } }`, nil); r.code() != "NOT_FOUND" {
			t.Fatalf("unknown link: %s", r.Raw)
		}
	})
}

func TestEmptyUserSignatureAndAccountDeletion(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	u, tok := e.user("new@example.com", false)
	r := e.gql(tok, `{ soulSignature { analyzed traits { name } insights { title } missing completeness { cluster completeness missing } } }`, nil)
	if len(r.Errors) > 0 || dig(r.Data, "soulSignature", "analyzed") != false || !strings.Contains(r.Raw, `"traits":[]`) || strings.Contains(r.Raw, `"missing":[]`) {
		t.Fatalf("empty signature: %s", r.Raw)
	}
	// Local twin without a key, for the owner.
	r = e.gql(tok, `mutation { startTwinConversation { id } }`, nil)
	conv, _ := dig(r.Data, "startTwinConversation", "id").(string)
	r = e.gql(tok, `mutation($c: ID!) { sendTwinMessage(conversationId: $c, text: "Who are you?") { reply { id } } }`, map[string]any{"c": conv})
	if len(r.Errors) > 0 {
		t.Fatalf("local twin: %s", r.Raw)
	}
	if r := e.gql(tok, `mutation { deleteMyAccount(confirm: "someone@else.com") }`, nil); r.code() != "BAD_USER_INPUT" {
		t.Fatalf("wrong confirmation: %s", r.Raw)
	}
	if r := e.gql(tok, `mutation { deleteMyAccount(confirm: "new@example.com") }`, nil); dig(r.Data, "deleteMyAccount") != true {
		t.Fatalf("deleteMyAccount: %s", r.Raw)
	}
	if _, err := e.app.DB.UserByID(context.Background(), u.ID); err == nil {
		t.Fatal("user still stored")
	}
}

func TestSimilarTwinsNeedBothOptIns(t *testing.T) {
	e := newEnv(t, store.SQLite, nil)
	deps := demo.Deps{DB: e.app.DB, Auth: e.app.Auth, Ingest: e.app.Ingest, Soul: e.app.Soul, Clock: e.clock, Every: 20}
	a, err := demo.SeedUser(context.Background(), deps, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	b, err := demo.SeedUser(context.Background(), deps, "b@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if r := e.gql(a.Token, `{ similarTwins { name score } }`, nil); r.code() != "FORBIDDEN" {
		t.Fatalf("before opting in: %s", r.Raw)
	}
	e.gql(a.Token, `mutation { setSimilarTwinsOptIn(optIn: true) }`, nil)
	if r := e.gql(a.Token, `{ similarTwins { name } }`, nil); !strings.Contains(r.Raw, `"similarTwins":[]`) {
		t.Fatalf("only one opted in: %s", r.Raw)
	}
	e.gql(b.Token, `mutation { setSimilarTwinsOptIn(optIn: true) }`, nil)
	if r := e.gql(a.Token, `{ similarTwins { name score } }`, nil); !strings.Contains(r.Raw, `"score":`) {
		t.Fatalf("both opted in: %s", r.Raw)
	}
	if r := e.gql(a.Token, `{ similarPeriods(first: 3) { month score } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("similarPeriods: %s", r.Raw)
	}
}
