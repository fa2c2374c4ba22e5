package graph

import (
	"context"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/graph/generated"
	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/retention"
	"github.com/twinme/twinme/internal/store"
)

func (r *Resolver) DataExport() generated.DataExportResolver { return &dataExportResolver{r} }
func (r *Resolver) TwinAccess() generated.TwinAccessResolver { return &twinAccessResolver{r} }

type dataExportResolver struct{ *Resolver }
type twinAccessResolver struct{ *Resolver }

func (r *queryResolver) DataExports(ctx context.Context) ([]store.DataExport, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Exports.List(ctx, v.User.ID)
}

func (r *mutationResolver) RequestDataExport(ctx context.Context) (*model.RequestedDataExport, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	req, err := r.Exports.Request(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	return &model.RequestedDataExport{Export: req.Export, DownloadURL: req.URL}, nil
}

func (r *subscriptionResolver) DataExportReady(ctx context.Context) (<-chan *store.DataExport, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: export.TopicReady, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*store.DataExport, bool) {
		id, ok := eventID(e)
		if !ok {
			return nil, false
		}
		x, err := r.Exports.Get(ctx, userID, id)
		return x, err == nil
	}), nil
}

func (r *dataExportResolver) Status(ctx context.Context, obj *store.DataExport) (model.DataExportStatus, error) {
	s := model.DataExportStatus(strings.ToUpper(obj.Status))
	if !s.IsValid() {
		return "", apperr.New(apperr.Internal, "export %s has unknown status %q", obj.ID, obj.Status)
	}
	return s, nil
}

func (r *dataExportResolver) ItemsDone(ctx context.Context, obj *store.DataExport) (int, error) {
	return int(obj.ItemsDone), nil
}

func (r *dataExportResolver) ItemsTotal(ctx context.Context, obj *store.DataExport) (int, error) {
	return int(obj.ItemsTotal), nil
}

func (r *dataExportResolver) Progress(ctx context.Context, obj *store.DataExport) (float64, error) {
	switch {
	case obj.Status == store.ExportReady || obj.Status == store.ExportDownloaded:
		return 1, nil
	case obj.ItemsTotal <= 0:
		return 0, nil
	}
	return min(1, float64(obj.ItemsDone)/float64(obj.ItemsTotal)), nil
}

func (r *dataExportResolver) SizeBytes(ctx context.Context, obj *store.DataExport) (*int, error) {
	if obj.Status != store.ExportReady && obj.Status != store.ExportDownloaded {
		return nil, nil
	}
	n := int(obj.SizeBytes)
	return &n, nil
}

func (r *dataExportResolver) Error(ctx context.Context, obj *store.DataExport) (*string, error) {
	return optString(obj.ErrorMessage), nil
}

func (r *mutationResolver) ImportDataExport(ctx context.Context, file graphql.Upload) (*model.DataImportResult, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	res, err := r.ArchiveImport.ImportArchive(ctx, v.User.ID, uploadReaderAt(file), file.Size, nil)
	if err != nil {
		return nil, err
	}
	return dataImportResult(res), nil
}

// importArchive imports an upload given to importData that is a twinme
// export archive (ok false when it is not one).
func (r *mutationResolver) importArchive(ctx context.Context, userID string, file graphql.Upload) (*model.ImportResult, bool, error) {
	if !strings.HasSuffix(strings.ToLower(file.Filename), ".zip") || !export.IsArchive(uploadReaderAt(file), file.Size) {
		return nil, false, nil
	}
	res, err := r.ArchiveImport.ImportArchive(ctx, userID, uploadReaderAt(file), file.Size, nil)
	if err != nil {
		return nil, true, err
	}
	out := &model.ImportResult{Imported: int(res.Imported), Duplicate: int(res.Duplicate), Files: []model.ImportFileResult{}, Ignored: []string{}}
	for _, f := range res.Files {
		out.Skipped += int(f.Skipped)
		out.Files = append(out.Files, model.ImportFileResult{Name: f.Name, Format: export.Format, Read: int(f.Records),
			Imported: int(f.Imported), Duplicate: int(f.Duplicate), Skipped: int(f.Skipped), Rejections: []model.ImportRejection{}})
	}
	return out, true, nil
}

func uploadReaderAt(u graphql.Upload) io.ReaderAt {
	if ra, ok := u.File.(io.ReaderAt); ok {
		return ra
	}
	return &seekReaderAt{rs: u.File}
}

func dataImportResult(res export.ImportResult) *model.DataImportResult {
	out := &model.DataImportResult{Imported: int(res.Imported), Duplicate: int(res.Duplicate), Files: []model.DataImportFile{}}
	for _, f := range res.Files {
		out.Files = append(out.Files, model.DataImportFile{Name: f.Name, Records: int(f.Records), Imported: int(f.Imported), Duplicate: int(f.Duplicate), Skipped: int(f.Skipped)})
	}
	return out
}

func (r *queryResolver) TwinAccessLog(ctx context.Context, first *int, after *string, shareLink *string) (*model.TwinAccessConnection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	page, err := r.AccessLog.List(ctx, v.User.ID, deref(shareLink), first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.TwinAccessConnection{Edges: make([]model.TwinAccessEdge, 0, len(page.Entries))}
	for _, e := range page.Entries {
		conn.Edges = append(conn.Edges, model.TwinAccessEdge{Node: e, Cursor: e.Cursor().Encode()})
	}
	conn.PageInfo.HasNextPage = page.HasNextPage
	if page.EndCursor != "" {
		conn.PageInfo.EndCursor = &page.EndCursor
	}
	return conn, nil
}

func (r *subscriptionResolver) TwinAccessed(ctx context.Context) (<-chan *store.AccessLogEntry, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: accesslog.TopicAccessed, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*store.AccessLogEntry, bool) {
		id, ok := eventID(e)
		if !ok {
			return nil, false
		}
		x, err := r.AccessLog.Entry(ctx, userID, id)
		return x, err == nil
	}), nil
}

func (r *twinAccessResolver) Audience(ctx context.Context, obj *store.AccessLogEntry) (model.Audience, error) {
	return audienceEnum(obj.Audience), nil
}

func (r *twinAccessResolver) Kind(ctx context.Context, obj *store.AccessLogEntry) (model.TwinAccessKind, error) {
	k := model.TwinAccessKind(strings.ToUpper(obj.Kind))
	if !k.IsValid() {
		return "", apperr.New(apperr.Internal, "access log entry %s has unknown kind %q", obj.ID, obj.Kind)
	}
	return k, nil
}

func (r *twinAccessResolver) Client(ctx context.Context, obj *store.AccessLogEntry) (string, error) {
	return obj.UserAgentFamily, nil
}

func (r *mutationResolver) DeleteShareLink(ctx context.Context, id string) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if err := r.DB.DeleteShareLink(ctx, v.User.ID, id); err != nil {
		return false, err
	}
	return true, nil
}

func (r *queryResolver) Retention(ctx context.Context) ([]model.RetentionSetting, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	ss, err := r.Retentions.Settings(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	out := make([]model.RetentionSetting, 0, len(ss))
	for _, s := range ss {
		out = append(out, retentionModel(s))
	}
	return out, nil
}

func (r *mutationResolver) SetRetention(ctx context.Context, p *model.Platform, days *int) (*model.RetentionSetting, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	source := retention.Observer
	if p != nil {
		id, err := platformID(*p)
		if err != nil {
			return nil, err
		}
		source = string(id)
	}
	s, err := r.Retentions.Set(ctx, v.User.ID, source, days)
	if err != nil {
		return nil, err
	}
	m := retentionModel(s)
	return &m, nil
}

func retentionModel(s retention.Setting) model.RetentionSetting {
	m := model.RetentionSetting{Days: s.Days, DefaultDays: s.DefaultDays}
	if s.Source != retention.Observer {
		p := model.Platform(platform.ID(s.Source).Enum())
		m.Platform = &p
	}
	return m
}
