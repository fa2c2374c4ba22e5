package llm

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/privacy"
)

// noNetwork fails the test if anything dials out while it runs.
func noNetwork(t *testing.T) {
	t.Helper()
	prev := http.DefaultTransport
	http.DefaultTransport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("network used: %s %s", r.Method, r.URL)
		return nil, http.ErrUseLastResponse
	})
	t.Cleanup(func() { http.DefaultTransport = prev })
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func localReply(t *testing.T, view privacy.View, history []Message, text string) (string, []Chunk) {
	t.Helper()
	ch, err := TwinReply(context.Background(), Local{}, view, history, text)
	if err != nil {
		t.Fatal(err)
	}
	chunks := collect(t, ch)
	var b strings.Builder
	for _, c := range chunks {
		if c.Err != nil {
			t.Fatal(c.Err)
		}
		b.WriteString(c.Text)
	}
	if last := chunks[len(chunks)-1]; !last.Done || last.StopReason != "end_turn" {
		t.Fatalf("last chunk = %+v", last)
	}
	return b.String(), chunks
}

func TestLocalAnswersFromMatchingInsightsAndSaysItIsLocal(t *testing.T) {
	noNetwork(t)
	got, chunks := localReply(t, friendsView(t), nil, "What languages do you code in? And who are your friends?")
	if !strings.HasPrefix(got, LocalPrefix) {
		t.Fatalf("reply %q does not say it is the local twin", got)
	}
	if !strings.Contains(got, "Most of my code is Go.") {
		t.Fatalf("reply %q does not quote the matching insight in the first person", got)
	}
	if len(chunks) < 3 {
		t.Fatalf("reply came in %d chunks; want it streamed", len(chunks))
	}
	for _, m := range hiddenMarkers {
		if strings.Contains(got, m) {
			t.Fatalf("reply %q reveals %q", got, m)
		}
	}
	if !strings.Contains(got, "Nothing about my social life is shared with you here (it is private, or I have no data on it yet), so I can't tell you about it.") {
		t.Fatalf("reply %q does not say the personal cluster is not shared", got)
	}
}

func TestLocalSaysWhatItDoesNotKnow(t *testing.T) {
	got, _ := localReply(t, friendsView(t), nil, "Do you like cats?")
	// Nothing shared speaks to cats: no fact is quoted as if it did, and
	// the twin says what can be asked instead.
	want := LocalPrefix + "I don't know that: nothing I share here speaks to it, and I won't guess. You can ask me about my music, work, coding or personality."
	if got != want {
		t.Fatalf("reply =\n%q\nwant\n%q", got, want)
	}
}

func TestLocalWithNothingRevealedSaysWhatIsMissing(t *testing.T) {
	noNetwork(t)
	s := privacy.DefaultSettings()
	for _, c := range privacy.Clusters() {
		var err error
		if s, err = s.WithOverride(c.Cluster, privacy.AudienceDating, 0); err != nil {
			t.Fatal(err)
		}
	}
	view := privacy.Reveal(ownerView(), s, privacy.AudienceDating)
	got, _ := localReply(t, view, nil, "What kind of person are you?")
	if !strings.HasPrefix(got, LocalPrefix) || !strings.Contains(got, "can't tell you anything about myself yet") {
		t.Fatalf("reply = %q", got)
	}
	for _, source := range []string{"Spotify", "GitHub", "extension"} {
		if !strings.Contains(got, source) {
			t.Errorf("reply does not name %s as missing data: %q", source, got)
		}
	}
	// No invented personality: no trait words, no numbers.
	for _, w := range []string{"introvert", "extravert", "open", "estimate", "%"} {
		if strings.Contains(strings.ToLower(got), w) {
			t.Errorf("reply invents %q: %q", w, got)
		}
	}
}

func TestLocalTraitQuestion(t *testing.T) {
	got, _ := localReply(t, friendsView(t), nil, "How conscientious is your personality?")
	if !strings.Contains(got, "My conscientiousness leans high (70/100, confidence 50%).") {
		t.Fatalf("reply = %q", got)
	}
	if strings.Contains(got, "neuroticism") {
		t.Fatalf("reply mentions a hidden trait: %q", got)
	}
}

func TestLocalIsDeterministic(t *testing.T) {
	a, _ := localReply(t, friendsView(t), nil, "tell me about your music and code")
	b, _ := localReply(t, friendsView(t), nil, "tell me about your music and code")
	if a != b {
		t.Fatalf("two answers differ:\n%q\n%q", a, b)
	}
}

func TestLocalStopsWhenCallerLeaves(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := Local{}.Stream(ctx, Request{Messages: []Message{{Role: RoleUser, Text: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	<-ch
	cancel()
	for range ch { // must close
	}
}

func TestFirstPerson(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"You listen mostly at night.", "I listen mostly at night."},
		{"Your top artist is Bonobo.", "My top artist is Bonobo."},
		{"58% of the videos you liked are Music.", "58% of the videos I liked are Music."},
		{"You're a night owl; you are consistent.", "I'm a night owl; I am consistent."},
		{"You were busier in March.", "I was busier in March."},
		{"Channels you come back to", "Channels I come back to"},
		{"People who code with you review fast.", "People who code with me review fast."},
		{"More than you'd think, all by yourself.", "More than I'd think, all by myself."},
		{"The choice is yours.", "The choice is mine."},
		{"You’ve pushed on 12 days.", "I’ve pushed on 12 days."},
		{"Youth and young ideas; layout.", "Youth and young ideas; layout."},
	} {
		if got := FirstPerson(tc.in); got != tc.want {
			t.Errorf("FirstPerson(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
