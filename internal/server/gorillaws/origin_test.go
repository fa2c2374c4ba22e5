package gorillaws_test

import (
	"net/http/httptest"
	"testing"

	"github.com/twinme/twinme/internal/server/gorillaws"
)

func TestOriginChecker(t *testing.T) {
	allowList := []string{" https://App.Twin.me/ ", "chrome-extension://abc", "http://localhost:5173", "https://admin.twin.me:443", ""}
	tests := []struct {
		name    string
		allowed []string
		host    string   // request Host
		origins []string // Origin headers sent
		want    bool
	}{
		{"no Origin header", allowList, "api.twin.me", nil, true},
		{"same origin", allowList, "api.twin.me", []string{"https://api.twin.me"}, true},
		{"same origin with port", allowList, "localhost:8080", []string{"http://localhost:8080"}, true},
		{"same host, other port", allowList, "localhost:8080", []string{"http://localhost:9090"}, false},
		{"same origin, default port in Host", allowList, "api.twin.me:443", []string{"https://api.twin.me"}, true},
		{"same origin, case differs", allowList, "API.twin.me", []string{"https://api.TWIN.me"}, true},
		{"listed (entry has case, spaces, slash)", allowList, "api.twin.me", []string{"https://app.twin.me"}, true},
		{"listed with default port in entry", allowList, "api.twin.me", []string{"https://admin.twin.me"}, true},
		{"listed extension", allowList, "api.twin.me", []string{"chrome-extension://abc"}, true},
		{"listed dev server", allowList, "api.twin.me", []string{"http://localhost:5173"}, true},
		{"listed host, other scheme", allowList, "api.twin.me", []string{"http://app.twin.me"}, false},
		{"listed host, other port", allowList, "api.twin.me", []string{"https://app.twin.me:8443"}, false},
		{"suffix of a listed host", allowList, "api.twin.me", []string{"https://evilapp.twin.me"}, false},
		{"listed host as a prefix", allowList, "api.twin.me", []string{"https://app.twin.me.evil.example"}, false},
		{"other extension", allowList, "api.twin.me", []string{"chrome-extension://xyz"}, false},
		{"cross origin", allowList, "api.twin.me", []string{"https://evil.example"}, false},
		{"null origin", allowList, "api.twin.me", []string{"null"}, false},
		{"empty Origin", allowList, "api.twin.me", []string{""}, false},
		{"garbage Origin", allowList, "api.twin.me", []string{"%%%"}, false},
		{"two Origin headers", allowList, "api.twin.me", []string{"https://app.twin.me", "https://evil.example"}, false},
		{"empty allow-list still allows same origin", nil, "api.twin.me", []string{"https://api.twin.me"}, true},
		{"empty allow-list refuses cross origin", nil, "api.twin.me", []string{"https://app.twin.me"}, false},
		{"wildcard", []string{"*"}, "api.twin.me", []string{"https://evil.example"}, true},
		{"wildcard allows null", []string{"*"}, "api.twin.me", []string{"null"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "http://"+tt.host+"/graphql", nil)
			r.Host = tt.host
			for _, o := range tt.origins {
				r.Header.Add("Origin", o)
			}
			if got := gorillaws.OriginChecker(tt.allowed)(r); got != tt.want {
				t.Fatalf("OriginChecker(%q) with Host %q, Origin %q = %v, want %v", tt.allowed, tt.host, tt.origins, got, tt.want)
			}
		})
	}
}
