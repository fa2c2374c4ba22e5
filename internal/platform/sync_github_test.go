package platform_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func eventRequests(api *platformtest.GitHubAPI) (n int, lastIfNoneMatch string) {
	for _, r := range api.Requests() {
		if strings.HasSuffix(r.URL.Path, "/events") {
			n++
			lastIfNoneMatch = r.Header.Get("If-None-Match")
		}
	}
	return n, lastIfNoneMatch
}

func TestGitHubEventsETagAndOnlyNew(t *testing.T) {
	c := connect(t, platform.GitHub)
	api := platformtest.ServeGitHubAPI(c.f, 250, 2, 0)
	s := stream(t, c.p, "events")

	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if first.pages != 3 || len(first.items) != 250 {
		t.Fatalf("first run: %d items in %d pages, want 250 in 3", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	if first.last.PollAfter != time.Minute {
		t.Errorf("PollAfter = %v, want X-Poll-Interval 60 s", first.last.PollAfter)
	}
	var pl map[string]any
	json.Unmarshal(first.items[0].Payload, &pl)
	if pl["type"] != "PushEvent" || pl["repo"] == "" || pl["commits"] != 2.0 {
		t.Errorf("event payload %s", first.items[0].Payload)
	}

	// Nothing new: a conditional request answered 304, no items, same cursor.
	quiet := runStream(t, c, s, first.cursor)
	if quiet.err != nil {
		t.Fatal(quiet.err)
	}
	if !quiet.last.NotModified || len(quiet.items) != 0 || string(quiet.cursor) != string(first.cursor) || quiet.last.PollAfter != time.Minute {
		t.Errorf("quiet run: NotModified %v, %d items, cursor %s (was %s), PollAfter %v",
			quiet.last.NotModified, len(quiet.items), quiet.cursor, first.cursor, quiet.last.PollAfter)
	}
	if _, inm := eventRequests(api); inm == "" {
		t.Error("second run sent no If-None-Match")
	}

	// New events: only they come back, from page 1 alone.
	added := api.AddEvents(5, "WatchEvent")
	before, _ := eventRequests(api)
	fresh := runStream(t, c, s, quiet.cursor)
	if fresh.err != nil {
		t.Fatal(fresh.err)
	}
	got := ids(fresh.items)
	if len(got) != 5 {
		t.Errorf("run after 5 new events returned %d items", len(got))
	}
	for _, e := range added {
		if !got[strconv.FormatInt(e.ID, 10)] {
			t.Errorf("new event %d missing", e.ID)
		}
	}
	if after, _ := eventRequests(api); after-before != 1 {
		t.Errorf("run after 5 new events made %d requests, want 1", after-before)
	}
}

func TestGitHubEvents5xxMidRunResumes(t *testing.T) {
	c := connect(t, platform.GitHub)
	platformtest.ServeGitHubAPI(c.f, 250, 2, 0)
	s := stream(t, c.p, "events")
	page1, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
	if err != nil || !page1.More || len(page1.Items) != 100 {
		t.Fatalf("page 1: %d items, More %v, err %v", len(page1.Items), page1.More, err)
	}
	c.f.FailNextAPI(1, platformtest.Fail503)
	if _, err := s.Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, page1.Cursor); apiError(t, err).Kind != platform.APITransient {
		t.Fatalf("page 2 with a 503: %v", err)
	}
	// The next run resumes at page 2; the stored ETag must not turn it
	// into a 304 that skips the missing pages.
	rest := runStream(t, c, s, page1.Cursor)
	if rest.err != nil {
		t.Fatal(rest.err)
	}
	all := append(append([]platform.Item(nil), page1.Items...), rest.items...)
	noDuplicates(t, all)
	if len(all) != 250 {
		t.Errorf("%d events over both runs, want 250", len(all))
	}
	// Finished: the run after it is conditional again.
	again := runStream(t, c, s, rest.cursor)
	if !again.last.NotModified {
		t.Errorf("run after the resumed one: NotModified %v, %d items", again.last.NotModified, len(again.items))
	}
}

func TestGitHubReposWithLanguagesBoundedPerRun(t *testing.T) {
	c := connect(t, platform.GitHub)
	api := platformtest.ServeGitHubAPI(c.f, 0, 150, 0)
	s := stream(t, c.p, "repos")
	langRequests := func() int {
		n := 0
		for _, u := range api.RequestURIs() {
			if strings.HasSuffix(u, "/languages") {
				n++
			}
		}
		return n
	}

	run1 := runStream(t, c, s, nil)
	if run1.err != nil {
		t.Fatal(run1.err)
	}
	if len(run1.items) != platform.GitHubReposPerRun || langRequests() != platform.GitHubReposPerRun {
		t.Fatalf("run 1: %d repos, %d languages requests, want %d of each", len(run1.items), langRequests(), platform.GitHubReposPerRun)
	}
	run2 := runStream(t, c, s, run1.cursor)
	if run2.err != nil {
		t.Fatal(run2.err)
	}
	all := append(append([]platform.Item(nil), run1.items...), run2.items...)
	noDuplicates(t, all)
	if len(all) != 150 {
		t.Fatalf("two runs: %d repos, want 150", len(all))
	}
	var pl struct {
		FullName  string           `json:"full_name"`
		Languages map[string]int64 `json:"languages"`
	}
	json.Unmarshal(all[0].Payload, &pl)
	if pl.FullName == "" || len(pl.Languages) == 0 {
		t.Errorf("repo payload %s has no languages", all[0].Payload)
	}

	// Nothing pushed: one list request, no languages requests, no items.
	before := langRequests()
	run3 := runStream(t, c, s, run2.cursor)
	if run3.err != nil || len(run3.items) != 0 || langRequests() != before {
		t.Errorf("quiet run: %d items, %d languages requests, err %v", len(run3.items), langRequests()-before, run3.err)
	}

	api.Push(7)
	run4 := runStream(t, c, s, run3.cursor)
	if run4.err != nil || len(run4.items) != 1 {
		t.Fatalf("after a push: %d items, err %v", len(run4.items), run4.err)
	}
	json.Unmarshal(run4.items[0].Payload, &pl)
	if pl.FullName != "octocat/project-007" || pl.Languages["Go"] < 500 {
		t.Errorf("pushed repo payload %s", run4.items[0].Payload)
	}
}

func TestGitHubStarredOnlyNew(t *testing.T) {
	c := connect(t, platform.GitHub)
	api := platformtest.ServeGitHubAPI(c.f, 0, 0, 130)
	s := stream(t, c.p, "starred")
	first := runStream(t, c, s, nil)
	if first.err != nil {
		t.Fatal(first.err)
	}
	if first.pages != 2 || len(first.items) != 130 {
		t.Fatalf("first run: %d stars in %d pages", len(first.items), first.pages)
	}
	noDuplicates(t, first.items)
	for _, r := range api.Requests() {
		if r.Header.Get("Accept") != "application/vnd.github.star+json" {
			t.Errorf("starred asked with Accept %q; starred_at needs application/vnd.github.star+json", r.Header.Get("Accept"))
		}
	}
	var pl struct {
		StarredAt string `json:"starred_at"`
	}
	json.Unmarshal(first.items[0].Payload, &pl)
	if pl.StarredAt == "" || first.items[0].OccurredAt.Format(time.RFC3339) != pl.StarredAt {
		t.Errorf("star payload %s, OccurredAt %v", first.items[0].Payload, first.items[0].OccurredAt)
	}

	star := api.Star()
	second := runStream(t, c, s, first.cursor)
	if second.err != nil {
		t.Fatal(second.err)
	}
	if len(second.items) != 1 || second.items[0].ExternalID != strconv.FormatInt(star.RepoID, 10) {
		t.Errorf("second run: %v, want only the new star", ids(second.items))
	}
}

func TestGitHubPrimaryRateLimit(t *testing.T) {
	c := connect(t, platform.GitHub)
	api := platformtest.ServeGitHubAPI(c.f, 3, 3, 3)
	api.SetRateLimitRemaining(0)
	for _, name := range []string{"repos", "starred"} {
		_, err := stream(t, c.p, name).Fetch(ctxT(t), nil, c.p, c.tok.AccessToken, nil)
		ae := apiError(t, err)
		if ae.Kind != platform.APIRateLimited || !ae.ResetAt.Equal(api.RateLimitReset()) {
			t.Errorf("%s: kind %s, ResetAt %v; want rate_limited until %v", name, ae.Kind, ae.ResetAt, api.RateLimitReset())
		}
	}
}
