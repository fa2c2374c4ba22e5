package secret

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func key(id string, fill byte) Key {
	return Key{ID: id, Material: bytes.Repeat([]byte{fill}, KeySize)}
}

func mustKeyring(t *testing.T, keys ...Key) *Keyring {
	t.Helper()
	kr, err := NewKeyring(keys)
	if err != nil {
		t.Fatalf("NewKeyring: %v", err)
	}
	return kr
}

func TestParseKeys(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	secretish := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("S"), 31))

	tests := []struct {
		name    string
		spec    string
		wantIDs []string
		wantErr string // substring; "" means success
	}{
		{name: "one key", spec: "k1:" + b64(32), wantIDs: []string{"k1"}},
		{name: "two keys first is current", spec: "new:" + b64(32) + ", old:" + b64(32), wantIDs: []string{"new", "old"}},
		{name: "url alphabet without padding", spec: "k_1-a:" + base64.RawURLEncoding.EncodeToString(bytes.Repeat([]byte{0xfb}, 32)), wantIDs: []string{"k_1-a"}},
		{name: "empty", spec: "  ", wantErr: "no keys"},
		{name: "no colon", spec: b64(32), wantErr: "has no ':'"},
		{name: "empty id", spec: ":" + b64(32), wantErr: "key id must be"},
		{name: "id with space", spec: "my key:" + b64(32), wantErr: "key id must be"},
		{name: "id too long", spec: strings.Repeat("a", 33) + ":" + b64(32), wantErr: "key id must be"},
		{name: "short key", spec: "k1:" + secretish, wantErr: "is 31 bytes, want exactly 32"},
		{name: "long key", spec: "k1:" + b64(33), wantErr: "is 33 bytes"},
		{name: "not base64", spec: "k1:!!!notbase64!!!", wantErr: "not valid base64"},
		{name: "duplicate ids", spec: "k1:" + b64(32) + ",k1:" + b64(32), wantErr: "more than once"},
		{name: "trailing comma", spec: "k1:" + b64(32) + ",", wantErr: "entry 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := ParseKeys(tt.spec)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseKeys(%q) = %v, want error containing %q", tt.spec, keys, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidKeySpec) {
					t.Errorf("error %v does not wrap ErrInvalidKeySpec", err)
				}
				if strings.Contains(err.Error(), secretish) {
					t.Errorf("error echoes key material: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseKeys: %v", err)
			}
			var ids []string
			for _, k := range keys {
				ids = append(ids, k.ID)
				if len(k.Material) != KeySize {
					t.Errorf("key %s has %d bytes", k.ID, len(k.Material))
				}
			}
			if fmt.Sprint(ids) != fmt.Sprint(tt.wantIDs) {
				t.Errorf("ids = %v, want %v", ids, tt.wantIDs)
			}
		})
	}
}

func TestGenerateKeySpecParses(t *testing.T) {
	a, b := GenerateKeySpec(), GenerateKeySpec()
	if a == b {
		t.Fatal("two generated keys are identical")
	}
	keys, err := ParseKeys(a + "," + b)
	if err != nil {
		t.Fatalf("generated specs do not parse: %v", err)
	}
	if _, err := NewKeyring(keys); err != nil {
		t.Fatalf("generated keys do not build a keyring: %v", err)
	}
}

func TestKeyNeverPrintsMaterial(t *testing.T) {
	k := key("k1", 'Z')
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), logged.String()} {
		if strings.Contains(s, "ZZZZ") || strings.Contains(s, base64.StdEncoding.EncodeToString(k.Material)) {
			t.Errorf("key material printed: %s", s)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	current := key("current", 1)
	old := key("old", 2)
	other := key("other", 3)
	aad := []byte("connection:42:access_token")

	kr := mustKeyring(t, current, old)
	oldOnly := mustKeyring(t, old)
	otherRing := mustKeyring(t, other)
	sameIDDifferentKey := mustKeyring(t, Key{ID: "current", Material: other.Material})

	sealedNow, err := kr.Encrypt([]byte("ya29.token"), aad)
	if err != nil {
		t.Fatal(err)
	}
	sealedOld, err := oldOnly.Encrypt([]byte("legacy-token"), aad)
	if err != nil {
		t.Fatal(err)
	}
	tamper := func(s string) string {
		i := strings.LastIndex(s, ":") + 1
		b, _ := base64.RawURLEncoding.DecodeString(s[i:])
		b[len(b)/2] ^= 0x01
		return s[:i] + base64.RawURLEncoding.EncodeToString(b)
	}
	swapKeyID := strings.Replace(sealedOld, ":old:", ":current:", 1)

	tests := []struct {
		name    string
		ring    *Keyring
		in      string
		aad     []byte
		want    string
		wantErr error
	}{
		{name: "round trip", ring: kr, in: sealedNow, aad: aad, want: "ya29.token"},
		{name: "rotation: old key still decrypts", ring: kr, in: sealedOld, aad: aad, want: "legacy-token"},
		{name: "key id not in keyring", ring: otherRing, in: sealedNow, aad: aad, wantErr: ErrUnknownKey},
		{name: "same id but different key material", ring: sameIDDifferentKey, in: sealedNow, aad: aad, wantErr: ErrDecrypt},
		{name: "tampered ciphertext", ring: kr, in: tamper(sealedNow), aad: aad, wantErr: ErrDecrypt},
		{name: "copied to another row (aad mismatch)", ring: kr, in: sealedNow, aad: []byte("connection:43:access_token"), wantErr: ErrDecrypt},
		{name: "copied to another column (aad mismatch)", ring: kr, in: sealedNow, aad: []byte("connection:42:refresh_token"), wantErr: ErrDecrypt},
		{name: "missing aad", ring: kr, in: sealedNow, aad: nil, wantErr: ErrDecrypt},
		{name: "key id in header altered", ring: kr, in: swapKeyID, aad: aad, wantErr: ErrDecrypt},
		{name: "empty string", ring: kr, in: "", wantErr: ErrMalformed},
		{name: "clear text token", ring: kr, in: "ya29.a0AfH6SM", wantErr: ErrMalformed},
		{name: "unknown version", ring: kr, in: strings.Replace(sealedNow, "v1:", "v9:", 1), aad: aad, wantErr: ErrMalformed},
		{name: "no data part", ring: kr, in: "v1:current", wantErr: ErrMalformed},
		{name: "bad base64", ring: kr, in: "v1:current:%%%", wantErr: ErrMalformed},
		{name: "too short", ring: kr, in: "v1:current:AAAA", wantErr: ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.ring.Decrypt(tt.in, tt.aad)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Decrypt error = %v, want %v", err, tt.wantErr)
				}
				if got != nil {
					t.Errorf("Decrypt returned plaintext %q with an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("Decrypt = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCiphertextFormat(t *testing.T) {
	kr := mustKeyring(t, key("k2026", 9))
	a, _ := kr.EncryptString("same", "aad")
	b, _ := kr.EncryptString("same", "aad")
	if !strings.HasPrefix(a, "v1:k2026:") {
		t.Errorf("ciphertext %q does not start with v1:k2026:", a)
	}
	if a == b {
		t.Error("encrypting the same plaintext twice gave the same ciphertext (nonce reuse)")
	}
	if strings.Contains(a, "same") {
		t.Error("ciphertext contains the plaintext")
	}
	got, err := kr.DecryptString(a, "aad")
	if err != nil || got != "same" {
		t.Errorf("DecryptString = %q, %v", got, err)
	}
	if _, err := kr.DecryptString(a, "other"); !errors.Is(err, ErrDecrypt) {
		t.Errorf("DecryptString with other aad: %v, want ErrDecrypt", err)
	}
}

func TestNeedsRotation(t *testing.T) {
	oldRing := mustKeyring(t, key("old", 1))
	newRing := mustKeyring(t, key("new", 2), key("old", 1))
	underOld, _ := oldRing.EncryptString("t", "a")
	underNew, _ := newRing.EncryptString("t", "a")

	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"current key", underNew, false},
		{"previous key", underOld, true},
		{"clear text", "gho_abc", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newRing.NeedsRotation(tt.in); got != tt.want {
				t.Errorf("NeedsRotation = %v, want %v", got, tt.want)
			}
		})
	}
	if newRing.CurrentKeyID() != "new" {
		t.Errorf("CurrentKeyID = %q, want new", newRing.CurrentKeyID())
	}

	// Re-encrypting what NeedsRotation flags moves it to the current key.
	pt, err := newRing.DecryptString(underOld, "a")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := newRing.EncryptString(pt, "a")
	if newRing.NeedsRotation(again) {
		t.Error("re-encrypted value still needs rotation")
	}
}

func TestNewKeyringRejects(t *testing.T) {
	tests := []struct {
		name string
		keys []Key
	}{
		{"no keys", nil},
		{"short key", []Key{{ID: "k", Material: make([]byte, 16)}}},
		{"bad id", []Key{{ID: "a b", Material: make([]byte, 32)}}},
		{"duplicate id", []Key{key("k", 1), key("k", 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewKeyring(tt.keys); !errors.Is(err, ErrInvalidKeySpec) {
				t.Errorf("NewKeyring error = %v, want ErrInvalidKeySpec", err)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "keys")
	path := filepath.Join(dir, "twinme.key")

	k1, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !created {
		t.Error("created = false for a new file")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	dinfo, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := dinfo.Mode().Perm(); perm != 0o700 {
		t.Errorf("key dir mode = %04o, want 0700", perm)
	}

	k2, created, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatalf("reload: %v", err)
	}
	if created {
		t.Error("created = true when the file existed")
	}
	if k1.ID != k2.ID || !bytes.Equal(k1.Material, k2.Material) {
		t.Error("reloaded key differs from the created one")
	}

	// Data encrypted before a restart decrypts after it.
	before, _ := mustKeyring(t, k1).EncryptString("token", "row")
	if got, err := mustKeyring(t, k2).DecryptString(before, "row"); err != nil || got != "token" {
		t.Errorf("decrypt after reload = %q, %v", got, err)
	}
}

func TestLoadOrCreateKeyFileRefuses(t *testing.T) {
	valid := key("dev-1", 5).Spec() + "\n"
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"world readable", valid, 0o644, "chmod 600"},
		{"group readable", valid, 0o640, "chmod 600"},
		{"group writable", valid, 0o620, "chmod 600"},
		{"garbage", "not a key\n", 0o600, "invalid key specification"},
		{"two keys", valid[:len(valid)-1] + "," + key("dev-2", 6).Spec(), 0o600, "want exactly one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			_, _, err := LoadOrCreateKeyFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(key("dev-1", 5).Material)) {
				t.Errorf("error echoes key material: %v", err)
			}
			// The refused file is left as it was: never overwritten.
			if b, _ := os.ReadFile(path); string(b) != tt.content {
				t.Error("refused key file was modified")
			}
		})
	}
}

func BenchmarkEncrypt(b *testing.B) {
	kr, _ := NewKeyring([]Key{key("k", 1)})
	pt := bytes.Repeat([]byte("t"), 200)
	aad := []byte("connection:42:access_token")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Encrypt(pt, aad); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	kr, _ := NewKeyring([]Key{key("k", 1)})
	aad := []byte("connection:42:access_token")
	s, _ := kr.Encrypt(bytes.Repeat([]byte("t"), 200), aad)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := kr.Decrypt(s, aad); err != nil {
			b.Fatal(err)
		}
	}
}
