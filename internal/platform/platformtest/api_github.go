package platformtest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// GitHubEvent is one event in the fake's timeline.
type GitHubEvent struct {
	ID        int64
	Type      string
	Repo      string
	CreatedAt time.Time
}

// GitHubRepo is one of the person's repositories.
type GitHubRepo struct {
	ID        int64
	Name      string // without the owner
	Language  string
	Languages map[string]int64
	CreatedAt time.Time
	PushedAt  time.Time
}

// GitHubStar is a starred repository.
type GitHubStar struct {
	RepoID    int64
	FullName  string
	StarredAt time.Time
}

// GitHubAPI serves the REST endpoints the GitHub streams read:
// /users/{login}/events, /user/repos, /repos/{owner}/{repo}/languages and
// /user/starred, with ETags, X-Poll-Interval, Link pagination and the
// x-ratelimit-* headers.
type GitHubAPI struct {
	recorder
	f  *Fake
	mu sync.Mutex
	// PollInterval is what X-Poll-Interval says (seconds).
	PollInterval int
	events       []GitHubEvent // any order; answers sort newest first
	repos        []GitHubRepo
	stars        []GitHubStar
	remaining    int
	reset        time.Time
	clock        time.Time // advances with every item added
}

// GitHubStart is when the fake's seeded activity begins.
var GitHubStart = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// ServeGitHubAPI registers the endpoints on f with nEvents events, nRepos
// repositories and nStars stars, and a rate limit of 5,000 requests.
func ServeGitHubAPI(f *Fake, nEvents, nRepos, nStars int) *GitHubAPI {
	a := &GitHubAPI{f: f, PollInterval: 60, remaining: 5000, reset: time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC), clock: GitHubStart}
	for range nRepos {
		a.addRepoLocked()
	}
	for range nEvents {
		a.addEventLocked("PushEvent")
	}
	for range nStars {
		a.addStarLocked()
	}
	f.HandleAPI(http.MethodGet, "/users/{login}/events", a.limited(a.userEvents))
	f.HandleAPI(http.MethodGet, "/user/repos", a.limited(a.userRepos))
	f.HandleAPI(http.MethodGet, "/repos/{owner}/{repo}/languages", a.limited(a.languages))
	f.HandleAPI(http.MethodGet, "/user/starred", a.limited(a.starred))
	return a
}

func (a *GitHubAPI) tick() time.Time {
	a.clock = a.clock.Add(time.Hour)
	return a.clock
}

func (a *GitHubAPI) addEventLocked(typ string) GitHubEvent {
	repo := "octocat/Hello-World"
	if len(a.repos) > 0 {
		repo = "octocat/" + a.repos[len(a.events)%len(a.repos)].Name
	}
	e := GitHubEvent{ID: 22249084947 + int64(len(a.events))*13, Type: typ, Repo: repo, CreatedAt: a.tick()}
	a.events = append(a.events, e)
	return e
}

func (a *GitHubAPI) addRepoLocked() GitHubRepo {
	i := len(a.repos)
	lang := []string{"Go", "Python", "TypeScript", "Rust"}[i%4]
	at := a.tick()
	r := GitHubRepo{ID: 1296269 + int64(i), Name: fmt.Sprintf("project-%03d", i), Language: lang,
		Languages: map[string]int64{lang: int64(10000 + i), "Shell": 120}, CreatedAt: at, PushedAt: at}
	a.repos = append(a.repos, r)
	return r
}

func (a *GitHubAPI) addStarLocked() GitHubStar {
	i := len(a.stars)
	s := GitHubStar{RepoID: 9000000 + int64(i), FullName: fmt.Sprintf("someone/starred-%03d", i), StarredAt: a.tick()}
	a.stars = append(a.stars, s)
	return s
}

// AddEvents adds n events of type typ (newer than all others).
func (a *GitHubAPI) AddEvents(n int, typ string) []GitHubEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []GitHubEvent
	for range n {
		out = append(out, a.addEventLocked(typ))
	}
	return out
}

// AddRepo creates a repository.
func (a *GitHubAPI) AddRepo() GitHubRepo {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addRepoLocked()
}

// Push records a push to repository number i (its pushed_at moves on and it
// gains some Go).
func (a *GitHubAPI) Push(i int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.repos[i].PushedAt = a.tick()
	a.repos[i].Languages["Go"] += 500
}

// Star stars a repository.
func (a *GitHubAPI) Star() GitHubStar {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.addStarLocked()
}

// SetRateLimitRemaining sets x-ratelimit-remaining; at 0 every call fails
// with the primary rate limit's 403 until it is raised again.
func (a *GitHubAPI) SetRateLimitRemaining(n int) {
	a.mu.Lock()
	a.remaining = n
	a.mu.Unlock()
}

// RateLimitReset is the x-ratelimit-reset the fake reports.
func (a *GitHubAPI) RateLimitReset() time.Time { return a.reset }

// limited records the request, writes the rate-limit headers and answers
// the primary rate limit's error when it is used up:
//
//	403 x-ratelimit-remaining: 0, x-ratelimit-reset: <epoch s>
//	{"message":"API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for help, please include the request ID …",
//	 "documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api","status":"403"}
//
// A 304 does not count against the limit.
func (a *GitHubAPI) limited(h func(w http.ResponseWriter, r *http.Request) int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a.record(r)
		a.mu.Lock()
		remaining := a.remaining
		a.mu.Unlock()
		hd := w.Header()
		hd.Set("X-Ratelimit-Limit", "5000")
		hd.Set("X-Ratelimit-Reset", strconv.FormatInt(a.reset.Unix(), 10))
		hd.Set("X-Ratelimit-Resource", "core")
		if remaining <= 0 {
			hd.Set("X-Ratelimit-Remaining", "0")
			hd.Set("X-Ratelimit-Used", "5000")
			writeJSON(w, 403, map[string]string{
				"message":           "API rate limit exceeded for user ID 583231. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
				"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api", "status": "403",
			})
			return
		}
		hd.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining-1))
		hd.Set("X-Ratelimit-Used", strconv.Itoa(5000-remaining+1))
		// Handlers write the status themselves and say which it was.
		if status := h(w, r); status != http.StatusNotModified {
			a.mu.Lock()
			a.remaining--
			a.mu.Unlock()
		}
	}
}

// gitHubPage cuts n items into pages (per_page default 30, max 100) and
// sets the Link header; ok false after a 422.
func gitHubPage(w http.ResponseWriter, r *http.Request, n int) (from, to int, ok bool) {
	q := r.URL.Query()
	per, page := 30, 1
	if v := q.Get("per_page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			writeJSON(w, 422, map[string]string{"message": "Validation Failed", "status": "422"})
			return 0, 0, false
		}
		per = min(p, 100)
	}
	if v := q.Get("page"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 {
			p = 1
		}
		page = p
	}
	from = min((page-1)*per, n)
	to = min(from+per, n)
	last := max((n+per-1)/per, 1)
	link := func(p int, rel string) string {
		u := *r.URL
		u.Scheme, u.Host = "http", r.Host
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		return "<" + u.String() + `>; rel="` + rel + `"`
	}
	var links []string
	if page < last {
		links = append(links, link(page+1, "next"), link(last, "last"))
	}
	if page > 1 {
		links = append(links, link(1, "first"), link(page-1, "prev"))
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return from, to, true
}

// userEvents answers GET /users/{login}/events?per_page&page (docs.github.com
// rest/activity/events):
//
//	200 ETag: "a18c3bded88eb5dbb5c849a489412bf3", X-Poll-Interval: 60
//	[{"id":"22249084947","type":"PushEvent","actor":{"id":583231,"login":"octocat","display_login":"octocat",…},
//	  "repo":{"id":1296269,"name":"octocat/Hello-World","url":"https://api.github.com/repos/octocat/Hello-World"},
//	  "payload":{"repository_id":1296269,"push_id":10115855396,"size":1,"distinct_size":1,"ref":"refs/heads/master",
//	  "head":"7a8f3ac80e2ad2f6842cb86f576d4bfe2c03e300","before":"883efe034920928c47fe18598c01249d1a9fdabd","commits":[…]},
//	  "public":true,"created_at":"2022-06-09T12:47:28Z"}]
//
// With If-None-Match equal to the current ETag: 304 with X-Poll-Interval and
// no body. At most 300 events; an unknown login is a 404.
func (a *GitHubAPI) userEvents(w http.ResponseWriter, r *http.Request) int {
	if !strings.EqualFold(r.PathValue("login"), a.f.Identity().Username) {
		writeJSON(w, 404, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/activity/events#list-events-for-the-authenticated-user", "status": "404"})
		return 404
	}
	a.mu.Lock()
	events := append([]GitHubEvent(nil), a.events...)
	a.mu.Unlock()
	sort.Slice(events, func(i, j int) bool { return events[i].ID > events[j].ID })
	if len(events) > 300 {
		events = events[:300]
	}
	w.Header().Set("X-Poll-Interval", strconv.Itoa(a.PollInterval))
	from, to, ok := gitHubPage(w, r, len(events))
	if !ok {
		return 422
	}
	var body []any
	for _, e := range events[from:to] {
		body = append(body, map[string]any{
			"id": strconv.FormatInt(e.ID, 10), "type": e.Type,
			"actor": map[string]any{"id": 583231, "login": "octocat", "display_login": "octocat"},
			"repo":  map[string]any{"id": 1296269, "name": e.Repo, "url": "https://api.github.com/repos/" + e.Repo},
			"payload": map[string]any{"repository_id": 1296269, "push_id": e.ID, "size": 2, "distinct_size": 2, "ref": "refs/heads/main",
				"head": "7a8f3ac80e2ad2f6842cb86f576d4bfe2c03e300", "before": "883efe034920928c47fe18598c01249d1a9fdabd",
				"commits": []any{map[string]any{"sha": "7a8f3ac8", "message": "Fix all the things", "distinct": true}, map[string]any{"sha": "883efe03", "message": "WIP", "distinct": true}}},
			"public": true, "created_at": e.CreatedAt.Format(time.RFC3339),
		})
	}
	if body == nil {
		body = []any{}
	}
	raw, _ := json.Marshal(body)
	sum := sha256.Sum256(append(raw, r.URL.Query().Get("page")...))
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return http.StatusNotModified
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(200)
	w.Write(raw)
	return 200
}

func (a *GitHubAPI) repoJSON(r GitHubRepo, owner string) map[string]any {
	full := owner + "/" + r.Name
	return map[string]any{
		"id": r.ID, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": r.Name, "full_name": full,
		"owner":   map[string]any{"login": owner, "id": 583231, "type": "User"},
		"private": false, "html_url": "https://github.com/" + full, "description": "About " + r.Name, "fork": false,
		"language": r.Language, "topics": []string{"twinme"}, "stargazers_count": 80, "watchers_count": 80, "forks_count": 9,
		"archived": false, "default_branch": "main",
		"created_at": r.CreatedAt.Format(time.RFC3339), "updated_at": r.PushedAt.Format(time.RFC3339), "pushed_at": r.PushedAt.Format(time.RFC3339),
	}
}

// userRepos answers GET /user/repos?per_page&page&sort=created|updated|pushed|full_name&direction
// with repository objects (see repoJSON), paginated by Link. Default order:
// full_name ascending; other sorts default to descending.
func (a *GitHubAPI) userRepos(w http.ResponseWriter, r *http.Request) int {
	a.mu.Lock()
	repos := append([]GitHubRepo(nil), a.repos...)
	a.mu.Unlock()
	q := r.URL.Query()
	sortBy, dir := q.Get("sort"), q.Get("direction")
	if sortBy == "" {
		sortBy = "full_name"
	}
	if dir == "" {
		dir = map[bool]string{true: "asc", false: "desc"}[sortBy == "full_name"]
	}
	sort.SliceStable(repos, func(i, j int) bool {
		x, y := repos[i], repos[j]
		if dir == "desc" {
			x, y = y, x
		}
		switch sortBy {
		case "pushed", "updated":
			return x.PushedAt.Before(y.PushedAt)
		case "created":
			return x.CreatedAt.Before(y.CreatedAt)
		default:
			return x.Name < y.Name
		}
	})
	from, to, ok := gitHubPage(w, r, len(repos))
	if !ok {
		return 422
	}
	owner := a.f.Identity().Username
	body := []any{}
	for _, rp := range repos[from:to] {
		body = append(body, a.repoJSON(rp, owner))
	}
	writeJSON(w, 200, body)
	return 200
}

// languages answers GET /repos/{owner}/{repo}/languages → {"C":78769,"Python":7769}
// (bytes of code per language); 404 for an unknown repository.
func (a *GitHubAPI) languages(w http.ResponseWriter, r *http.Request) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, rp := range a.repos {
		if rp.Name == r.PathValue("repo") && r.PathValue("owner") == a.f.Identity().Username {
			writeJSON(w, 200, rp.Languages)
			return 200
		}
	}
	writeJSON(w, 404, map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest/repos/repos#list-repository-languages", "status": "404"})
	return 404
}

// starred answers GET /user/starred?per_page&page (sort=created, newest
// first by default). With Accept: application/vnd.github.star+json each
// element is {"starred_at":"2011-01-16T19:06:43Z","repo":{…repository…}};
// otherwise the bare repository.
func (a *GitHubAPI) starred(w http.ResponseWriter, r *http.Request) int {
	a.mu.Lock()
	stars := append([]GitHubStar(nil), a.stars...)
	a.mu.Unlock()
	sort.Slice(stars, func(i, j int) bool { return stars[i].StarredAt.After(stars[j].StarredAt) })
	from, to, ok := gitHubPage(w, r, len(stars))
	if !ok {
		return 422
	}
	withTime := strings.Contains(r.Header.Get("Accept"), "application/vnd.github.star+json")
	body := []any{}
	for _, s := range stars[from:to] {
		owner, name, _ := strings.Cut(s.FullName, "/")
		repo := a.repoJSON(GitHubRepo{ID: s.RepoID, Name: name, Language: "Go", CreatedAt: GitHubStart, PushedAt: GitHubStart}, owner)
		if withTime {
			body = append(body, map[string]any{"starred_at": s.StarredAt.Format(time.RFC3339), "repo": repo})
		} else {
			body = append(body, repo)
		}
	}
	writeJSON(w, 200, body)
	return 200
}
