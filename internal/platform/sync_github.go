package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// GitHubReposPerRun bounds the repositories (each with one languages
// request) the repos stream handles in one run: one page of GET /user/repos.
// Beyond it the run ends and the next run continues where it stopped.
const GitHubReposPerRun = 100

func gitHubStreams() []Stream {
	return []Stream{
		{Name: "events", DataType: DataGitHubEvent, Fetch: gitHubEvents},
		{Name: "repos", DataType: DataGitHubRepo, Fetch: gitHubRepos},
		{Name: "starred", DataType: DataGitHubStar, Fetch: gitHubStarred},
	}
}

func gitHubHeaders(extra ...string) map[string]string {
	h := make(map[string]string, len(gitHubAPIHeaders)+len(extra)/2)
	for k, v := range gitHubAPIHeaders {
		h[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

// gitHubLogin reads the login the events URL needs from GET /user.
func gitHubLogin(ctx context.Context, client *http.Client, p Provider, token string) (string, error) {
	var u struct {
		Login string `json:"login"`
	}
	if _, err := p.getInto(ctx, client, p.Endpoints.APIBaseURL+"/user", token, gitHubHeaders(), &u); err != nil {
		return "", err
	}
	if u.Login == "" {
		return "", fmt.Errorf("GitHub /user has no login")
	}
	return u.Login, nil
}

// gitHubNextPage reads the page number of rel="next" in a Link header:
// <https://api.github.com/user/repos?page=2&per_page=100>; rel="next", <…>; rel="last".
// 0 means there is no next page.
func gitHubNextPage(link string) int {
	for _, part := range strings.Split(link, ",") {
		target, params, ok := strings.Cut(part, ";")
		if !ok || !strings.Contains(params, `rel="next"`) {
			continue
		}
		u, err := url.Parse(strings.Trim(strings.TrimSpace(target), "<>"))
		if err != nil {
			return 0
		}
		n, err := strconv.Atoi(u.Query().Get("page"))
		if err != nil || n < 1 {
			return 0
		}
		return n
	}
	return 0
}

// newerID compares GitHub's numeric event ids given as decimal strings.
func newerID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

// gitHubEventsCursor: ETag is page 1's ETag and LastID the newest event id
// as of the last complete run. During a run, Page is the next page and
// RunETag/RunLastID become ETag/LastID when the run ends, so a run that
// fails halfway does not let a later 304 hide the pages it missed.
type gitHubEventsCursor struct {
	Login     string `json:"login,omitempty"`
	ETag      string `json:"etag,omitempty"`
	LastID    string `json:"last_id,omitempty"`
	Page      int    `json:"page,omitempty"`
	RunETag   string `json:"run_etag,omitempty"`
	RunLastID string `json:"run_last_id,omitempty"`
}

// gitHubEvents reads GET /users/{login}/events?per_page=100&page= (the
// person's own events, private ones included when authenticated as them):
//
//	[{"id":"22249084947","type":"PushEvent","actor":{"id":583231,"login":"octocat",…},
//	  "repo":{"id":1296269,"name":"octocat/Hello-World","url":"…"},
//	  "payload":{"repository_id":1296269,"push_id":10115855396,"size":1,"distinct_size":1,"ref":"refs/heads/master",
//	  "head":"…","before":"…","commits":[…]},"public":true,"created_at":"2022-06-09T12:47:28Z"}]
//
// Events are optimised for polling: "If no new events have been triggered,
// you will see a 304 Not Modified response" to If-None-Match (not counted
// against the rate limit), and X-Poll-Interval says how often polling is
// allowed. The timeline holds at most 300 events; newest first. A run stops
// at the newest event of the previous run, so only new events come back.
func gitHubEvents(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur gitHubEventsCursor
	ok := readCursor(raw, &cur)
	if cur.Login == "" {
		login, err := gitHubLogin(ctx, client, p, token)
		if err != nil {
			return Page{}, err
		}
		cur.Login = login
	}
	pageNo := max(cur.Page, 1)
	var hdr map[string]string
	if pageNo == 1 && cur.ETag != "" {
		hdr = gitHubHeaders("If-None-Match", cur.ETag)
	} else {
		hdr = gitHubHeaders()
	}
	u := withQuery(p.Endpoints.APIBaseURL, "/users/"+url.PathEscape(cur.Login)+"/events",
		url.Values{"per_page": {"100"}, "page": {strconv.Itoa(pageNo)}})
	resp, err := p.get(ctx, client, u, token, hdr)
	if err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok, PollAfter: secondsHeader(resp.header, "X-Poll-Interval")}
	if resp.status == http.StatusNotModified {
		page.NotModified = true
		page.Cursor = cursorOf(cur)
		return page, nil
	}
	var events []struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Actor struct {
			Login string `json:"login"`
		} `json:"actor"`
		Repo struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"repo"`
		Payload struct {
			Action       string            `json:"action"`
			Ref          *string           `json:"ref"`
			RefType      string            `json:"ref_type"`
			Size         *int              `json:"size"`
			DistinctSize *int              `json:"distinct_size"`
			Commits      []json.RawMessage `json:"commits"`
		} `json:"payload"`
		Public    bool      `json:"public"`
		CreatedAt time.Time `json:"created_at"`
	}
	if err := json.Unmarshal(resp.body, &events); err != nil {
		return Page{}, fmt.Errorf("decode GitHub events: %w", err)
	}
	if pageNo == 1 {
		cur.RunETag = resp.header.Get("ETag")
		cur.RunLastID = ""
	}
	reachedKnown := false
	for _, e := range events {
		if e.ID == "" {
			continue
		}
		if cur.LastID != "" && !newerID(e.ID, cur.LastID) {
			reachedKnown = true
			continue
		}
		if cur.RunLastID == "" || newerID(e.ID, cur.RunLastID) {
			cur.RunLastID = e.ID
		}
		ref := ""
		if e.Payload.Ref != nil {
			ref = *e.Payload.Ref
		}
		size := len(e.Payload.Commits)
		if e.Payload.Size != nil {
			size = *e.Payload.Size
		}
		payload, err := payloadOf(GitHubEventPayload{SourceAPI, e.Type, e.Repo.Name, e.Repo.ID, e.Payload.Action, ref, e.Payload.RefType, size, e.Public, e.CreatedAt.UTC().Format(time.RFC3339)})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataGitHubEvent, ExternalID: e.ID, OccurredAt: occurred(e.CreatedAt, p), Payload: payload})
	}
	next := gitHubNextPage(resp.header.Get("Link"))
	if next == 0 || reachedKnown {
		last := cur.LastID
		if cur.RunLastID != "" && (last == "" || newerID(cur.RunLastID, last)) {
			last = cur.RunLastID
		}
		page.Cursor = cursorOf(gitHubEventsCursor{Login: cur.Login, ETag: cur.RunETag, LastID: last})
		return page, nil
	}
	cur.Page = next
	page.More = true
	page.Cursor = cursorOf(cur)
	return page, nil
}

// gitHubListCursor: Since is the newest pushed_at (repos) or starred_at
// (stars) of the last complete run; a run stops at the first item not newer.
// During a run Page is the next page and RunNewest becomes Since at its end.
type gitHubListCursor struct {
	Since     time.Time `json:"since,omitzero"`
	Page      int       `json:"page,omitempty"`
	RunNewest time.Time `json:"run_newest,omitzero"`
}

// gitHubRepo is the repository object fields twinme keeps (GET /user/repos,
// GET /user/starred):
//
//	{"id":1296269,"name":"Hello-World","full_name":"octocat/Hello-World","owner":{"login":"octocat",…},
//	 "private":false,"html_url":"…","description":"This your first repo!","fork":false,"language":"Go",
//	 "topics":["octocat","api"],"stargazers_count":80,"forks_count":9,"archived":false,
//	 "created_at":"2011-01-26T19:01:12Z","updated_at":"…","pushed_at":"2011-01-26T19:06:43Z"}
type gitHubRepo struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Owner    struct {
		Login string `json:"login"`
	} `json:"owner"`
	Private     bool       `json:"private"`
	HTMLURL     string     `json:"html_url"`
	Description string     `json:"description"`
	Fork        bool       `json:"fork"`
	Archived    bool       `json:"archived"`
	Language    string     `json:"language"`
	Topics      []string   `json:"topics"`
	Stars       int        `json:"stargazers_count"`
	Forks       int        `json:"forks_count"`
	CreatedAt   time.Time  `json:"created_at"`
	PushedAt    *time.Time `json:"pushed_at"`
}

// lastPush is pushed_at, or created_at for a repository never pushed to.
func (r gitHubRepo) lastPush() time.Time {
	if r.PushedAt != nil && !r.PushedAt.IsZero() {
		return r.PushedAt.UTC()
	}
	return r.CreatedAt.UTC()
}

// gitHubRepos reads GET /user/repos?per_page=100&sort=pushed&direction=desc
// (most recently pushed first) and, for each repository pushed since the
// last run, GET /repos/{owner}/{repo}/languages → {"C":78769,"Python":7769}
// (bytes of code per language). Pagination follows the Link header; at most
// GitHubReposPerRun repositories (one page) per run.
func gitHubRepos(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur gitHubListCursor
	ok := readCursor(raw, &cur)
	pageNo := max(cur.Page, 1)
	u := withQuery(p.Endpoints.APIBaseURL, "/user/repos", url.Values{
		"per_page": {strconv.Itoa(GitHubReposPerRun)}, "page": {strconv.Itoa(pageNo)}, "sort": {"pushed"}, "direction": {"desc"},
	})
	var repos []gitHubRepo
	resp, err := p.getInto(ctx, client, u, token, gitHubHeaders(), &repos)
	if err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok}
	reachedKnown := false
	for _, r := range repos {
		pushed := r.lastPush()
		if !cur.Since.IsZero() && !pushed.After(cur.Since) {
			reachedKnown = true
			break
		}
		if pushed.After(cur.RunNewest) {
			cur.RunNewest = pushed
		}
		langs := map[string]int64{}
		lu := p.Endpoints.APIBaseURL + "/repos/" + url.PathEscape(r.Owner.Login) + "/" + url.PathEscape(r.Name) + "/languages"
		if _, err := p.getInto(ctx, client, lu, token, gitHubHeaders(), &langs); err != nil {
			return Page{}, fmt.Errorf("languages of %s: %w", r.FullName, err)
		}
		payload, err := payloadOf(GitHubRepoPayload{SourceAPI, r.FullName, r.Private, r.Fork, r.Archived, r.Description, r.Language, langs, nonNil(r.Topics),
			r.Stars, r.Forks, r.CreatedAt.UTC().Format(time.RFC3339), pushed.Format(time.RFC3339), r.HTMLURL})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataGitHubRepo, ExternalID: strconv.FormatInt(r.ID, 10), OccurredAt: pushed, Payload: payload})
	}
	next := gitHubNextPage(resp.header.Get("Link"))
	if next == 0 || reachedKnown {
		since := cur.Since
		if cur.RunNewest.After(since) {
			since = cur.RunNewest
		}
		page.Cursor = cursorOf(gitHubListCursor{Since: since})
		return page, nil
	}
	// The per-run bound: the rest waits for the next run.
	cur.Page = next
	page.Cursor = cursorOf(cur)
	return page, nil
}

// gitHubStarred reads GET /user/starred?per_page=100&page= with
// Accept: application/vnd.github.star+json, which wraps each repository
// with the time it was starred:
//
//	[{"starred_at":"2011-01-16T19:06:43Z","repo":{…repository…}}]
//
// The default order is by star time, newest first, so a run stops at the
// newest star of the previous run. Unstarring is not seen.
func gitHubStarred(ctx context.Context, client *http.Client, p Provider, token string, raw json.RawMessage) (Page, error) {
	var cur gitHubListCursor
	ok := readCursor(raw, &cur)
	pageNo := max(cur.Page, 1)
	u := withQuery(p.Endpoints.APIBaseURL, "/user/starred", url.Values{"per_page": {"100"}, "page": {strconv.Itoa(pageNo)}})
	var stars []struct {
		StarredAt time.Time  `json:"starred_at"`
		Repo      gitHubRepo `json:"repo"`
	}
	resp, err := p.getInto(ctx, client, u, token, gitHubHeaders("Accept", "application/vnd.github.star+json"), &stars)
	if err != nil {
		return Page{}, err
	}
	page := Page{Reset: !ok}
	reachedKnown := false
	for _, s := range stars {
		if s.Repo.ID == 0 {
			continue
		}
		at := s.StarredAt.UTC()
		if !cur.Since.IsZero() && !at.After(cur.Since) {
			reachedKnown = true
			break
		}
		if at.After(cur.RunNewest) {
			cur.RunNewest = at
		}
		r := s.Repo
		payload, err := payloadOf(GitHubStarPayload{SourceAPI, r.FullName, r.Description, r.Language, nonNil(r.Topics), r.Stars, at.Format(time.RFC3339), r.HTMLURL})
		if err != nil {
			return Page{}, err
		}
		page.Items = append(page.Items, Item{DataType: DataGitHubStar, ExternalID: strconv.FormatInt(r.ID, 10), OccurredAt: occurred(at, p), Payload: payload})
	}
	next := gitHubNextPage(resp.header.Get("Link"))
	if next == 0 || reachedKnown {
		since := cur.Since
		if cur.RunNewest.After(since) {
			since = cur.RunNewest
		}
		page.Cursor = cursorOf(gitHubListCursor{Since: since})
		return page, nil
	}
	cur.Page = next
	page.More = true
	page.Cursor = cursorOf(cur)
	return page, nil
}
