package ingest

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/ingest/observe"
)

// ObserverHandler serves POST /api/observer/events for the browser
// extension: a token with the observer:write (or full) scope, a JSON body
// {"events":[…]} of at most 500 events and 1 MiB. The user is the token's,
// never the body's. Valid events are kept and invalid ones listed:
//
//	200 {"accepted":N,"rejected":[{"index":i,"clientEventId":…,"reason":…}]}
func (s *Service) ObserverHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := auth.Require(r.Context(), auth.ScopeObserverWrite)
		if err != nil {
			apperr.WriteHTTP(w, err)
			return
		}
		body, err := decodeObserverBatch(http.MaxBytesReader(w, r.Body, observe.MaxBatchBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				apperr.WriteJSON(w, http.StatusRequestEntityTooLarge, apperr.BadUserInput, "request body is larger than "+strconv.Itoa(observe.MaxBatchBytes)+" bytes")
				return
			}
			apperr.WriteJSON(w, http.StatusBadRequest, apperr.BadRequest, "body must be JSON: {\"events\":[…]}")
			return
		}
		accepted, rejected, err := s.RecordEvents(r.Context(), v.User.ID, body.Events)
		if err != nil {
			if apperr.CodeOf(err) == apperr.Internal {
				s.log.ErrorContext(r.Context(), "observer: record events", slog.Any("error", err))
			}
			apperr.WriteHTTP(w, err)
			return
		}
		type rej struct {
			Index         int    `json:"index"`
			ClientEventID string `json:"clientEventId"`
			Reason        string `json:"reason"`
		}
		out := struct {
			Accepted int   `json:"accepted"`
			Rejected []rej `json:"rejected"`
		}{Accepted: accepted, Rejected: []rej{}}
		for _, x := range rejected {
			out.Rejected = append(out.Rejected, rej{x.Index, x.ClientEventID, x.Reason})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// observerBatch is the extension's request body.
type observerBatch struct {
	Events []observe.RawEvent `json:"events"`
}

// decodeObserverBatch reads one JSON object {"events":[…]} and nothing
// after it.
func decodeObserverBatch(r io.Reader) (observerBatch, error) {
	var body observerBatch
	dec := json.NewDecoder(r)
	if err := dec.Decode(&body); err != nil {
		return body, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return body, errors.New("ingest: data after the batch")
	}
	return body, nil
}
