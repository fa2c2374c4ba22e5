package nonint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/analysis/llm/llmtest"
	"github.com/twinme/twinme/internal/app"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/config"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/ratelimit"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
	"github.com/twinme/twinme/internal/twin"
)

// The property, for every audience A: everything A (or a model, for
// ASSISTANT) can observe is a function of what A may see. The suite makes
// two users whose data differs only in what A may not see — every source
// whose clusters are all at level 0 for A, regenerated from another seed —
// under the same settings, and compares every surface of the two, byte for
// byte:
//
//   - sharedTwin (a share link of A) and soulSignature(audience: A), the
//     whole selection, through the GraphQL handler: insights, evidence,
//     counts, summaries, trait scores and confidences, completeness;
//   - the prompt the fake Anthropic server receives for a chat through A's
//     link (for ASSISTANT: the owner's own chat) and the reply text;
//   - the local twin's answers to a fixed set of questions;
//   - for ASSISTANT, every narration prompt sent while analysing;
//   - similarTwins: whether each user is matched and its score, with A as
//     the audience both share for matching (the embedding compared).
//
// Data of a source feeding a visible cluster is never perturbed (a source's
// clusters: analysis.SourceClusters).

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// questions are asked of the local twin in every case.
var questions = []string{
	"What music do you like?",
	"When do you work and code?",
	"What is your personality like?",
	"Who are you, really?",
	"What do you do online, and how much mail do you get?",
}

type suite struct {
	t     *testing.T
	app   *app.App
	srv   *httptest.Server
	fake  *llmtest.Server
	local *twin.Service
	users int
}

type views struct{ s *soul.Service }

func (v views) View(ctx context.Context, ownerID string, audiences ...privacy.Audience) (privacy.View, error) {
	return v.s.RevealedView(ctx, ownerID, audiences...)
}

func (v views) ResolveShare(ctx context.Context, token string) (twin.ShareLink, error) {
	l, err := v.s.ResolveShare(ctx, token)
	return twin.ShareLink{ID: "link:" + token, OwnerID: l.OwnerID, Audience: l.Audience}, err
}

func newSuite(t *testing.T, d store.Dialect) *suite {
	t.Helper()
	fake := llmtest.NewServer(t, "")
	fake.Respond(llmtest.Text("A reply ", "from the fake."))
	vars := map[string]string{
		"TWINME_DATABASE_URL": storetest.URL(t, d), "TWINME_LISTEN": "127.0.0.1:0", "TWINME_DATA_DIR": t.TempDir(),
		"TWINME_ANTHROPIC_API_KEY": llmtest.Key, "TWINME_ANTHROPIC_BASE_URL": fake.URL,
		"TWINME_RATE_LIMIT": "0", "TWINME_AI_RATE_LIMIT": "0",
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(t0)
	a, err := app.New(context.Background(), cfg, logx.Discard(), app.Options{Clock: clock, Migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	local := twin.New(twin.Config{DB: a.DB, Views: views{a.Soul}, Bus: a.Events, Model: llm.Local{},
		Limiter: ratelimit.New(0, time.Minute), MaxInFlight: 1000, Clock: clock, Logger: logx.Discard()})
	t.Cleanup(func() {
		local.Shutdown(context.Background())
		srv.Close()
		_ = a.Close()
	})
	return &suite{t: t, app: a, srv: srv, fake: fake, local: local}
}

func seed(t *testing.T) uint64 {
	if s := os.Getenv("TWINME_NONINT_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TWINME_NONINT_SEED: %v", err)
		}
		return n
	}
	return 9
}

// ─── generated data ─────────────────────────────────────────────────────────

// userData is one user's stored data, by source (analysis.Source*): the
// platform items as the streams store them, and the extension's events.
type userData struct {
	items    map[string][]store.PlatformItem // by source
	observer []observe.RawEvent
}

var sources = []string{analysis.SourceSpotify, analysis.SourceYouTube, analysis.SourceGitHub, analysis.SourceGmail,
	analysis.SourceDiscord, analysis.SourceLinkedIn, analysis.SourceExtension}

func item(t *testing.T, dataType, id string, at time.Time, payload map[string]any) store.PlatformItem {
	payload["source"] = "api"
	raw, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return store.PlatformItem{DataType: dataType, ExternalID: id, OccurredAt: at, Payload: raw, Source: store.SourceAPI}
}

func when(r *rand.Rand) time.Time {
	return t0.AddDate(0, 0, -1-r.IntN(45)).Truncate(24 * time.Hour).Add(time.Duration(r.IntN(24*60)) * time.Minute)
}

// genSource generates one source's data. Shapes (payloads the soul loader
// reads, internal/soul/load.go): spotify play {track, artist, track_uri,
// ms_played, skipped, reason_end} and top_artist {name, genres}; youtube
// liked_video {title, channel_title, category_id}; github event {type,
// repo} and repo {full_name, language, languages, stargazers_count};
// discord guild {name, owner}; gmail message {label_ids, from}; linkedin
// profile (OIDC userinfo); extension events {clientEventId, type,
// occurredAt, url, data}.
func genSource(t *testing.T, r *rand.Rand, src string, d *userData) {
	tag := r.Uint64()
	n := 0
	if r.IntN(5) > 0 {
		n = 10 + r.IntN(90)
	}
	var items []store.PlatformItem
	switch src {
	case analysis.SourceSpotify:
		genres := [][]string{{"indie pop", "pop"}, {"jazz"}, {"hip hop", "rap"}, {"classical"}, {"metal"}, {"folk"}}
		artists := 3 + r.IntN(10)
		for i := range artists {
			items = append(items, item(t, "top_artist", fmt.Sprintf("a%d-%d", tag, i), t0,
				map[string]any{"name": fmt.Sprintf("Artist %d-%d", tag%7, i), "genres": genres[r.IntN(len(genres))]}))
		}
		for i := range n * 2 {
			a := r.IntN(artists)
			skipped := r.IntN(5) == 0
			items = append(items, item(t, "play", fmt.Sprintf("p%d-%d", tag, i), when(r), map[string]any{
				"track": fmt.Sprintf("Song %d", r.IntN(30)), "artist": fmt.Sprintf("Artist %d-%d", tag%7, a),
				"track_uri": fmt.Sprintf("spotify:track:%d-%d", tag%7, r.IntN(30)), "ms_played": 5000 + r.IntN(250000),
				"skipped": skipped, "reason_end": map[bool]string{true: "fwdbtn", false: "trackdone"}[skipped]}))
		}
	case analysis.SourceYouTube:
		cats := []string{"10", "20", "24", "27", "28", "17", "25"}
		for i := range n {
			items = append(items, item(t, "liked_video", fmt.Sprintf("v%d-%d", tag, i), when(r), map[string]any{
				"title": fmt.Sprintf("Video %d", r.IntN(1000)), "channel_title": fmt.Sprintf("Channel %d", r.IntN(8)),
				"category_id": cats[r.IntN(len(cats))]}))
		}
	case analysis.SourceGitHub:
		langs := []string{"Go", "Python", "TypeScript", "Rust"}
		for i := range 1 + r.IntN(3) {
			l := langs[r.IntN(len(langs))]
			items = append(items, item(t, "repo", fmt.Sprintf("r%d-%d", tag, i), t0, map[string]any{
				"full_name": fmt.Sprintf("dev/repo%d", i), "language": l, "languages": map[string]int{l: 1000 + r.IntN(90000)},
				"stargazers_count": r.IntN(50)}))
		}
		types := []string{"PushEvent", "PullRequestEvent", "PullRequestReviewEvent", "IssueCommentEvent", "IssuesEvent"}
		for i := range n {
			items = append(items, item(t, "event", fmt.Sprintf("e%d-%d", tag, i), when(r), map[string]any{
				"type": types[r.IntN(len(types))], "repo": fmt.Sprintf("dev/repo%d", r.IntN(3))}))
		}
	case analysis.SourceGmail:
		for i := range n * 2 {
			labels := []string{"INBOX"}
			if r.IntN(3) == 0 {
				labels = []string{"SENT"}
			}
			items = append(items, item(t, "message", fmt.Sprintf("m%d-%d", tag, i), when(r), map[string]any{
				"label_ids": labels, "from": fmt.Sprintf("Person %d <p%d@org%d.example>", r.IntN(9), r.IntN(9), r.IntN(4))}))
		}
	case analysis.SourceDiscord:
		for i := range r.IntN(7) {
			items = append(items, item(t, "guild", fmt.Sprintf("g%d-%d", tag, i), t0, map[string]any{
				"name": fmt.Sprintf("Guild %d-%d", tag%97, i), "owner": r.IntN(4) == 0}))
		}
	case analysis.SourceLinkedIn:
		if r.IntN(2) == 0 {
			items = append(items, item(t, "profile", "me", t0, map[string]any{
				"sub": fmt.Sprintf("li-%d", tag), "name": fmt.Sprintf("Given%d Family%d", tag%13, tag%17),
				"given_name": fmt.Sprintf("Given%d", tag%13), "family_name": fmt.Sprintf("Family%d", tag%17),
				"email": fmt.Sprintf("person%d@example.com", tag%19), "email_verified": true, "locale": "en_US"}))
		}
	case analysis.SourceExtension:
		d.observer = nil
		domains := []string{"github.com", "news.example", "shop.example", "docs.example", "video.example"}
		for i := range n {
			ev := observe.RawEvent{ClientEventID: fmt.Sprintf("o%d-%d", tag, i), OccurredAt: when(r).Format(time.RFC3339),
				URL: "https://" + domains[r.IntN(len(domains))] + "/page"}
			switch r.IntN(4) {
			case 0:
				ev.Type, ev.Data = "typing", json.RawMessage(fmt.Sprintf(`{"keys":%d,"corrections":%d,"duration_ms":%d}`, 20+r.IntN(200), r.IntN(20), 5000+r.IntN(60000)))
			case 1:
				ev.Type, ev.Data = "scroll", json.RawMessage(fmt.Sprintf(`{"depth_pct":%d,"speed_px_s":%d}`, r.IntN(101), 100+r.IntN(2000)))
			case 2:
				ev.Type, ev.Data = "blur", json.RawMessage(fmt.Sprintf(`{"duration_ms":%d}`, 10000+r.IntN(900000)))
			default:
				ev.Type, ev.Data = "tab_switch", json.RawMessage(`{}`)
			}
			d.observer = append(d.observer, ev)
		}
		return
	}
	d.items[src] = items
}

func genData(t *testing.T, r *rand.Rand) userData {
	d := userData{items: map[string][]store.PlatformItem{}}
	for _, s := range sources {
		genSource(t, r, s, &d)
	}
	return d
}

// perturb returns d with every source in hidden generated again.
func perturb(t *testing.T, r *rand.Rand, d userData, hidden []string) userData {
	out := userData{items: map[string][]store.PlatformItem{}, observer: d.observer}
	for s, items := range d.items {
		out.items[s] = items
	}
	for _, s := range hidden {
		genSource(t, r, s, &out)
	}
	return out
}

var platformOf = map[string]string{
	analysis.SourceSpotify: "spotify", analysis.SourceYouTube: "youtube", analysis.SourceGitHub: "github",
	analysis.SourceGmail: "gmail", analysis.SourceDiscord: "discord", analysis.SourceLinkedIn: "linkedin",
}

// ─── generated settings ─────────────────────────────────────────────────────

type slider struct {
	cluster  privacy.Cluster
	audience privacy.Audience // "" for the cluster's own level
	level    int
}

func genLevel(r *rand.Rand) int {
	switch n := r.IntN(100); {
	case n < 30:
		return 0
	case n < 40:
		return 100
	default:
		return r.IntN(101)
	}
}

func genSettings(r *rand.Rand) []slider {
	var out []slider
	for _, ci := range privacy.Clusters() {
		out = append(out, slider{ci.Cluster, "", genLevel(r)})
		for _, a := range privacy.Audiences() {
			if r.IntN(100) < 35 {
				out = append(out, slider{ci.Cluster, a, genLevel(r)})
			}
		}
	}
	return out
}

// ─── users and surfaces ─────────────────────────────────────────────────────

type subject struct {
	id, token string
	narration []string // prompt bodies sent while it was analysed
	links     map[privacy.Audience]string
}

func (s *suite) newUser(ctx context.Context, d userData, sliders []slider) *subject {
	t := s.t
	t.Helper()
	s.users++
	u, err := s.app.Auth.CreateUser(ctx, fmt.Sprintf("u%d@example.com", s.users), "", false)
	storetest.Must(t, err)
	tok, _, err := s.app.Auth.CreateAPIToken(ctx, u.ID, "suite", []string{auth.ScopeFull}, nil)
	storetest.Must(t, err)
	for _, src := range sources {
		if items := d.items[src]; len(items) > 0 {
			err := s.app.DB.RunInTx(ctx, nil, func(ctx context.Context, tx store.Tx) error {
				_, err := store.UpsertPlatformData(ctx, tx, u.ID, platformOf[src], items, t0)
				return err
			})
			storetest.Must(t, err)
		}
	}
	if len(d.observer) > 0 {
		_, err := s.app.Ingest.SetObserverSettings(ctx, u.ID, true, false)
		storetest.Must(t, err)
		for i := 0; i < len(d.observer); i += 500 {
			_, _, err := s.app.Ingest.RecordEvents(ctx, u.ID, d.observer[i:min(i+500, len(d.observer))])
			storetest.Must(t, err)
		}
	}
	for _, sl := range sliders {
		_, err := s.app.Soul.SetClusterPrivacy(ctx, u.ID, sl.cluster, sl.level, sl.audience)
		storetest.Must(t, err)
	}
	sub := &subject{id: u.ID, token: tok, links: map[privacy.Audience]string{}}
	before := len(s.fake.Requests())
	_, err = s.app.Soul.Analyze(ctx, u.ID)
	storetest.Must(t, err)
	for _, r := range s.fake.Requests()[before:] {
		sub.narration = append(sub.narration, string(r.Body))
	}
	for _, a := range privacy.Audiences() {
		if a == privacy.AudienceAssistant {
			continue
		}
		tok, _, err := s.app.Soul.CreateShareLink(ctx, u.ID, a)
		storetest.Must(t, err)
		sub.links[a] = tok
	}
	return sub
}

const signatureSelection = `audience analyzed analyzedAt summaries { cluster text }
 traits { name score confidence evidence { label value weight } }
 insights { key cluster subcluster title body evidence { label value weight } confidence sensitivity source }
 completeness { cluster completeness missing } missing`

func (s *suite) gql(token, query string, vars map[string]any) string {
	s.t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(buf.String(), `"errors"`) {
		s.t.Fatalf("graphql %d: %s", resp.StatusCode, buf.String())
	}
	return buf.String()
}

// reply sends text in conversation convID through tw as who and waits for
// the stored, completed reply.
func (s *suite) reply(ctx context.Context, tw *twin.Service, who twin.Participant, convID, text string) string {
	s.t.Helper()
	_, pending, err := tw.Send(ctx, who, convID, text)
	storetest.Must(s.t, err)
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		ms, err := s.app.DB.ListTwinMessages(ctx, convID, nil, 200)
		storetest.Must(s.t, err)
		for _, m := range ms {
			if m.ID == pending.ID && m.Completed {
				return m.Text + "|" + m.Error
			}
		}
	}
	s.t.Fatalf("reply %s never completed", pending.ID)
	return ""
}

// surfaces renders everything audience a observes of sub.
func (s *suite) surfaces(ctx context.Context, sub *subject, a privacy.Audience) map[string]string {
	out := map[string]string{}
	out["soulSignature(audience)"] = s.gql(sub.token, `query($a: Audience) { soulSignature(audience: $a) { `+signatureSelection+` } }`,
		map[string]any{"a": strings.ToUpper(string(a))})
	var who twin.Participant
	var err error
	if a == privacy.AudienceAssistant {
		who = twin.Owner(sub.id)
		out["narration prompts"] = strings.Join(sub.narration, "\n---\n")
	} else {
		out["sharedTwin"] = s.gql("", `query($t: String!) { sharedTwin(token: $t) { `+signatureSelection+` } }`,
			map[string]any{"t": sub.links[a]})
		who, err = s.app.Twin.Guest(ctx, sub.links[a], "")
		storetest.Must(s.t, err)
	}
	conv, err := s.app.Twin.StartConversation(ctx, who, "")
	storetest.Must(s.t, err)
	out["twinReply text"] = s.reply(ctx, s.app.Twin, who, conv.ID, "Tell me about yourself.")
	last, ok := s.fake.Last()
	if !ok {
		s.t.Fatal("no request reached the fake model")
	}
	msgs, _ := json.Marshal(last.Parsed.Messages)
	out["chat prompt"] = last.Parsed.System + "\n" + string(msgs)

	lconv, err := s.local.StartConversation(ctx, who, "")
	storetest.Must(s.t, err)
	var answers []string
	for _, q := range questions {
		answers = append(answers, s.reply(ctx, s.local, who, lconv.ID, q))
	}
	out["local twin answers"] = strings.Join(answers, "\n")
	return out
}

// similar reports, for each of subs, whether viewer is matched with it and
// the score, both sharing a for matching.
func (s *suite) similar(ctx context.Context, viewer string, a privacy.Audience, subs ...*subject) []string {
	for _, sub := range subs {
		storetest.Must(s.t, s.app.Soul.SetSimilarTwinsOptIn(ctx, sub.id, true, a))
	}
	ms, err := s.app.Soul.SimilarTwins(ctx, viewer, 100)
	storetest.Must(s.t, err)
	out := make([]string, len(subs))
	for i, sub := range subs {
		out[i] = "not matched"
		for _, m := range ms {
			if m.UserID == sub.id {
				out[i] = fmt.Sprintf("score %v", m.Score)
			}
		}
		storetest.Must(s.t, s.app.Soul.SetSimilarTwinsOptIn(ctx, sub.id, false, a))
	}
	return out
}

// hiddenSources are the sources whose every cluster a sees at level 0
// under sub's stored settings.
func (s *suite) hiddenSources(ctx context.Context, userID string, a privacy.Audience) []string {
	settings, err := s.app.Soul.PrivacySettings(ctx, userID)
	storetest.Must(s.t, err)
	lens := settings.Lens(a)
	var out []string
	for _, src := range sources {
		hidden := true
		for _, c := range analysis.SourceClusters()[src] {
			if lens.Level(c) > 0 {
				hidden = false
			}
		}
		if hidden {
			out = append(out, src)
		}
	}
	return out
}

func cases(t *testing.T, normal int) int {
	if testing.Short() {
		return max(1, normal/4)
	}
	return normal
}

func TestNonInterference(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := newSuite(t, d)
			r := rand.New(rand.NewPCG(seed(t), 0x9))
			// The viewer of similar twins: rich data, default settings.
			viewerData := genData(t, rand.New(rand.NewPCG(1, 1)))
			viewer := s.newUser(ctx, viewerData, nil)
			storetest.Must(t, s.app.Soul.SetSimilarTwinsOptIn(ctx, viewer.id, true, ""))

			n, compared, perturbedSources := 0, 0, 0
			for i := range cases(t, 8) {
				data, sliders := genData(t, r), genSettings(r)
				base := s.newUser(ctx, data, sliders)
				audiences := privacy.Audiences()
				r.Shuffle(len(audiences), func(i, j int) { audiences[i], audiences[j] = audiences[j], audiences[i] })
				for _, a := range audiences[:3] {
					hidden := s.hiddenSources(ctx, base.id, a)
					other := s.newUser(ctx, perturb(t, r, data, hidden), sliders)
					want, got := s.surfaces(ctx, base, a), s.surfaces(ctx, other, a)
					for name, w := range want {
						if got[name] != w {
							t.Fatalf("case %d (seed %d), audience %s, hidden sources %v: %s differs:\nbase:      %s\nperturbed: %s",
								i, seed(t), a, hidden, name, w, got[name])
						}
						compared++
					}
					if a != privacy.AudienceAssistant {
						if sim := s.similar(ctx, viewer.id, a, base, other); sim[0] != sim[1] {
							t.Fatalf("case %d (seed %d), audience %s, hidden %v: similarTwins %s vs %s", i, seed(t), a, hidden, sim[0], sim[1])
						}
						compared++
					}
					n++
					perturbedSources += len(hidden)
				}
			}
			if perturbedSources == 0 {
				t.Fatal("no case hid any source; the generator proves nothing")
			}
			t.Logf("non-interference: %d generated cases (users %d, surfaces compared %d, hidden sources perturbed %d)",
				n, s.users, compared, perturbedSources)
		})
	}
}

// ─── monotonicity and fail-closed ───────────────────────────────────────────

func viewJSON(t *testing.T, v privacy.View) string {
	raw, err := json.Marshal(v)
	storetest.Must(t, err)
	return string(raw)
}

// Raising a slider never hides what was shown: every insight stays (with
// at least its evidence), every cluster with a summary keeps one, every
// trait stays.
func TestMonotonicity(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := newSuite(t, d)
			r := rand.New(rand.NewPCG(seed(t), 0x10))
			n := 0
			for range cases(t, 6) {
				sub := s.newUser(ctx, genData(t, r), genSettings(r))
				for range 6 {
					a := privacy.Audiences()[r.IntN(len(privacy.Audiences()))]
					lo, err := s.app.Soul.RevealedView(ctx, sub.id, a)
					storetest.Must(t, err)
					settings, err := s.app.Soul.PrivacySettings(ctx, sub.id)
					storetest.Must(t, err)
					c := privacy.Clusters()[r.IntN(3)].Cluster
					cur, err := settings.Level(c, a)
					storetest.Must(t, err)
					up := cur + r.IntN(101-cur)
					target := a
					if r.IntN(2) == 0 && settings.Follows[a][c] && a != privacy.AudienceAssistant {
						target = "" // raise the cluster slider it follows
					}
					_, err = s.app.Soul.SetClusterPrivacy(ctx, sub.id, c, up, target)
					storetest.Must(t, err)
					hi, err := s.app.Soul.RevealedView(ctx, sub.id, a)
					storetest.Must(t, err)
					if msg := subset(lo, hi); msg != "" {
						t.Fatalf("raising %s for %q to %d hid %s:\nbefore %s\nafter  %s", c, target, up, msg, viewJSON(t, lo), viewJSON(t, hi))
					}
					n++
				}
			}
			t.Logf("monotonicity: %d generated cases", n)
		})
	}
}

func subset(lo, hi privacy.View) string {
	ins := map[string]privacy.Insight{}
	for _, x := range hi.Insights {
		ins[x.Key] = x
	}
	for _, x := range lo.Insights {
		y, ok := ins[x.Key]
		if !ok || len(y.Evidence) < len(x.Evidence) {
			return "insight " + x.Key
		}
	}
	for _, x := range lo.Summaries {
		if !slices.ContainsFunc(hi.Summaries, func(y privacy.Summary) bool { return y.Cluster == x.Cluster }) {
			return "the summary of " + string(x.Cluster)
		}
	}
	for _, x := range lo.Traits {
		if !slices.ContainsFunc(hi.Traits, func(y privacy.Trait) bool { return y.Name == x.Name }) {
			return "trait " + x.Name
		}
	}
	return ""
}

// A damaged settings row of cluster c makes every audience see exactly
// what it would with c at 0 for everyone: nothing of c, and everything
// else unchanged.
func TestFailClosedOnDamagedRows(t *testing.T) {
	damage := []struct {
		name string
		sql  func(d store.Dialect) []string
	}{
		{"deleted audience row", func(store.Dialect) []string {
			return []string{"DELETE FROM privacy_settings WHERE user_id = ? AND cluster = ? AND audience = 'friends'"}
		}},
		{"deleted cluster row", func(store.Dialect) []string {
			return []string{"DELETE FROM privacy_settings WHERE user_id = ? AND cluster = ? AND audience = ''"}
		}},
		{"unknown audience name", func(store.Dialect) []string {
			return []string{"UPDATE privacy_settings SET audience = 'frends' WHERE user_id = ? AND cluster = ? AND audience = 'friends'"}
		}},
		{"unknown cluster name", func(store.Dialect) []string {
			return []string{"UPDATE privacy_settings SET cluster = cluster || 'x' WHERE user_id = ? AND cluster = ? AND audience = 'dating'"}
		}},
		{"cluster row following", func(store.Dialect) []string {
			return []string{"UPDATE privacy_settings SET follows = TRUE WHERE user_id = ? AND cluster = ? AND audience = ''"}
		}},
		{"out of range", func(d store.Dialect) []string {
			if d == store.SQLite {
				return []string{"PRAGMA ignore_check_constraints = ON",
					"UPDATE privacy_settings SET level = 250 WHERE user_id = ? AND cluster = ? AND audience = ''",
					"PRAGMA ignore_check_constraints = OFF"}
			}
			return []string{"ALTER TABLE privacy_settings DROP CONSTRAINT IF EXISTS privacy_settings_level_check",
				"UPDATE privacy_settings SET level = 250 WHERE user_id = ? AND cluster = ? AND audience = ''"}
		}},
	}
	// The schema allows NULL in no column of privacy_settings, so there is
	// no NULL to store.
	for _, d := range storetest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			s := newSuite(t, d)
			r := rand.New(rand.NewPCG(seed(t), 0x11))
			n := 0
			for i := range cases(t, len(damage)*2) {
				dm := damage[i%len(damage)]
				data, sliders := genData(t, r), genSettings(r)
				c := privacy.Clusters()[r.IntN(3)].Cluster
				// The reference: the same data and settings with c at 0 for
				// everyone (every audience following a cluster level of 0).
				var ref []slider
				for _, sl := range sliders {
					if sl.cluster != c {
						ref = append(ref, sl)
					}
				}
				ref = append(ref, slider{c, "", 0})
				refSub := s.newUser(ctx, data, ref)
				sub := s.newUser(ctx, data, sliders)
				conn, err := s.app.DB.Conn(ctx)
				storetest.Must(t, err)
				for _, q := range dm.sql(d) {
					args := []any{}
					if strings.Contains(q, "?") {
						args = []any{sub.id, string(c)}
					}
					_, err := conn.ExecContext(ctx, q, args...)
					storetest.Must(t, err)
				}
				_ = conn.Close()
				for _, a := range privacy.Audiences() {
					want, err := s.app.Soul.RevealedView(ctx, refSub.id, a)
					storetest.Must(t, err)
					got, err := s.app.Soul.RevealedView(ctx, sub.id, a)
					storetest.Must(t, err)
					if w, g := viewJSON(t, want), viewJSON(t, got); w != g {
						t.Fatalf("%s of %s (case %d, seed %d), audience %s:\nwant (cluster at 0) %s\ngot                 %s", dm.name, c, i, seed(t), a, w, g)
					}
					n++
				}
			}
			t.Logf("fail-closed: %d generated cases", n)
		})
	}
}
