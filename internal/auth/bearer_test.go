package auth

import "testing"

func TestBearerToken(t *testing.T) {
	for _, tc := range []struct {
		header, token string
		ok            bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"Basic abc", "", false},
		{"abc", "", false},
		{"", "", false},
	} {
		if got, ok := BearerToken(tc.header); got != tc.token || ok != tc.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.token, tc.ok)
		}
	}
}

func TestBearerMatches(t *testing.T) {
	for _, tc := range []struct {
		header, secret string
		want           bool
	}{
		{"Bearer s3cret", "s3cret", true},
		{"bearer s3cret ", "s3cret", true},
		{"Bearer s3cre", "s3cret", false},
		{"Bearer s3cret-and-more", "s3cret", false},
		{"Basic s3cret", "s3cret", false},
		{"s3cret", "s3cret", false},
		{"Bearer ", "", false},
		{"", "", false},
	} {
		if got := BearerMatches(tc.header, tc.secret); got != tc.want {
			t.Errorf("BearerMatches(%q, %q) = %v, want %v", tc.header, tc.secret, got, tc.want)
		}
	}
}
