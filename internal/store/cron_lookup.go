package store

import (
	"context"

	"github.com/twinme/twinme/internal/domain"
)

// CronExecutionByID returns execution id, or NOT_FOUND.
func (db *DB) CronExecutionByID(ctx context.Context, id string) (*CronExecution, error) {
	e := new(CronExecution)
	if err := db.NewSelect().Model(e).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, notFound(err, "cron execution")
	}
	return e, nil
}

// ConnectionHealth is the number of connections per platform and status
// (scanned by column name: platform, status, count).
type ConnectionHealth = domain.ConnectionHealth

// CountConnectionsByPlatformStatus groups every connection by platform and
// status (served by the (platform, status) index).
func (db *DB) CountConnectionsByPlatformStatus(ctx context.Context) ([]ConnectionHealth, error) {
	var out []ConnectionHealth
	err := db.NewSelect().Model((*Connection)(nil)).
		Column("platform", "status").ColumnExpr("COUNT(*) AS count").
		Group("platform", "status").OrderExpr("platform, status").Scan(ctx, &out)
	return out, err
}
