package connect

import (
	"context"
	"fmt"
)

// RotationResult counts what RotateKeys did.
type RotationResult struct {
	Checked, Rotated, Skipped int
}

// RotateKeys re-encrypts every stored token that is not under the current
// key (`twinme keys rotate`). Once it reports nothing skipped, old keys can
// leave TWINME_ENCRYPTION_KEYS. A row refreshed meanwhile is skipped: its
// new tokens are already under the current key.
func (m *Manager) RotateKeys(ctx context.Context) (RotationResult, error) {
	var res RotationResult
	after := ""
	for {
		page, err := m.db.ConnectionsAfterID(ctx, after, 500)
		if err != nil {
			return res, err
		}
		if len(page) == 0 {
			return res, nil
		}
		for i := range page {
			c := &page[i]
			after = c.ID
			res.Checked++
			stale := c.AccessTokenEnc != "" && m.keys.NeedsRotation(c.AccessTokenEnc)
			if c.RefreshTokenEnc != nil && m.keys.NeedsRotation(*c.RefreshTokenEnc) {
				stale = true
			}
			if !stale {
				continue
			}
			tok, err := m.Tokens(c)
			if err != nil {
				return res, fmt.Errorf("connect: rotate connection %s: %w", c.ID, err)
			}
			sealed, err := m.Seal(c.ID, tok)
			if err != nil {
				return res, err
			}
			if c.AccessTokenEnc == "" {
				sealed.AccessTokenEnc = ""
			}
			ok, err := m.db.ReplaceTokenCiphertexts(ctx, c.ID, c.AccessTokenEnc, sealed.AccessTokenEnc, c.RefreshTokenEnc, sealed.RefreshTokenEnc)
			if err != nil {
				return res, err
			}
			if ok {
				res.Rotated++
			} else {
				res.Skipped++
			}
		}
	}
}
