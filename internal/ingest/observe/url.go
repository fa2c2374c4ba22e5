package observe

import (
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// maxPathBytes bounds the path kept for users who opted in to full paths.
const maxPathBytes = 1024

// hostProfile maps host names the way browsers do (UTS #46 non-transitional
// processing, as in the WHATWG URL standard): case folding, width and
// compatibility mapping, punycode for non-ASCII labels. Hyphen placement is
// not checked ("r3---sn-….googlevideo.com" is a real host) and STD3 rules
// are off so "_dmarc"-style labels pass; our own check below still allows
// only letters, digits, '-' and '_' in the result.
var hostProfile = idna.New(
	idna.MapForLookup(),
	idna.Transitional(false),
	idna.BidiRule(),
	idna.CheckHyphens(false),
	idna.StrictDomainName(false),
)

// ReduceURL reduces a page URL to what may be stored.
//
// domain is the host in canonical form: lower-case ASCII, IDNs in punycode
// ("bücher.example" → "xn--bcher-kva.example"), no trailing dot, no port, a
// leading "www." removed so "www.example.com" and "example.com" count as one
// site; IP literals in their canonical text form (IPv6 without brackets or
// zone).
//
// kept is "" unless fullPaths (the user's opt-in); then it is
// scheme://host[:port]/path with the port only when it is not the scheme's
// default and the path cut to 1 KiB at a '/' boundary.
//
// Never kept, in either mode: the query string, the fragment (they carry
// search terms, session tokens, e-mail addresses) and userinfo
// (credentials). Anything that is not an absolute http or https URL with a
// valid host (chrome://, about:blank, file:///home/…, data:, javascript:,
// relative paths, garbage) gives ("", ""): those pages identify the person
// or their machine rather than a site.
func ReduceURL(raw string, fullPaths bool) (domain, kept string) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > MaxURLBytes {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", ""
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", ""
	}
	host, isIPv6, ok := canonicalHost(u.Hostname())
	if !ok {
		return "", ""
	}
	port := 0
	if p := u.Port(); p != "" {
		// url.Parse has checked it is all digits.
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return "", ""
		}
	}
	domain = strings.TrimPrefix(host, "www.")
	if domain == "" || strings.HasPrefix(domain, ".") {
		domain = host
	}
	if !fullPaths {
		return domain, ""
	}

	hostport := host
	if isIPv6 {
		hostport = "[" + host + "]"
	}
	if port != 0 && !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) {
		hostport += ":" + strconv.Itoa(port)
	}
	path := u.EscapedPath()
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	if len(path) > maxPathBytes {
		cut := strings.LastIndexByte(path[:maxPathBytes], '/')
		path = path[:cut+1]
	}
	return domain, scheme + "://" + hostport + path
}

// canonicalHost returns the canonical form of a URL host (already stripped
// of brackets and port by url.URL.Hostname).
func canonicalHost(h string) (host string, isIPv6, ok bool) {
	if h == "" {
		return "", false, false
	}
	if strings.Contains(h, ":") {
		addr, err := netip.ParseAddr(h)
		if err != nil || !addr.Is6() {
			return "", false, false
		}
		addr = addr.WithZone("")
		if addr.Is4In6() {
			return addr.Unmap().String(), false, true
		}
		return addr.String(), true, true
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		return addr.String(), false, true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return "", false, false
	}
	if !utf8.ValidString(h) {
		return "", false, false
	}
	ascii, err := hostProfile.ToASCII(h)
	if err != nil || ascii == "" || len(ascii) > 253 {
		return "", false, false
	}
	// Punycode labels the mapping produced or passed through must decode
	// to valid labels again, or the stored domain would not survive a
	// second reduction.
	if strings.Contains(ascii, "xn--") {
		if again, err := hostProfile.ToASCII(ascii); err != nil || again != ascii {
			return "", false, false
		}
	}
	for _, label := range strings.Split(ascii, ".") {
		if label == "" || len(label) > 63 {
			return "", false, false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", false, false
			}
		}
	}
	return ascii, false, true
}
