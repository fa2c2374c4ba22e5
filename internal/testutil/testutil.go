// Package testutil holds small helpers shared by tests of several
// packages. Only _test.go files import it.
package testutil

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"reflect"
	"sync"
	"testing"

	"github.com/twinme/twinme/internal/secret"
)

// Keyring returns a keyring of one random key "k1".
func Keyring(t testing.TB) *secret.Keyring {
	t.Helper()
	k := secret.Key{ID: "k1", Material: make([]byte, secret.KeySize)}
	_, _ = rand.Read(k.Material)
	kr, err := secret.NewKeyring([]secret.Key{k})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// SyncBuffer is a bytes.Buffer that many goroutines may write (a log sink)
// while a test reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SameJSONBytes decodes raw strictly (unknown fields refused) into a new
// value of zero's type and encodes it again: "" when that gives raw back,
// else what differs. Tests of the stored payload format use it to prove a
// payload is exactly its declared type.
func SameJSONBytes(zero any, raw []byte) string {
	v := reflect.New(reflect.TypeOf(zero))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v.Interface()); err != nil {
		return err.Error()
	}
	again, err := json.Marshal(v.Elem().Interface())
	if err != nil {
		return err.Error()
	}
	if !bytes.Equal(again, raw) {
		return "stored " + string(raw) + ", the type encodes " + string(again)
	}
	return ""
}
