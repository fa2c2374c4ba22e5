package secret

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// LoadOrCreateKeyFile is the development fallback when no
// TWINME_ENCRYPTION_KEYS is configured: it reads a key from path, or creates
// path (mode 0600, its directory 0700) holding a new random key. created
// reports whether the key was generated now. A file readable or writable by
// group or others is refused, because whoever reads it can read every token.
func LoadOrCreateKeyFile(path string) (key Key, created bool, err error) {
	if path == "" {
		return Key{}, false, errors.New("secret: key file path is empty")
	}
	k, err := readKeyFile(path)
	if err == nil {
		return k, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return Key{}, false, err
	}

	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Key{}, false, fmt.Errorf("secret: create key file directory: %w", err)
	}
	k = newRandomKey("dev")
	// O_EXCL: if another process created the file meanwhile, use its key
	// rather than overwrite a key that may already have encrypted data.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		k, err := readKeyFile(path)
		return k, false, err
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("secret: create key file: %w", err)
	}
	if _, err := f.WriteString(k.Spec() + "\n"); err != nil {
		f.Close()
		return Key{}, false, fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return Key{}, false, fmt.Errorf("secret: write key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return Key{}, false, fmt.Errorf("secret: write key file: %w", err)
	}
	return k, true, nil
}

func readKeyFile(path string) (Key, error) {
	info, err := os.Stat(path)
	if err != nil {
		return Key{}, fmt.Errorf("secret: key file: %w", err)
	}
	if !info.Mode().IsRegular() {
		return Key{}, fmt.Errorf("secret: key file %s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return Key{}, fmt.Errorf("secret: key file %s has mode %04o; it must not be accessible by group or others (run: chmod 600 %s)", path, perm, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("secret: key file: %w", err)
	}
	keys, err := ParseKeys(strings.TrimSpace(string(data)))
	if err != nil {
		return Key{}, fmt.Errorf("secret: key file %s: %w", path, err)
	}
	if len(keys) != 1 {
		return Key{}, fmt.Errorf("%w: key file %s holds %d keys, want exactly one", ErrInvalidKeySpec, path, len(keys))
	}
	return keys[0], nil
}
