package server

import (
	"net/http"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/console"
)

// Handlers are the HTTP handlers of the domain packages; internal/app
// builds them, routes decides where they are served.
type Handlers struct {
	GraphQL        http.Handler       // graph.NewHandler (HTTP and websocket)
	Console        *console.Handler   // admin console and playground; nil: none
	Google         *auth.GoogleSignIn // nil: Google sign-in not configured
	OAuthCallback  http.Handler       // connect.Flow.Callback
	ExportDownload http.Handler       // export.Service.DownloadHandler
	ObserverEvents http.Handler       // ingest.Service.ObserverHandler
	CronTrigger    http.Handler       // scheduler.Scheduler.HTTPHandler
	Metrics        http.Handler       // Prometheus; nil when on TWINME_METRICS_LISTEN
}

// route is one line of the routing table: pattern ("METHOD /path", no
// method: every method), handler, and the middleware of that route alone.
type route struct {
	pattern string
	handler http.Handler
	mws     []func(http.Handler) http.Handler
}

func serve(mux *http.ServeMux, routes ...route) *http.ServeMux {
	for _, r := range routes {
		mux.Handle(r.pattern, chain(r.handler, r.mws...))
	}
	return mux
}

// routes is every route of the public listener, in the order of a
// request's path through it.
//
// Every request: request id, access log, panic recovery, body limit; then
// either a self-authenticated route (it checks its own bearer secret, so the
// secret is never taken for an API token), or a user route: CORS,
// authentication (bearer token or session cookie), CSRF, metrics, then the
// route's own middleware: its rate-limit bucket (api: per user or address;
// ingest: the browser extension's).
func (s *Server) routes() http.Handler {
	o, h := s.opts, s.opts.Handlers
	api := withRateLimit(o.Limits.API, o.Log)
	ingest := withRateLimit(o.Limits.Ingest, o.Log)
	mws := func(m ...func(http.Handler) http.Handler) []func(http.Handler) http.Handler { return m }

	user := serve(http.NewServeMux(),
		route{"/graphql", h.GraphQL, mws(api, s.endWithServer)}, // GET, POST, websocket upgrade
		route{"GET /api/health", http.HandlerFunc(s.health), nil},
		route{"POST /auth/logout", http.HandlerFunc(s.logout), nil},
		route{"GET /auth/google/start", googleStep(h.Google, (*auth.GoogleSignIn).Start), mws(googleLimit(h.Google, api))},
		route{"GET /auth/google/callback", googleStep(h.Google, (*auth.GoogleSignIn).Callback), mws(googleLimit(h.Google, api))},
		route{"GET /oauth/{platform}/callback", h.OAuthCallback, mws(api)},
		route{"GET /api/exports/{id}", h.ExportDownload, mws(api)},
		route{"POST /api/observer/events", h.ObserverEvents, mws(ingest)},
		route{"/", http.HandlerFunc(rootOrNotFound), nil}, // GET / → /admin; any other path 404
	)
	if h.Console != nil {
		// The page holds no data: /graphql decides what each viewer sees,
		// so it is served to everyone and signs the operator in.
		serve(user,
			route{"GET /admin", http.HandlerFunc(h.Console.Page), nil},
			route{"GET /playground", http.HandlerFunc(h.Console.Page), nil},
			route{"GET /admin/assets/{path...}", http.HandlerFunc(h.Console.Assets), nil},
		)
	}

	// Metrics read the route pattern from the request the matching mux
	// routed, so they wrap each mux (or self-authenticated handler).
	selfAuth := mws(o.Metrics.Middleware)
	root := serve(http.NewServeMux(),
		route{"/", user, mws(withCORS(o.Config.CORSOrigins), withAuth(o.Auth, o.Limits.AuthFailures, o.Config.SecureCookies(), o.Log), withCSRF, o.Metrics.Middleware)},
		route{"/api/cron/{job}", h.CronTrigger, selfAuth}, // POST, Bearer TWINME_CRON_SECRET
	)
	if h.Metrics != nil {
		serve(root, route{"GET /metrics", h.Metrics, selfAuth}) // Bearer TWINME_METRICS_TOKEN when set
	}
	return chain(root,
		withRequestID,
		withAccessLog(o.Log),
		withRecover(o.Log),
		withBodyLimit(o.Config.MaxBodyBytes, o.MaxUploadBytes),
	)
}

// MetricsRoutes is the only route of the private metrics listener
// (TWINME_METRICS_LISTEN): the public one then has no /metrics at all.
func MetricsRoutes(metrics http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", metrics)
	return mux
}

// googleStep is a step of Google sign-in, or 404 NOT_CONFIGURED when
// sign-in is not configured.
func googleStep(g *auth.GoogleSignIn, step func(*auth.GoogleSignIn, http.ResponseWriter, *http.Request)) http.Handler {
	if g == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			apperr.WriteJSON(w, http.StatusNotFound, apperr.NotConfigured, "Google sign-in is not configured (set TWINME_GOOGLE_CLIENT_ID and TWINME_GOOGLE_CLIENT_SECRET)")
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { step(g, w, r) })
}

// googleLimit is limit for configured sign-in; the NOT_CONFIGURED answer
// is not counted.
func googleLimit(g *auth.GoogleSignIn, limit func(http.Handler) http.Handler) func(http.Handler) http.Handler {
	if g == nil {
		return func(h http.Handler) http.Handler { return h }
	}
	return limit
}

// rootOrNotFound sends GET / to the admin console and answers 404 JSON for
// every path no route matched.
func rootOrNotFound(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/" {
		http.Redirect(w, r, "/admin", http.StatusFound)
		return
	}
	apperr.WriteJSON(w, http.StatusNotFound, apperr.NotFound, "no such endpoint: "+r.URL.Path)
}
