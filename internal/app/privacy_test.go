package app_test

import (
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/store"
)

// The privacy API as a client drives it: ASSISTANT is an audience with its
// own sliders, clearClusterPrivacy makes an audience follow again, and bad
// names are BAD_USER_INPUT naming the value.
func TestPrivacyAPIAssistantAndClear(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		e := newEnv(t, d, nil)
		_, tok := e.user("ada@example.com", false)
		const sel = `clusters { cluster level damaged audiences { audience level follows } }`
		r := e.gql(tok, `{ privacy { `+sel+` } }`, nil)
		if !strings.Contains(r.Raw, `{"audience":"ASSISTANT","level":50,"follows":true}`) || strings.Contains(r.Raw, `"damaged":"`) {
			t.Fatalf("a new account's privacy: %s", r.Raw)
		}
		// The assistant follows EVERYONE until set.
		r = e.gql(tok, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 10, audience: EVERYONE) { `+sel+` } }`, nil)
		if !strings.Contains(r.Raw, `{"audience":"ASSISTANT","level":10,"follows":true}`) {
			t.Fatalf("assistant after lowering everyone: %s", r.Raw)
		}
		r = e.gql(tok, `mutation { setClusterPrivacy(cluster: PERSONAL, level: 0, audience: ASSISTANT) { `+sel+` } }`, nil)
		if !strings.Contains(r.Raw, `{"audience":"ASSISTANT","level":0,"follows":false}`) {
			t.Fatalf("assistant set: %s", r.Raw)
		}
		r = e.gql(tok, `mutation { clearClusterPrivacy(cluster: PERSONAL, audience: ASSISTANT) { `+sel+` } }`, nil)
		if !strings.Contains(r.Raw, `{"audience":"ASSISTANT","level":10,"follows":true}`) {
			t.Fatalf("assistant cleared: %s", r.Raw)
		}
		r = e.gql(tok, `{ soulSignature(audience: ASSISTANT) { audience insights { title } } }`, nil)
		if len(r.Errors) > 0 || !strings.Contains(r.Raw, `"audience":"ASSISTANT"`) {
			t.Fatalf("assistant preview: %s", r.Raw)
		}

		for name, q := range map[string]string{
			"unknown audience": `mutation($a: Audience!) { clearClusterPrivacy(cluster: PERSONAL, audience: $a) { clusters { level } } }`,
			"unknown cluster":  `mutation($c: LifeCluster!) { clearClusterPrivacy(cluster: $c, audience: DATING) { clusters { level } } }`,
		} {
			r := e.gql(tok, q, map[string]any{"a": "BOSS", "c": "SECRETS"})
			if r.code() != "BAD_USER_INPUT" || !(strings.Contains(r.Raw, "BOSS") || strings.Contains(r.Raw, "SECRETS")) {
				t.Fatalf("%s: %s", name, r.Raw)
			}
		}
		if r := e.gql(tok, `mutation { createShareLink(audience: ASSISTANT) { token } }`, nil); r.code() != "BAD_USER_INPUT" {
			t.Fatalf("a share link for the assistant: %s", r.Raw)
		}
		if r := e.gql(tok, `mutation { setSimilarTwinsOptIn(optIn: true, audience: FRIENDS) }`, nil); len(r.Errors) > 0 {
			t.Fatalf("opt in for friends: %s", r.Raw)
		}
	})
}
