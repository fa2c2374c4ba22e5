package gorillaws

import (
	"net/http"
	"net/url"
	"strings"
)

// OriginChecker returns a CheckOrigin function that lets a websocket open
// when the request
//   - has no Origin header (a non-browser client: browsers always send one),
//   - comes from the same host it was sent to (Origin host == Host header), or
//   - has an Origin equal to an entry of allowed: scheme, host and port, such
//     as "https://app.twin.me" or "chrome-extension://abc". Case, a trailing
//     slash and a default port (":443" for https) do not matter. "*" allows
//     any origin.
//
// Everything else is refused, including the "null" origin of sandboxed pages
// and requests carrying several Origin headers.
func OriginChecker(allowed []string) func(*http.Request) bool {
	anyOrigin := false
	exact := make(map[string]struct{}, len(allowed))
	for _, a := range allowed {
		a = strings.TrimSpace(a)
		switch a {
		case "":
		case "*":
			anyOrigin = true
		default:
			exact[normalizeOrigin(a)] = struct{}{}
		}
	}
	return func(r *http.Request) bool {
		origins := r.Header.Values("Origin")
		switch {
		case len(origins) == 0:
			return true
		case anyOrigin:
			return true
		case len(origins) > 1:
			return false
		}
		origin := normalizeOrigin(origins[0])
		if _, ok := exact[origin]; ok {
			return true
		}
		return sameHost(origin, r.Host)
	}
}

// normalizeOrigin reduces an origin to lower-case scheme://host[:port]
// without a default port. Something that is not scheme://host (such as
// "null") is only lower-cased, so it can match an allow-list entry verbatim
// but never a host.
func normalizeOrigin(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return s
	}
	return u.Scheme + "://" + stripDefaultPort(u.Scheme, u.Host)
}

// sameHost reports whether a normalised origin names the host the request
// was sent to. The scheme is not compared: behind a TLS-terminating proxy the
// server cannot tell it.
func sameHost(origin, requestHost string) bool {
	scheme, host, ok := strings.Cut(origin, "://")
	if !ok || host == "" || requestHost == "" {
		return false
	}
	return host == stripDefaultPort(scheme, strings.ToLower(requestHost))
}

func stripDefaultPort(scheme, host string) string {
	switch scheme {
	case "http", "ws":
		return strings.TrimSuffix(host, ":80")
	case "https", "wss":
		return strings.TrimSuffix(host, ":443")
	}
	return host
}
