// Package console serves the admin console: GraphiQL and everything it
// needs, embedded in the binary at pinned versions (assets/vendor, see
// refresh-assets.sh), so it works on a machine without internet, under a
// strict Content-Security-Policy (scripts and styles only from this
// server, no inline script, no eval).
//
// The page itself holds no data and needs no sign-in: every query goes to
// /graphql, which enforces who may see what. The console asks /graphql who
// the browser is (session cookie); without a session it shows a sign-in
// page: Google (when configured) or an API token pasted by the operator.
// A pasted token lives in a JavaScript variable only — never in the URL,
// in storage or in a cookie — and travels in the Authorization header of
// HTTP requests and in connection_init of the subscription websocket.
package console

import (
	"bytes"
	"crypto/sha512"
	"embed"
	"encoding/base64"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Options configure the console.
type Options struct {
	// Endpoint is the GraphQL path (HTTP and websocket), e.g. "/graphql".
	Endpoint string
	// GoogleSignIn offers "Sign in with Google" (GET /auth/google/start).
	GoogleSignIn bool
	// Environment is shown in the header ("development", "production").
	Environment string
}

// CSP is the Content-Security-Policy of the console page: nothing but this
// origin, no inline script, no eval, no framing. Inline style attributes
// are allowed ('unsafe-inline' in style-src) because GraphiQL's editors
// position elements with them; scripts stay strict.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Handler serves the console page at "/admin" (and any alias path routed to
// it) and its assets under "/admin/assets/".
type Handler struct {
	opts      Options
	page      []byte
	files     fs.FS
	integrity map[string]string
	modTime   time.Time
}

var pageTemplate = template.Must(template.New("console").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>twinme admin console</title>
<link rel="stylesheet" href="/admin/assets/vendor/graphiql.min.css" integrity="{{index .SRI "vendor/graphiql.min.css"}}">
<link rel="stylesheet" href="/admin/assets/console.css" integrity="{{index .SRI "console.css"}}">
</head>
<body data-endpoint="{{.Endpoint}}" data-google="{{.Google}}" data-environment="{{.Environment}}">
<header id="bar">
  <strong>twinme admin console</strong> <span id="env">{{.Environment}}</span>
  <span id="who"></span>
  <button id="forget" type="button" hidden>Forget token</button>
</header>
<main id="signin" hidden>
  <h1>Sign in to the admin console</h1>
  <p id="signin-note"></p>
  <p id="google" hidden><a id="google-link" href="/auth/google/start?return=/admin">Sign in with Google</a></p>
  <form id="token-form" autocomplete="off">
    <label for="token">or paste an API token (kept in this page's memory only; reloading forgets it)</label>
    <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required>
    <button id="use-token" type="submit">Use token</button>
  </form>
  <p><button id="anonymous" type="button">Continue without signing in</button></p>
</main>
<div id="graphiql" hidden></div>
<noscript>The admin console needs JavaScript.</noscript>
<script src="/admin/assets/vendor/react.production.min.js" integrity="{{index .SRI "vendor/react.production.min.js"}}"></script>
<script src="/admin/assets/vendor/react-dom.production.min.js" integrity="{{index .SRI "vendor/react-dom.production.min.js"}}"></script>
<script src="/admin/assets/vendor/graphql-ws.min.js" integrity="{{index .SRI "vendor/graphql-ws.min.js"}}"></script>
<script src="/admin/assets/vendor/graphiql.min.js" integrity="{{index .SRI "vendor/graphiql.min.js"}}"></script>
<script src="/admin/assets/console.js" integrity="{{index .SRI "console.js"}}"></script>
</body>
</html>
`))

// New builds the console handler. It computes Subresource Integrity hashes
// of the embedded files once.
func New(opts Options) (*Handler, error) {
	if opts.Endpoint == "" {
		opts.Endpoint = "/graphql"
	}
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		return nil, err
	}
	h := &Handler{opts: opts, files: files, integrity: map[string]string{}, modTime: time.Now()}
	err = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, p)
		if err != nil {
			return err
		}
		sum := sha512.Sum384(b)
		h.integrity[p] = "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
		return nil
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = pageTemplate.Execute(&buf, map[string]any{
		"Endpoint": opts.Endpoint, "Google": opts.GoogleSignIn, "Environment": opts.Environment, "SRI": h.integrity,
	})
	if err != nil {
		return nil, err
	}
	h.page = buf.Bytes()
	return h, nil
}

func securityHeaders(w http.ResponseWriter) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", CSP)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// Page serves the console page.
func (h *Handler) Page(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(h.page)
}

// Assets serves GET /admin/assets/{path...}: embedded files only, cached
// for a day (their integrity hashes are in the page, which is never cached).
func (h *Handler) Assets(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(path.Clean(r.PathValue("path")), "/")
	if _, ok := h.integrity[p]; !ok {
		securityHeaders(w)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	b, err := fs.ReadFile(h.files, p)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	securityHeaders(w)
	w.Header().Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(w, r, path.Base(p), h.modTime, bytes.NewReader(b))
}
