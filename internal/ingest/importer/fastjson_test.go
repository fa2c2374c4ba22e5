package importer

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzFastDecode checks the fast path against encoding/json: whenever it
// decodes an element, json.Unmarshal decodes the same element without
// error into the same value. (It may give up on elements json.Unmarshal
// takes; those are decoded by json.Unmarshal.)
func FuzzFastDecode(f *testing.F) {
	if b, err := os.ReadFile(fxExtended); err == nil {
		var elems []json.RawMessage
		if json.Unmarshal(b, &elems) == nil {
			for _, e := range elems {
				f.Add([]byte(e))
			}
		}
	}
	for _, s := range []string{
		`{}`, ` { } `, `{"ts":"2021-03-04T12:34:56Z","ms_played":1}`, `{"ts":null,"ms_played":null,"shuffle":null}`,
		`{"platform":"a","platform":null}`, `{"ts":"a","ts":null}`, `{"TS":"a"}`, `{"Ts":"a","ms_played":1}`,
		`{"ms_played":1.0}`, `{"ms_played":1e3}`, `{"ms_played":-0}`, `{"ms_played":01}`, `{"ms_played":9223372036854775808}`,
		`{"ms_played":"1"}`, `{"shuffle":"true"}`, `{"shuffle":1}`, `{"platform":1}`, `{"platform":true}`,
		`{"ip_addr":"1.2.3.4","offline_timestamp":1614861296,"username":null,"user_agent_decrypted":"x"}`,
		`{"x":{"a":1}}`, `{"x":[1]}`, `{"x":-}`, `{"x":1.}`, `{"x":1e}`, `{"x":.5}`, `{"x":tru}`, `{"x":nul}`,
		`{"master_metadata_track_name":"a\"b"}`, `{"master_metadata_track_name":"a\u00e9"}`, "{\"platform\":\"a\tb\"}",
		`{"platform":"é"}`, `{"plaTform":"x"}`, "{\"platform\u212a\":1}", `{"a":1,}`, `{,"a":1}`, `{"a" 1}`, `{"a":1 "b":2}`,
		`{"a":1}}`, `{"a":1} x`, `[]`, `"x"`, `1`, `null`, `{"ts":"x"`, `{"incognito_mode":true,"offline":false,"skipped":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !utf8.Valid(b) {
			return // rejected before decoding
		}
		var fast extendedRow
		if !fast.decodeFast(b) {
			return
		}
		var slow extendedRow
		if err := json.Unmarshal(b, &slow); err != nil {
			t.Fatalf("fast path decoded %q, json.Unmarshal: %v", b, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%q: fast %+v, json.Unmarshal %+v", b, fast, slow)
		}
	})
}

// TestFastDecodeTakesRealRows makes sure the fast path is the one real
// exports go through: every element of the fixture decodes on it.
func TestFastDecodeTakesRealRows(t *testing.T) {
	b, err := os.ReadFile(fxExtended)
	if err != nil {
		t.Fatal(err)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		t.Fatal(err)
	}
	for i, e := range elems {
		var v extendedRow
		if !v.decodeFast(e) {
			t.Errorf("element %d falls back to encoding/json: %s", i+1, e)
		}
	}
}
