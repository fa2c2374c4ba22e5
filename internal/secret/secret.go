// Package secret encrypts tokens at rest with AES-256-GCM under a keyring of
// named keys. The first key encrypts; every key decrypts, so keys can rotate
// without rewriting stored data first. Ciphertexts name their key:
//
//	v1:<key id>:<base64url(nonce || ciphertext || tag)>
//
// Callers bind a ciphertext to where it is stored (for example the connection
// id and column) with additional authenticated data, so a value copied to
// another row does not decrypt.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// KeySize is the length of an AES-256 key in bytes.
const KeySize = 32

const version = "v1"

var (
	// ErrInvalidKeySpec reports a key list that does not follow the
	// id:base64(32 bytes) format.
	ErrInvalidKeySpec = errors.New("secret: invalid key specification")
	// ErrMalformed reports a string that is not a ciphertext of this package.
	ErrMalformed = errors.New("secret: malformed ciphertext")
	// ErrUnknownKey reports a ciphertext made with a key that is not in the
	// keyring (removed too early, or from another deployment).
	ErrUnknownKey = errors.New("secret: ciphertext key is not in the keyring")
	// ErrDecrypt reports a ciphertext that does not authenticate: tampered,
	// or decrypted with different additional data than it was sealed with.
	ErrDecrypt = errors.New("secret: ciphertext does not authenticate")
)

var keyIDPattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,32}$`)

// Key is one named AES-256 key. Its String, GoString and LogValue methods
// never show the key material.
type Key struct {
	ID       string
	Material []byte
}

func (k Key) String() string       { return fmt.Sprintf("secret.Key{ID:%q, Material:<redacted>}", k.ID) }
func (k Key) GoString() string     { return k.String() }
func (k Key) LogValue() slog.Value { return slog.StringValue("key " + k.ID) }

// Spec formats k in the TWINME_ENCRYPTION_KEYS form id:base64.
func (k Key) Spec() string {
	return k.ID + ":" + base64.StdEncoding.EncodeToString(k.Material)
}

func validateKey(k Key) error {
	if !keyIDPattern.MatchString(k.ID) {
		return fmt.Errorf("%w: key id %q must be 1-32 characters of letters, digits, '_' or '-'", ErrInvalidKeySpec, k.ID)
	}
	if len(k.Material) != KeySize {
		return fmt.Errorf("%w: key %q is %d bytes, want exactly %d (base64 of 32 random bytes)", ErrInvalidKeySpec, k.ID, len(k.Material), KeySize)
	}
	return nil
}

// ParseKeys parses the TWINME_ENCRYPTION_KEYS format: comma-separated
// id:base64(32 bytes) entries, the first being the current key. Error
// messages name the entry and its id but never echo key material.
func ParseKeys(spec string) ([]Key, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, fmt.Errorf("%w: no keys; want comma-separated id:base64(32 bytes), e.g. the output of GenerateKeySpec", ErrInvalidKeySpec)
	}
	var keys []Key
	seen := map[string]bool{}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return nil, fmt.Errorf("%w: entry %d is empty; want id:base64(32 bytes)", ErrInvalidKeySpec, i+1)
		}
		id, b64, ok := strings.Cut(entry, ":")
		if !ok {
			return nil, fmt.Errorf("%w: entry %d has no ':'; want id:base64(32 bytes)", ErrInvalidKeySpec, i+1)
		}
		id = strings.TrimSpace(id)
		if !keyIDPattern.MatchString(id) {
			return nil, fmt.Errorf("%w: entry %d: key id must be 1-32 characters of letters, digits, '_' or '-'", ErrInvalidKeySpec, i+1)
		}
		material, err := decodeBase64(strings.TrimSpace(b64))
		if err != nil {
			return nil, fmt.Errorf("%w: key %q: material is not valid base64", ErrInvalidKeySpec, id)
		}
		k := Key{ID: id, Material: material}
		if err := validateKey(k); err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, fmt.Errorf("%w: key id %q appears more than once; ids must be unique", ErrInvalidKeySpec, id)
		}
		seen[id] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// decodeBase64 accepts standard and URL alphabets, padded or not, because
// people paste keys from many tools.
func decodeBase64(s string) ([]byte, error) {
	var lastErr error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(s)
		if err == nil {
			return b, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// GenerateKeySpec returns a new random key in the id:base64 form, for a CLI
// to print when an operator sets up or rotates TWINME_ENCRYPTION_KEYS.
func GenerateKeySpec() string {
	return newRandomKey("key").Spec()
}

func newRandomKey(prefix string) Key {
	material := make([]byte, KeySize)
	rand.Read(material) // crypto/rand.Read never returns an error since Go 1.24
	idBytes := make([]byte, 4)
	rand.Read(idBytes)
	return Key{ID: fmt.Sprintf("%s-%x", prefix, idBytes), Material: material}
}

// Keyring encrypts with its current key and decrypts with any of its keys.
// It is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring builds a keyring; keys[0] is the current key.
func NewKeyring(keys []Key) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: a keyring needs at least one key", ErrInvalidKeySpec)
	}
	kr := &Keyring{current: keys[0].ID, aeads: make(map[string]cipher.AEAD, len(keys))}
	for _, k := range keys {
		if err := validateKey(k); err != nil {
			return nil, err
		}
		if _, dup := kr.aeads[k.ID]; dup {
			return nil, fmt.Errorf("%w: key id %q appears more than once; ids must be unique", ErrInvalidKeySpec, k.ID)
		}
		block, err := aes.NewCipher(k.Material)
		if err != nil {
			return nil, fmt.Errorf("secret: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secret: key %q: %w", k.ID, err)
		}
		kr.aeads[k.ID] = aead
	}
	return kr, nil
}

// CurrentKeyID is the id of the key new ciphertexts are made with.
func (kr *Keyring) CurrentKeyID() string { return kr.current }

// header is authenticated together with the caller's AAD so the version and
// key id in a stored value cannot be altered either.
func header(keyID string) string { return version + ":" + keyID + ":" }

func sealAAD(keyID string, aad []byte) []byte {
	h := header(keyID)
	out := make([]byte, 0, len(h)+len(aad))
	return append(append(out, h...), aad...)
}

// Encrypt seals plaintext with the current key, binding aad to it.
func (kr *Keyring) Encrypt(plaintext, aad []byte) (string, error) {
	aead := kr.aeads[kr.current]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("secret: nonce: %w", err)
	}
	sealed := aead.Seal(nonce, nonce, plaintext, sealAAD(kr.current, aad))
	return header(kr.current) + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// parse splits a ciphertext into key id and sealed bytes.
func parse(s string) (keyID string, sealed []byte, err error) {
	ver, rest, ok := strings.Cut(s, ":")
	if !ok {
		return "", nil, fmt.Errorf("%w: want %s:<key id>:<data>", ErrMalformed, version)
	}
	if ver != version {
		return "", nil, fmt.Errorf("%w: unsupported version %q, want %s", ErrMalformed, truncate(ver, 8), version)
	}
	keyID, data, ok := strings.Cut(rest, ":")
	if !ok || !keyIDPattern.MatchString(keyID) {
		return "", nil, fmt.Errorf("%w: missing or invalid key id", ErrMalformed)
	}
	sealed, err = base64.RawURLEncoding.DecodeString(data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: data is not base64url", ErrMalformed)
	}
	return keyID, sealed, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Decrypt opens a ciphertext made by Encrypt with any key of the keyring and
// the same aad. Errors wrap ErrMalformed, ErrUnknownKey or ErrDecrypt.
func (kr *Keyring) Decrypt(s string, aad []byte) ([]byte, error) {
	keyID, sealed, err := parse(s)
	if err != nil {
		return nil, err
	}
	aead, ok := kr.aeads[keyID]
	if !ok {
		return nil, fmt.Errorf("%w: key %q", ErrUnknownKey, keyID)
	}
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w: data too short", ErrMalformed)
	}
	nonce, body := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, body, sealAAD(keyID, aad))
	if err != nil {
		return nil, fmt.Errorf("%w: key %q (tampered data, or different additional data than it was sealed with)", ErrDecrypt, keyID)
	}
	return plaintext, nil
}

// EncryptString is Encrypt for strings.
func (kr *Keyring) EncryptString(plaintext, aad string) (string, error) {
	return kr.Encrypt([]byte(plaintext), []byte(aad))
}

// DecryptString is Decrypt for strings.
func (kr *Keyring) DecryptString(s, aad string) (string, error) {
	b, err := kr.Decrypt(s, []byte(aad))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// NeedsRotation reports whether s should be re-encrypted: it was made with a
// key other than the current one, or it is not a ciphertext of this package
// at all (for example a token stored in clear text before encryption was on).
func (kr *Keyring) NeedsRotation(s string) bool {
	keyID, _, err := parse(s)
	return err != nil || keyID != kr.current
}
