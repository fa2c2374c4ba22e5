package platform_test

import (
	"reflect"
	"slices"
	"testing"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/testutil"
)

// storedKind finds the kind stored for (id, dataType) from source.
func storedKind(id platform.ID, dataType platform.DataType, source string) (platform.StoredKind, bool) {
	for _, k := range platform.StoredKinds() {
		if k.Platform == id && k.DataType == dataType && slices.Contains(k.Sources, source) {
			return k, true
		}
	}
	return platform.StoredKind{}, false
}

// Every item a stream writes is its kind's payload type, byte for byte:
// decoded into that type (no field left over) and encoded again it gives
// the stored bytes back. So the analysis loader, which decodes the same
// types, reads every field a stream writes under the name it is written.
func TestStreamsWriteTheirStoredKinds(t *testing.T) {
	for id := range platform.Providers() {
		t.Run(string(id), func(t *testing.T) {
			t.Parallel()
			c := connect(t, id)
			serveAPI[id](c.f)
			for _, s := range c.p.Streams() {
				if _, ok := storedKind(id, s.DataType, platform.SourceAPI); !ok {
					t.Errorf("stream %s writes %s, which platform.StoredKinds does not declare", s.Name, s.DataType)
				}
				res := runStream(t, c, s, nil)
				if res.err != nil {
					t.Fatalf("%s: %v", s.Name, res.err)
				}
				if len(res.items) == 0 {
					t.Errorf("%s: no items from the fake", s.Name)
				}
				for _, it := range res.items {
					k, ok := storedKind(id, it.DataType, platform.SourceAPI)
					if !ok {
						t.Errorf("%s: item of undeclared data type %s", s.Name, it.DataType)
						continue
					}
					if err := testutil.SameJSONBytes(k.Payload, it.Payload); err != "" {
						t.Errorf("%s: %s item is not a %T: %s", s.Name, it.DataType, k.Payload, err)
					}
				}
			}
		})
	}
}

// StoredKinds names each (platform, data type, source) once.
func TestStoredKindsAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range platform.StoredKinds() {
		if len(k.Sources) == 0 || k.Payload == nil || reflect.TypeOf(k.Payload).Kind() != reflect.Struct {
			t.Errorf("%s %s: no source or no payload struct", k.Platform, k.DataType)
		}
		for _, src := range k.Sources {
			key := string(k.Platform) + "/" + string(k.DataType) + "/" + src
			if seen[key] {
				t.Errorf("%s declared twice", key)
			}
			seen[key] = true
		}
	}
}
