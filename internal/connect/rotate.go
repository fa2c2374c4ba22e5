package connect

import (
	"context"
	"fmt"
)

// RotationResult counts what RotateKeys did: connections, then pending
// OAuth states (their sealed PKCE verifiers).
type RotationResult struct {
	Checked, Rotated, Skipped                   int
	StatesChecked, StatesRotated, StatesSkipped int
}

// RotateKeys re-encrypts every sealed value that is not under the current
// key (`twinme keys rotate`): the tokens of every connection and the PKCE
// verifiers of pending connect flows — everything the keyring seals. Once
// it reports nothing skipped, old keys can leave TWINME_ENCRYPTION_KEYS. A
// row changed meanwhile is skipped (run again).
func (m *Manager) RotateKeys(ctx context.Context) (RotationResult, error) {
	res, err := m.rotateConnections(ctx)
	if err != nil {
		return res, err
	}
	return res, m.rotateStates(ctx, &res)
}

// rotateStates re-seals pending OAuth states' PKCE verifiers (bound to the
// state hash, as Flow.Start sealed them).
func (m *Manager) rotateStates(ctx context.Context, res *RotationResult) error {
	after := ""
	for {
		page, err := m.db.PendingOAuthStatesAfter(ctx, after, 500)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, st := range page {
			after = st.StateHash
			res.StatesChecked++
			if !m.keys.NeedsRotation(st.PKCEVerifierEnc) {
				continue
			}
			v, err := m.keys.DecryptString(st.PKCEVerifierEnc, st.StateHash)
			if err != nil {
				return fmt.Errorf("connect: rotate oauth state: %w", err)
			}
			enc, err := m.keys.EncryptString(v, st.StateHash)
			if err != nil {
				return fmt.Errorf("connect: rotate oauth state: %w", err)
			}
			ok, err := m.db.ReplaceVerifierCiphertext(ctx, st.StateHash, st.PKCEVerifierEnc, enc)
			if err != nil {
				return err
			}
			if ok {
				res.StatesRotated++
			} else {
				res.StatesSkipped++
			}
		}
	}
}

func (m *Manager) rotateConnections(ctx context.Context) (RotationResult, error) {
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
