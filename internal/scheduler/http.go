package scheduler

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"path"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/store"
)

// HTTPHandler serves POST /api/cron/{job} for external schedulers (a
// Kubernetes CronJob, a hosted cron service) with
// "Authorization: Bearer <secret>".
//
//   - secret "" → 503 {"error":"disabled"}: the triggers are never open.
//   - missing or wrong bearer token → 401 (compared in constant time).
//   - unknown job → 404 with the list of known jobs.
//   - a run that finished (success, or skipped because one is already
//     going) → 200 with the execution as JSON; a failed or timed-out run →
//     500 with the execution, so the external scheduler sees the failure.
//
// The job name is the {job} path value, or else the last path segment.
func (s *Scheduler) HTTPHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret == "" {
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{
				"error":   "disabled",
				"message": "cron triggers are disabled: no cron secret is configured",
			})
			return
		}
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method_not_allowed", "message": "use POST"})
			return
		}
		if !auth.BearerMatches(r.Header.Get("Authorization"), secret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="twinme-cron"`)
			writeJSON(w, http.StatusUnauthorized, map[string]any{
				"error":   "unauthorized",
				"message": "a valid Authorization: Bearer <cron secret> header is required",
			})
			return
		}
		name := r.PathValue("job")
		if name == "" {
			name = path.Base(r.URL.Path)
		}
		ex, err := s.RunNow(r.Context(), name, store.TriggerHTTP)
		switch {
		case err == nil:
		case apperr.Is(err, apperr.BadUserInput):
			writeJSON(w, http.StatusNotFound, map[string]any{
				"error":      "unknown_job",
				"message":    apperr.MessageOf(err),
				"known_jobs": s.JobNames(),
			})
			return
		case r.Context().Err() != nil:
			return // the caller went away; the run goes on and is recorded
		default:
			s.log.Warn("scheduler: HTTP trigger could not run the job", slog.String("job", name), slog.Any("error", err))
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "unavailable", "message": apperr.MessageOf(err)})
			return
		}
		code := http.StatusOK
		if ex.Status.Failed() {
			code = http.StatusInternalServerError
		}
		writeJSON(w, code, ex)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
