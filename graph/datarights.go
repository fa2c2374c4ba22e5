package graph

import (
	"context"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/retention"
)

func (r *queryResolver) DataExports(ctx context.Context) ([]domain.DataExport, error) {
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

func (r *subscriptionResolver) DataExportReady(ctx context.Context) (<-chan *domain.DataExport, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: export.TopicReady, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*domain.DataExport, bool) {
		return lookup(ctx, nil, e, "dataExportReady", func(ctx context.Context, id string) (*domain.DataExport, error) {
			return r.Exports.Get(ctx, userID, id)
		})
	}), nil
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
	conn := &model.TwinAccessConnection{}
	conn.Edges, conn.PageInfo = relay(page, func(n domain.AccessLogEntry, c string) model.TwinAccessEdge {
		return model.TwinAccessEdge{Node: n, Cursor: c}
	})
	return conn, nil
}

func (r *subscriptionResolver) TwinAccessed(ctx context.Context) (<-chan *domain.AccessLogEntry, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: accesslog.TopicAccessed, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*domain.AccessLogEntry, bool) {
		return lookup(ctx, nil, e, "twinAccessed", func(ctx context.Context, id string) (*domain.AccessLogEntry, error) {
			return r.AccessLog.Entry(ctx, userID, id)
		})
	}), nil
}

func (r *mutationResolver) DeleteShareLink(ctx context.Context, id string) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Soul.DeleteShareLink(ctx, v.User.ID, id); err != nil {
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

func (r *mutationResolver) SetRetention(ctx context.Context, p *domain.Platform, days *int) (*model.RetentionSetting, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	source := retention.Observer
	if p != nil {
		source = string(*p)
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
		p := domain.Platform(s.Source)
		m.Platform = &p
	}
	return m
}
