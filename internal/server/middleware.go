package server

import (
	"bufio"
	"bytes"
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/ingest/observe"
	"github.com/twinme/twinme/internal/logx"
	"github.com/twinme/twinme/internal/ratelimit"
)

var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a sane X-Request-ID from the client or makes one.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDPattern.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(logx.WithRequestID(r.Context(), id)))
	})
}

// statusWriter records the status and size of a response. It passes
// Hijack and Flush through for websockets and streaming.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status != 0 {
		return
	}
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Hijack hands the connection to the websocket upgrader; gorilla looks for
// http.Hijacker on the writer itself.
func (s *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := s.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("server: response writer cannot hijack")
	}
	s.status = http.StatusSwitchingProtocols
	return h.Hijack()
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusWriter) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// withAccessLog logs one line per request: never headers, cookies, tokens
// or query strings.
func withAccessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			sw := &statusWriter{ResponseWriter: w}
			var viewerID string
			r = r.WithContext(withViewerSlot(r.Context(), &viewerID))
			next.ServeHTTP(sw, r)
			d := time.Since(start)
			if sw.status == 0 {
				sw.status = http.StatusSwitchingProtocols
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", sw.status), slog.Int64("bytes", sw.bytes),
				slog.Duration("duration", d), slog.String("remote", clientIP(r)),
			}
			if viewerID != "" {
				attrs = append(attrs, slog.String("user_id", viewerID))
			}
			log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
		})
	}
}

// withRecover turns a handler panic into a 500 with a JSON body.
func withRecover(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			defer func() {
				if p := recover(); p != nil {
					if p == http.ErrAbortHandler {
						panic(p)
					}
					log.ErrorContext(r.Context(), "http: panic", slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
					apperr.WriteJSON(w, http.StatusInternalServerError, apperr.Internal, "internal error (request "+logx.RequestID(r.Context())+")")
				}
			}()
			next.ServeHTTP(w, r)
		})
	}
}

// withCORS answers preflights and sets CORS headers for allowed origins.
func withCORS(allowed []string) func(http.Handler) http.Handler {
	any := slices.Contains(allowed, "*")
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin != "" && (any || slices.Contains(allowed, origin)) {
				h := w.Header()
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
				h.Add("Vary", "Origin")
				h.Set("Access-Control-Expose-Headers", "X-Request-ID, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset")
				if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
					h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
					h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-ID, Apollo-Require-Preflight, X-Requested-With")
					h.Set("Access-Control-Max-Age", "600")
					w.WriteHeader(http.StatusNoContent)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ObserverMaxBodyBytes bounds a browser-extension batch, whatever its
// content type (500 events fit in well under it).
const ObserverMaxBodyBytes = observe.MaxBatchBytes

// observerPath is the browser extension's endpoint.
const observerPath = "/api/observer/events"

// bodyLimitFor is the one body limit of a request, by route: the observer
// endpoint keeps ObserverMaxBodyBytes whatever the content type; a
// multipart request to /graphql (an upload) gets uploadLimit; everything
// else the general limit.
func bodyLimitFor(r *http.Request, limit, uploadLimit int64) int64 {
	switch {
	case r.URL.Path == observerPath:
		return min(limit, ObserverMaxBodyBytes)
	case r.URL.Path == "/graphql" && uploadLimit > limit && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data"):
		return uploadLimit
	}
	return limit
}

// withBodyLimit answers 413 with a JSON body when a request body is larger
// than its route's limit (bodyLimitFor).
func withBodyLimit(limit, uploadLimit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Body == nil || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
				next.ServeHTTP(w, r)
				return
			}
			max := bodyLimitFor(r, limit, uploadLimit)
			tooLarge := func() {
				apperr.WriteJSON(w, http.StatusRequestEntityTooLarge, apperr.BadUserInput, "request body is larger than "+strconv.FormatInt(max, 10)+" bytes")
			}
			if r.ContentLength > max {
				tooLarge()
				return
			}
			if max <= limit {
				// Small bodies are read whole here so an oversized chunked
				// body gets a 413 rather than a parse error further in.
				buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
				if err != nil {
					apperr.WriteJSON(w, http.StatusBadRequest, apperr.BadRequest, "could not read request body")
					return
				}
				if int64(len(buf)) > max {
					tooLarge()
					return
				}
				r.Body = io.NopCloser(bytes.NewReader(buf))
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, max)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// withAuth makes a request a viewer from `Authorization: Bearer` or the
// session cookie. A bearer token that is unknown, expired or revoked is
// refused with 401; a stale cookie is cleared and the request is anonymous.
// Both count as failed authentications of the client address: once an
// address has used up its allowance, every request carrying a credential
// gets 429 until the window ends, so tokens cannot be guessed.
func withAuth(svc *auth.Service, failures *ratelimit.Limiter, secureCookies bool, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if !isUpgrade(r) {
				ctx = auth.WithCookieWriter(ctx, w)
			}
			cookie, _ := r.Cookie(auth.SessionCookie)
			hasCookie := cookie != nil && cookie.Value != ""
			authz := r.Header.Get("Authorization")
			if (authz != "" || hasCookie) && !allowAuthAttempt(w, r, failures, log) {
				return
			}
			if h := authz; h != "" {
				token, ok := auth.BearerToken(h)
				if !ok {
					countAuthFailure(r, failures, log)
					apperr.WriteJSON(w, http.StatusUnauthorized, apperr.Unauthenticated, "Authorization must be \"Bearer <token>\"")
					return
				}
				v, err := svc.AuthenticateToken(ctx, token)
				if err != nil {
					if apperr.CodeOf(err) == apperr.Unauthenticated {
						countAuthFailure(r, failures, log)
						w.Header().Set("WWW-Authenticate", `Bearer realm="twinme", error="invalid_token"`)
						apperr.WriteJSON(w, http.StatusUnauthorized, apperr.Unauthenticated, apperr.MessageOf(err))
						return
					}
					log.ErrorContext(ctx, "auth: authenticate token", slog.Any("error", err))
					apperr.WriteJSON(w, http.StatusServiceUnavailable, apperr.Internal, "authentication is unavailable right now")
					return
				}
				next.ServeHTTP(w, r.WithContext(setViewer(ctx, v)))
				return
			}
			if hasCookie {
				v, err := svc.AuthenticateSession(ctx, cookie.Value)
				switch {
				case err == nil:
					ctx = setViewer(ctx, v)
				case apperr.CodeOf(err) == apperr.Unauthenticated:
					// Counted once: the browser drops the cookie.
					countAuthFailure(r, failures, log)
					http.SetCookie(w, &http.Cookie{Name: auth.SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secureCookies, SameSite: http.SameSiteLaxMode})
				default:
					log.ErrorContext(ctx, "auth: authenticate session", slog.Any("error", err))
				}
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// allowAuthAttempt answers 429 and returns false when the client address
// has used up its failed-authentication allowance.
func allowAuthAttempt(w http.ResponseWriter, r *http.Request, failures *ratelimit.Limiter, log *slog.Logger) bool {
	res, err := failures.Peek(r.Context(), "ip:"+clientIP(r))
	if err != nil {
		log.WarnContext(r.Context(), "ratelimit: failed open", slog.String("bucket", "auth-failure"), slog.Any("error", err))
		return true
	}
	if res.Allowed {
		return true
	}
	tooMany(w, res)
	return false
}

func countAuthFailure(r *http.Request, failures *ratelimit.Limiter, log *slog.Logger) {
	if _, err := failures.Take(r.Context(), "ip:"+clientIP(r)); err != nil {
		log.WarnContext(r.Context(), "ratelimit: count failed authentication", slog.Any("error", err))
	}
}

func tooMany(w http.ResponseWriter, res ratelimit.Result) {
	secs := int64(res.RetryAfter / time.Second)
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
	apperr.WriteJSON(w, http.StatusTooManyRequests, apperr.RateLimited, "too many requests; retry after "+strconv.FormatInt(secs, 10)+" seconds")
}

// CodeCSRF is the code of a request refused as a possible cross-site request forgery.
const CodeCSRF apperr.Code = "CSRF_REFUSED"

// withCSRF refuses a request authenticated by the session cookie whose
// method and content type a browser sends cross-site without a CORS
// preflight (a form post, text/plain, no content type) unless it carries a
// header only a preflighted request can: Apollo-Require-Preflight or
// X-Requested-With. SameSite=Lax does not protect against same-site
// subdomains; the preflight does. Bearer requests are not affected: a
// browser never adds a bearer token on its own.
func withCSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := auth.ViewerFrom(r.Context())
		if v == nil || v.SessionID == "" || r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Apollo-Require-Preflight") != "" || r.Header.Get("X-Requested-With") != "" {
			next.ServeHTTP(w, r)
			return
		}
		mt := strings.ToLower(strings.TrimSpace(strings.Split(r.Header.Get("Content-Type"), ";")[0]))
		switch mt {
		case "", "multipart/form-data", "application/x-www-form-urlencoded", "text/plain":
			apperr.WriteJSON(w, http.StatusBadRequest, CodeCSRF, "a request signed in with the session cookie and sent as "+cmp.Or(mt, "no content type")+" must carry an Apollo-Require-Preflight or X-Requested-With header")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withRateLimit limits requests per user, or per IP when anonymous. A
// websocket upgrade is not counted here: the socket is counted when
// connection_init authenticates it (anonymous ones against the IP), and
// then per operation, like HTTP requests.
func withRateLimit(l *ratelimit.Limiter, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if isUpgrade(r) {
				next.ServeHTTP(w, r)
				return
			}
			key := "ip:" + clientIP(r)
			if v := auth.ViewerFrom(r.Context()); v != nil {
				key = "user:" + v.User.ID
			}
			res, err := l.Take(r.Context(), key)
			if err != nil {
				log.WarnContext(r.Context(), "ratelimit: failed open", slog.Any("error", err))
				next.ServeHTTP(w, r)
				return
			}
			if l.Enabled() {
				h := w.Header()
				h.Set("X-RateLimit-Limit", strconv.FormatInt(res.Limit, 10))
				h.Set("X-RateLimit-Remaining", strconv.FormatInt(res.Remaining, 10))
				h.Set("X-RateLimit-Reset", strconv.FormatInt(res.Reset.Unix(), 10))
			}
			if !res.Allowed {
				tooMany(w, res)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func isUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// ClientIP is the address rate limits count an anonymous client by.
func ClientIP(r *http.Request) string { return clientIP(r) }

// clientIP is the peer address. X-Forwarded-For is deliberately not trusted:
// behind a proxy, configure the proxy to rate-limit, or extend this with a
// trusted-proxy list.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func chain(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
