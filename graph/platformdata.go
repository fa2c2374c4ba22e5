package graph

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/ingest/observe"
)

func (r *queryResolver) PlatformData(ctx context.Context, p domain.Platform, dataType *string, first *int, after *string) (*model.PlatformDataConnection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	page, err := r.Ingest.PlatformData(ctx, v.User.ID, p, deref(dataType), first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.PlatformDataConnection{}
	conn.Edges, conn.PageInfo = relay(page, func(it ingest.DataItem, c string) model.PlatformDataEdge {
		return model.PlatformDataEdge{Node: it, Cursor: c}
	})
	return conn, nil
}

func (r *queryResolver) Observation(ctx context.Context) (*domain.ObserverSettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Ingest.ObserverSettings(ctx, v.User.ID)
	return &s, err
}

func (r *mutationResolver) SetObservation(ctx context.Context, enabled bool, fullPaths *bool) (*domain.ObserverSettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Ingest.SetObservation(ctx, v.User.ID, enabled, fullPaths)
	return &s, err
}

func (r *mutationResolver) SyncNow(ctx context.Context, p domain.Platform) (*model.SyncResult, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	res, err := r.Sync.Sync(ctx, v.User.ID, p)
	if err != nil {
		return nil, err
	}
	out := &model.SyncResult{Platform: p, Outcome: string(res.Outcome), Fetched: res.Fetched, Streams: []model.SyncStreamResult{}, Error: optString(res.Error)}
	if !res.NextSyncAt.IsZero() {
		t := res.NextSyncAt
		out.NextSyncAt = &t
	}
	for _, s := range res.Streams {
		out.Streams = append(out.Streams, model.SyncStreamResult{Name: s.Name, Pages: s.Pages, Fetched: s.Fetched, Error: optString(s.Error)})
	}
	return out, nil
}

func (r *mutationResolver) ImportData(ctx context.Context, p domain.Platform, file graphql.Upload) (*model.ImportResult, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	// A twinme export archive (from this or another instance) is merged
	// whole, whatever platform was named.
	if res, ok, err := r.importArchive(ctx, v.User.ID, file); ok {
		return res, err
	}
	files, err := uploadFiles(file)
	if err != nil {
		return nil, err
	}
	res, err := r.Ingest.ImportFiles(ctx, v.User.ID, p, files, nil)
	// Once any file was stored the answer is the per-file result, never a
	// top-level error (gqlgen would null the field and hide what was
	// stored): each failed file carries its code and message. With nothing
	// stored, the error says why (every file's message, or that the
	// archive held nothing for the platform).
	if err != nil && !res.Succeeded() {
		return nil, err
	}
	if err != nil && !apperr.Is(err, apperr.BadUserInput) && !apperr.Is(err, apperr.Cancelled) {
		r.Log.ErrorContext(ctx, "graph: importData stopped after storing some files", slog.Any("error", err))
	}
	return importResult(res), nil
}

// uploadFiles turns an upload (JSON file or zip archive) into importer files.
func uploadFiles(u graphql.Upload) ([]importer.File, error) {
	if strings.HasSuffix(strings.ToLower(u.Filename), ".zip") {
		ra, ok := u.File.(io.ReaderAt)
		if !ok {
			ra = &seekReaderAt{rs: u.File}
		}
		return importer.FilesFromZip(ra, u.Size)
	}
	used := false
	return []importer.File{{Name: u.Filename, Size: u.Size, Open: func() (io.ReadCloser, error) {
		if used {
			if s, ok := u.File.(io.Seeker); ok {
				if _, err := s.Seek(0, io.SeekStart); err != nil {
					return nil, err
				}
			}
		}
		used = true
		return io.NopCloser(u.File), nil
	}}}, nil
}

func importResult(res ingest.ImportResult) *model.ImportResult {
	out := &model.ImportResult{Imported: res.Imported, Duplicate: res.Duplicate, Rejected: res.Rejected, Skipped: res.Skipped, Files: []model.ImportFileResult{}, Ignored: []string{}}
	for _, f := range res.Files {
		fr := model.ImportFileResult{Name: f.Name, Format: f.Format, Read: f.Read, Imported: f.Imported, Duplicate: f.Duplicate, Rejected: f.Rejected, Skipped: f.Skipped, Rejections: []model.ImportRejection{}, Error: optString(f.Error), ErrorCode: optString(string(f.ErrorCode))}
		for _, rj := range f.Rejections {
			fr.Rejections = append(fr.Rejections, model.ImportRejection{Record: rj.Record, Reason: rj.Reason})
		}
		out.Files = append(out.Files, fr)
	}
	for _, ig := range res.Ignored {
		out.Ignored = append(out.Ignored, ig.Name)
	}
	return out
}

func (r *mutationResolver) RecordObserverEvents(ctx context.Context, evs []model.ObserverEventInput) (*model.RecordObserverEventsResult, error) {
	v, err := auth.Require(ctx, auth.ScopeObserverWrite)
	if err != nil {
		return nil, err
	}
	raw := make([]observe.RawEvent, len(evs))
	for i, e := range evs {
		raw[i] = observe.RawEvent{ClientEventID: e.ClientEventID, Type: e.Type, OccurredAt: e.OccurredAt, URL: deref(e.URL), Data: json.RawMessage(e.Data),
			UTCOffsetMinutes: e.UtcOffsetMinutes}
	}
	accepted, rejected, err := r.Ingest.RecordEvents(ctx, v.User.ID, raw)
	if err != nil {
		return nil, err
	}
	out := &model.RecordObserverEventsResult{Accepted: accepted, Rejected: []model.ObserverRejection{}}
	for _, rj := range rejected {
		out.Rejected = append(out.Rejected, model.ObserverRejection{Index: rj.Index, ClientEventID: rj.ClientEventID, Reason: rj.Reason})
	}
	return out, nil
}

func (r *subscriptionResolver) SyncProgress(ctx context.Context, p *domain.Platform) (<-chan *model.SyncProgress, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	key := ""
	if p != nil {
		key = string(*p)
	}
	f := events.Filter{Topic: events.SyncProgress, UserID: v.User.ID, Key: key}
	return share(ctx, r.Views, f, "", func(_ context.Context, e events.Event) (*model.SyncProgress, bool) {
		var sp ingest.SyncProgress
		if json.Unmarshal(e.Payload, &sp) != nil {
			return nil, false
		}
		return &model.SyncProgress{
			Platform: sp.Platform, Stream: optString(sp.Stream),
			Items: sp.Items, Stored: sp.Stored, Done: sp.Done, Failed: sp.Failed, Error: optString(sp.Error),
		}, true
	}), nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// seekReaderAt reads at offsets of an upload that can only seek (gqlgen keeps
// small uploads in memory behind a reader without ReadAt).
type seekReaderAt struct {
	mu sync.Mutex
	rs io.ReadSeeker
}

func (s *seekReaderAt) ReadAt(p []byte, off int64) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.rs.Seek(off, io.SeekStart); err != nil {
		return 0, err
	}
	return io.ReadFull(s.rs, p)
}
