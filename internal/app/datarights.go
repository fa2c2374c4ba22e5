package app

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"

	"github.com/twinme/twinme/internal/accesslog"
	"github.com/twinme/twinme/internal/account"
	"github.com/twinme/twinme/internal/export"
	"github.com/twinme/twinme/internal/retention"
	"github.com/twinme/twinme/internal/secret"
)

// buildDataRights wires exports, archive imports, the access log,
// retention and account deletion.
func (a *App) buildDataRights(h hooks) error {
	cfg := a.Config
	salt, err := accessLogSalt(cfg.AccessLogSalt, cfg.EncryptionKeys, cfg.DataDir)
	if err != nil {
		return err
	}
	a.AccessLog = accesslog.New(a.DB, accesslog.Options{Salt: salt, Retention: cfg.AccessLogRetention, Bus: a.Events, Clock: a.Clock, Logger: a.Log})
	a.Exports = export.New(a.DB, export.Options{
		Dir: cfg.ExportDir, PublicURL: cfg.PublicURL, Instance: cfg.Instance, Workers: cfg.ExportWorkers,
		Bus: a.Events, Clock: a.Clock, Logger: a.Log,
	})
	a.ArchiveImport = export.NewImporter(a.DB, a.Clock.Now, h.dataChanged)
	a.Retention = retention.New(a.DB, retention.Options{ObserverDefault: cfg.ObserverRetention, Clock: a.Clock, Logger: a.Log})
	a.Accounts = account.New(account.Deps{
		DB: a.DB, Auth: a.Auth, Connect: a.Connect, DeleteFiles: a.Exports.DeleteUserFiles, Logger: a.Log,
		Forget: h.accountDeleted,
	})
	return nil
}

// accessLogSalt is TWINME_ACCESS_LOG_SALT, or derived from the first
// encryption key (the key file in development), so instances that share
// keys hash a visitor alike without another secret to distribute.
func accessLogSalt(configured, keys, dataDir string) ([]byte, error) {
	if configured != "" {
		return []byte(configured), nil
	}
	var k secret.Key
	if keys != "" {
		ks, err := secret.ParseKeys(keys)
		if err != nil {
			return nil, fmt.Errorf("config: TWINME_ENCRYPTION_KEYS %w", err)
		}
		k = ks[0]
	} else {
		var err error
		if k, _, err = secret.LoadOrCreateKeyFile(filepath.Join(dataDir, "encryption.key")); err != nil {
			return nil, fmt.Errorf("app: access log salt: %w", err)
		}
	}
	h := sha256.New()
	h.Write([]byte("twinme access log salt v1\x00"))
	h.Write(k.Material)
	return h.Sum(nil), nil
}
