package ingest

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/ingest/importer"
	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/store"
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	// ObserverRetention is how long behaviour events are kept (default
	// observe.DefaultRetention); older ones are rejected on arrival and
	// deleted by ApplyObserverRetention.
	ObserverRetention time.Duration
	// ImportBatchSize is the number of records upserted per statement
	// batch during imports (default 1000).
	ImportBatchSize int
	// ImportLimits bound what one import may read (zero fields: the
	// importer's defaults).
	ImportLimits importer.Limits
	// Analysis is told when an import or an observer batch stored new
	// data (nil: nobody is).
	Analysis events.AnalysisTrigger
	Clock    clockwork.Clock
	Logger   *slog.Logger
}

// Service imports data exports, records the extension's events and reads
// back what twinme holds. It is safe for concurrent use.
type Service struct {
	db    *store.DB
	opts  Options
	clock clockwork.Clock
	log   *slog.Logger
}

// New returns the ingest service over db.
func New(db *store.DB, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ImportBatchSize <= 0 {
		opts.ImportBatchSize = 1000
	}
	return &Service{db: db, opts: opts, clock: opts.Clock, log: opts.Logger}
}

// dataChanged tells the analysis hook that userID has new data.
func (s *Service) dataChanged(ctx context.Context, userID, source string) {
	if s.opts.Analysis != nil {
		s.opts.Analysis.DataChanged(ctx, userID, source)
	}
}

// count adds n to a fleet counter; counting never fails the work counted.
func (s *Service) count(ctx context.Context, name, label string, n int64) {
	if err := s.db.BumpCounter(context.WithoutCancel(ctx), name, label, n, s.clock.Now()); err != nil {
		s.log.Warn("ingest: count", slog.String("counter", name), slog.Any("error", err))
	}
}

// DataItem is one stored item as the owner sees it.
type DataItem struct {
	ID          string
	DataType    string
	ExternalID  string
	OccurredAt  time.Time
	Payload     json.RawMessage
	Source      string
	FirstSeenAt time.Time
	UpdatedAt   time.Time
}

// Cursor is the item's keyset position.
func (it DataItem) Cursor() domain.Cursor { return domain.Cursor{Time: it.OccurredAt, ID: it.ID} }

// DataPage is one page of PlatformData.
type DataPage = domain.Page[DataItem]

// Page sizes of PlatformData.
const (
	DefaultDataPage = 50
	MaxDataPage     = 200
)

// PlatformData lists what twinme holds of userID's platform (one data type,
// or all when dataType is ""), newest first, first items after the opaque
// cursor after. Only the owner's data is ever read: userID must come from
// the authenticated viewer.
//
// Errors: BAD_USER_INPUT for an unknown platform, a bad first or cursor.
func (s *Service) PlatformData(ctx context.Context, userID string, p platform.ID, dataType string, first *int, after string) (DataPage, error) {
	id, err := platform.Parse(string(p))
	if err != nil {
		return DataPage{}, err
	}
	n, err := domain.PageSize(first, DefaultDataPage, MaxDataPage)
	if err != nil {
		return DataPage{}, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return DataPage{}, err
	}
	rows, err := s.db.ListPlatformData(ctx, userID, string(id), dataType, cur, n+1)
	if err != nil {
		return DataPage{}, err
	}
	items := make([]DataItem, len(rows))
	for i, r := range rows {
		items[i] = DataItem{
			ID: r.ID, DataType: r.DataType, ExternalID: r.ExternalID, OccurredAt: r.OccurredAt,
			Payload: json.RawMessage(r.Payload), Source: r.Source, FirstSeenAt: r.FirstSeenAt, UpdatedAt: r.UpdatedAt,
		}
	}
	return domain.NewPage(items, n, DataItem.Cursor), nil
}

// DeleteData erases everything userID holds of platform and its stream
// cursors (disconnect with deleteData; fits connect.FlowOptions.DeleteData).
func (s *Service) DeleteData(ctx context.Context, userID, platformName string) (int64, error) {
	n, err := s.db.DeletePlatformData(ctx, userID, platformName)
	if err != nil {
		return 0, err
	}
	s.log.Info("ingest: deleted platform data", slog.String("platform", platformName), slog.Int64("items", n))
	return n, nil
}
