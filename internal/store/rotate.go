package store

import (
	"context"
	"fmt"
)

// ConnectionsAfterID pages through every connection ordered by id, for
// maintenance that must visit all rows (key rotation).
func (db *DB) ConnectionsAfterID(ctx context.Context, afterID string, limit int) ([]Connection, error) {
	var cs []Connection
	if err := db.NewSelect().Model(&cs).Where("id > ?", afterID).OrderExpr("id ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("store: list connections: %w", err)
	}
	return cs, nil
}

// ReplaceTokenCiphertexts swaps connection id's ciphertexts for ones under
// another key, only if they are still the ones read (a refresh in between
// wins and the row is visited again next time). It reports whether it wrote.
func (db *DB) ReplaceTokenCiphertexts(ctx context.Context, id, oldAccess, newAccess string, oldRefresh, newRefresh *string) (bool, error) {
	q := db.NewUpdate().Model((*Connection)(nil)).
		Set("access_token_enc = ?", newAccess).
		Set("refresh_token_enc = ?", newRefresh).
		Where("id = ? AND access_token_enc = ?", id, oldAccess)
	if oldRefresh == nil {
		q = q.Where("refresh_token_enc IS NULL")
	} else {
		q = q.Where("refresh_token_enc = ?", *oldRefresh)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store: replace token ciphertexts: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
