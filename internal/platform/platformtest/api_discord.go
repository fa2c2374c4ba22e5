package platformtest

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
)

// DiscordGuild is a guild the person is in.
type DiscordGuild struct {
	ID, Name string
	Owner    bool
	Members  int
}

// DiscordAPI serves GET /api/v10/users/@me/guilds.
type DiscordAPI struct {
	recorder
	mu     sync.Mutex
	guilds []DiscordGuild
}

// ServeDiscordAPI registers the endpoint on f with n guilds.
func ServeDiscordAPI(f *Fake, n int) *DiscordAPI {
	a := &DiscordAPI{}
	for i := range n {
		a.guilds = append(a.guilds, DiscordGuildNo(i))
	}
	f.HandleAPI(http.MethodGet, "/api/v10/users/@me/guilds", a.myGuilds)
	return a
}

// DiscordGuildNo is guild number i of a made-up list.
func DiscordGuildNo(i int) DiscordGuild {
	return DiscordGuild{ID: strconv.FormatInt(80351110224678912+int64(i)*1000, 10), Name: fmt.Sprintf("Guild %d", i), Owner: i == 0, Members: 100 + i}
}

// Join adds a guild.
func (a *DiscordAPI) Join(g DiscordGuild) {
	a.mu.Lock()
	a.guilds = append(a.guilds, g)
	a.mu.Unlock()
}

// myGuilds answers GET /users/@me/guilds?before&after&limit(1..200, default 200)&with_counts
// (discord-api-docs resources/user.mdx, "Get Current User Guilds"): partial
// guilds ordered by id,
//
//	[{"id":"80351110224678912","name":"1337 Krew","icon":"8342729096ea3675442027381ff50dfe",
//	  "banner":"bb42bdc37653b7cf58c4c8cc622e76cb","owner":true,"permissions":"36953089",
//	  "features":["COMMUNITY","NEWS"],"approximate_member_count":3268,"approximate_presence_count":784}]
//
// The counts only with with_counts=true.
func (a *DiscordAPI) myGuilds(w http.ResponseWriter, r *http.Request) {
	a.record(r)
	q := r.URL.Query()
	limit := 200
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			writeJSON(w, 400, map[string]any{"code": 50035, "message": "Invalid Form Body", "errors": map[string]any{"limit": map[string]any{}}})
			return
		}
		limit = n
	}
	a.mu.Lock()
	guilds := append([]DiscordGuild(nil), a.guilds...)
	a.mu.Unlock()
	body := []any{}
	for i, g := range guilds {
		if i >= limit {
			break
		}
		perms := "104324673"
		if g.Owner {
			perms = "2251799813685247"
		}
		m := map[string]any{"id": g.ID, "name": g.Name, "icon": "8342729096ea3675442027381ff50dfe", "banner": nil,
			"owner": g.Owner, "permissions": perms, "features": []string{"COMMUNITY"}}
		if q.Get("with_counts") == "true" {
			m["approximate_member_count"] = g.Members
			m["approximate_presence_count"] = g.Members/3 + len(a.Requests())
		}
		body = append(body, m)
	}
	writeJSON(w, 200, body)
}
