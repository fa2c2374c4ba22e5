package store

import "context"

// OAuthStateByHash returns the pending authorization whose state hashes to
// stateHash, used or not, or NOT_FOUND. The connect callback reads it to
// learn whose authorization it is before consuming it.
func (db *DB) OAuthStateByHash(ctx context.Context, stateHash string) (*OAuthState, error) {
	s := new(OAuthState)
	if err := db.NewSelect().Model(s).Where("state = ?", stateHash).Scan(ctx); err != nil {
		return nil, notFound(err, "authorization request")
	}
	return s, nil
}
