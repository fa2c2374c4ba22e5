package observe

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

func TestReduceURL(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		domain     string
		full       string // kept with fullPaths
		domainOnly string // kept without fullPaths (always "")
	}{
		{"plain", "https://example.com/a/b", "example.com", "https://example.com/a/b", ""},
		{"query and fragment never kept", "https://mail.example.com/inbox?token=SECRET&q=me%40x.org#msg-42", "mail.example.com", "https://mail.example.com/inbox", ""},
		{"userinfo stripped", "https://alice:hunter2@example.com/private", "example.com", "https://example.com/private", ""},
		{"www removed from domain only", "https://www.YouTube.com/watch?v=cNN_tTXABUA", "youtube.com", "https://www.youtube.com/watch", ""},
		{"upper-case scheme and host", "HTTPS://EXAMPLE.COM/Path", "example.com", "https://example.com/Path", ""},
		{"trailing dot", "https://example.com./", "example.com", "https://example.com/", ""},
		{"empty path", "https://example.com", "example.com", "https://example.com/", ""},
		{"default port dropped", "https://example.com:443/x", "example.com", "https://example.com/x", ""},
		{"http default port dropped", "http://example.com:80/x", "example.com", "http://example.com/x", ""},
		{"other port kept in full URL only", "http://localhost:3000/dev", "localhost", "http://localhost:3000/dev", ""},
		{"leading zeros in port", "http://example.com:08080/", "example.com", "http://example.com:8080/", ""},
		{"port out of range", "http://example.com:70000/", "", "", ""},
		{"IDN in Unicode", "https://Bücher.example/regal", "xn--bcher-kva.example", "https://xn--bcher-kva.example/regal", ""},
		{"IDN already punycode", "https://xn--bcher-kva.example/", "xn--bcher-kva.example", "https://xn--bcher-kva.example/", ""},
		{"full-width IDN mapped", "https://ｅｘａｍｐｌｅ.com/", "example.com", "https://example.com/", ""},
		{"hyphens as in CDN hosts", "https://r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com/videoplayback?expire=1", "r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com", "https://r3---sn-apo3qvuoxuxbt-j5pe.googlevideo.com/videoplayback", ""},
		{"underscore label", "https://my_host.example.com/", "my_host.example.com", "https://my_host.example.com/", ""},
		{"IPv4", "http://192.168.1.10:8080/admin?x=1", "192.168.1.10", "http://192.168.1.10:8080/admin", ""},
		{"IPv6", "http://[2001:DB8::1]/x", "2001:db8::1", "http://[2001:db8::1]/x", ""},
		{"IPv6 with port", "https://[::1]:8443/", "::1", "https://[::1]:8443/", ""},
		{"IPv6 zone dropped", "http://[fe80::1%25eth0]/", "fe80::1", "http://[fe80::1]/", ""},
		{"IPv4-mapped IPv6", "http://[::ffff:10.0.0.1]/", "10.0.0.1", "http://10.0.0.1/", ""},
		{"percent-encoded path kept escaped", "https://example.com/a%20b/%E2%9C%93", "example.com", "https://example.com/a%20b/%E2%9C%93", ""},
		{"encoded ? in path stays encoded", "https://example.com/a%3Fb", "example.com", "https://example.com/a%3Fb", ""},
		{"surrounding space", "  https://example.com/x  ", "example.com", "https://example.com/x", ""},
		{"chrome scheme", "chrome://settings/passwords", "", "", ""},
		{"extension page", "chrome-extension://abcdef/popup.html", "", "", ""},
		{"file URL", "file:///home/alice/taxes-2024.pdf", "", "", ""},
		{"about blank", "about:blank", "", "", ""},
		{"javascript", "javascript:alert(1)", "", "", ""},
		{"data", "data:text/html,<h1>hi</h1>", "", "", ""},
		{"mailto", "mailto:alice@example.com", "", "", ""},
		{"ftp", "ftp://example.com/file", "", "", ""},
		{"opaque http", "http:example.com", "", "", ""},
		{"relative", "/just/a/path", "", "", ""},
		{"schemeless", "example.com/path", "", "", ""},
		{"no host", "https:///path", "", "", ""},
		{"empty", "", "", "", ""},
		{"garbage", "ht!tp://%%%", "", "", ""},
		{"empty label", "https://a..example.com/", "", "", ""},
		{"space in host", "https://exa mple.com/", "", "", ""},
		{"only www", "https://www/", "www", "https://www/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			domain, kept := ReduceURL(tt.raw, true)
			if domain != tt.domain || kept != tt.full {
				t.Errorf("ReduceURL(%q, true) = %q, %q; want %q, %q", tt.raw, domain, kept, tt.domain, tt.full)
			}
			domain, kept = ReduceURL(tt.raw, false)
			if domain != tt.domain || kept != tt.domainOnly {
				t.Errorf("ReduceURL(%q, false) = %q, %q; want %q, %q", tt.raw, domain, kept, tt.domain, tt.domainOnly)
			}
		})
	}
}

func TestReduceURLCutsLongPathsAtASlash(t *testing.T) {
	long := "https://example.com/" + strings.Repeat("segment/", 200) + "end"
	_, kept := ReduceURL(long, true)
	path := strings.TrimPrefix(kept, "https://example.com")
	if len(path) > maxPathBytes || !strings.HasSuffix(path, "/") || !strings.HasPrefix(long, kept) {
		t.Errorf("kept %d bytes %q…", len(kept), kept[:40])
	}
	if d, k := ReduceURL("https://example.com/"+strings.Repeat("a", MaxURLBytes), true); d != "" || k != "" {
		t.Errorf("a URL over MaxURLBytes must be dropped, got %q %q", d, k)
	}
}

// FuzzReduceURL checks the privacy invariants on any input: whatever comes
// in, what goes out has no query, fragment or credentials, and the kept URL
// is an http(s) URL of the same host.
func FuzzReduceURL(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?b#c", "http://user:pw@[::1]:80/x", "https://bücher.example/",
		"chrome://x", "https://a.b/%3F%23", "http://1.2.3.4:65535/", "https://ex.com/?", "https://ex.com/#",
		"https://ex.com\\@evil.com/", "https://ex.com%2F@evil.com/", "http://[fe80::1%25en0]/", "HTTP://WWW.EX.COM",
		"https://xn--/", "https://a/" + strings.Repeat("é/", 600), "http://@/", "https://ex.com/a;b=c",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		domain, kept := ReduceURL(raw, true)
		domainOnly, keptOff := ReduceURL(raw, false)
		if keptOff != "" {
			t.Fatalf("domain-only mode kept %q", keptOff)
		}
		if domainOnly != domain {
			t.Fatalf("domain differs between modes: %q vs %q", domainOnly, domain)
		}
		if domain == "" {
			if kept != "" {
				t.Fatalf("kept %q without a domain", kept)
			}
			return
		}
		if _, err := netip.ParseAddr(domain); err != nil && strings.ContainsAny(domain, "/?#@:[] \t\r\n%") {
			t.Fatalf("domain %q has URL syntax in it", domain)
		}
		if domain != strings.ToLower(domain) {
			t.Fatalf("domain %q is not lower case", domain)
		}
		if strings.ContainsAny(kept, "?#") {
			t.Fatalf("kept %q has a query or fragment", kept)
		}
		u, err := url.Parse(kept)
		if err != nil {
			t.Fatalf("kept %q does not parse: %v", kept, err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			t.Fatalf("kept %q has scheme %q", kept, u.Scheme)
		}
		if u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			t.Fatalf("kept %q has credentials, query or fragment", kept)
		}
		if h := strings.TrimPrefix(u.Hostname(), "www."); h != domain && u.Hostname() != domain {
			t.Fatalf("kept %q has host %q, domain is %q", kept, u.Hostname(), domain)
		}
		if len(u.EscapedPath()) > maxPathBytes {
			t.Fatalf("kept path of %d bytes", len(u.EscapedPath()))
		}
		// Reducing twice changes nothing.
		if d2, k2 := ReduceURL(kept, true); d2 != domain || k2 != kept {
			t.Fatalf("not idempotent: %q → %q, %q → %q, %q", raw, domain, kept, d2, k2)
		}
	})
}
