package accesslog

import "testing"

func TestUserAgentFamily(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"", "unknown"},
		{"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0 Mobile/15E148 Safari/604.1", "Chrome on iOS"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"curl/8.5.0", "curl"},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"},
		{"something else", "other"},
	} {
		if got := UserAgentFamily(tc.ua); got != tc.want {
			t.Errorf("UserAgentFamily(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
}

func TestClientHashIsPerOwnerAndTruncated(t *testing.T) {
	s := &Service{opts: Options{Salt: []byte("0123456789abcdef")}}
	a1, a2 := s.clientHash("owner-a", "203.0.113.7"), s.clientHash("owner-a", "203.0.113.7")
	b := s.clientHash("owner-b", "203.0.113.7")
	other := s.clientHash("owner-a", "203.0.113.8")
	if a1 != a2 || len(a1) != hashHexChars {
		t.Fatalf("same owner and address: %q %q", a1, a2)
	}
	if a1 == b || a1 == other {
		t.Fatalf("hash does not depend on the owner or the address: %q %q %q", a1, b, other)
	}
	if s.clientHash("owner-a", "") != "" {
		t.Fatal("no address must give no hash")
	}
	salted := (&Service{opts: Options{Salt: []byte("another salt 0123")}}).clientHash("owner-a", "203.0.113.7")
	if salted == a1 {
		t.Fatal("the salt does not change the hash")
	}
}
