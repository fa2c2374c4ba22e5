package twin

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		name string
		s    string
		n    int
		want []string
	}{
		{"empty", "", 4, nil},
		{"fits", "abcd", 4, []string{"abcd"}},
		{"cut evenly", "abcdefgh", 4, []string{"abcd", "efgh"}},
		{"remainder", "abcdefghi", 4, []string{"abcd", "efgh", "i"}},
		// "é" is two bytes: a cut never splits it.
		{"before a two-byte rune", "abcé", 4, []string{"abc", "é"}},
		{"four-byte rune", "a😀b", 4, []string{"a", "😀", "b"}},
		{"rune longer than n", "😀", 2, []string{"\xf0\x9f", "\x98\x80"}},
	}
	for _, tc := range cases {
		got := split(tc.s, tc.n)
		if strings.Join(got, "|") != strings.Join(tc.want, "|") || len(got) != len(tc.want) {
			t.Errorf("%s: split(%q, %d) = %q, want %q", tc.name, tc.s, tc.n, got, tc.want)
		}
		if strings.Join(got, "") != tc.s {
			t.Errorf("%s: pieces do not add up to the input", tc.name)
		}
		for _, p := range got {
			if len(p) > tc.n {
				t.Errorf("%s: piece %q over %d bytes", tc.name, p, tc.n)
			}
			if tc.name != "rune longer than n" && !utf8.ValidString(p) {
				t.Errorf("%s: piece %q cuts a rune", tc.name, p)
			}
		}
	}
}
