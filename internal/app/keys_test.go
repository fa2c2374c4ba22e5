package app_test

import (
	"context"
	"testing"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/secret"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/store/storetest"
)

func TestKeyRotationReencryptsTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, d store.Dialect) {
		k1, k2 := secret.GenerateKeySpec(), secret.GenerateKeySpec()
		f := newFake(t, platform.GitHub)
		env := withFake(map[string]string{"TWINME_DATABASE_URL": storetest.URL(t, d), "TWINME_ENCRYPTION_KEYS": k1}, platform.GitHub, f)
		e := newEnv(t, d, env)
		u, tok := e.user("rot@example.com", false)
		e.connect(tok, platform.GitHub, f)
		cs, _ := e.app.DB.ListConnections(context.Background(), u.ID)
		before := cs[0]
		want, err := e.app.Tokens.Tokens(&before)
		if err != nil {
			t.Fatal(err)
		}

		// New key first, old one kept: rotate.
		env["TWINME_ENCRYPTION_KEYS"] = k2 + "," + k1
		e2 := newEnv(t, d, env)
		res, err := e2.app.Tokens.RotateKeys(context.Background())
		if err != nil || res.Rotated != 1 || res.Skipped != 0 {
			t.Fatalf("rotate: %+v %v", res, err)
		}
		again, _ := e2.app.Tokens.RotateKeys(context.Background())
		if again.Rotated != 0 {
			t.Fatalf("second rotation re-encrypted %d", again.Rotated)
		}

		// Old key gone: tokens still open.
		env["TWINME_ENCRYPTION_KEYS"] = k2
		e3 := newEnv(t, d, env)
		after, err := e3.app.DB.ConnectionByID(context.Background(), before.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e3.app.Tokens.Tokens(after)
		if err != nil || got.AccessToken != want.AccessToken || after.AccessTokenEnc == before.AccessTokenEnc {
			t.Fatalf("after rotation: err=%v same=%v", err, got.AccessToken == want.AccessToken)
		}
	})
}
