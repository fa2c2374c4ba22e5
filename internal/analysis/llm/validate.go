package llm

import (
	"strings"
	"unicode/utf8"

	"github.com/twinme/twinme/internal/apperr"
)

// MaxChatChars is the longest chat message accepted, in characters.
const MaxChatChars = 4000

// ValidateChatMessage checks a chat message a person typed: it must hold
// something besides white space, be valid UTF-8 and be at most MaxChatChars
// characters (Unicode code points, as a person counts them, not bytes).
// Failures are BAD_USER_INPUT errors on field "text".
func ValidateChatMessage(text string) error {
	if !utf8.ValidString(text) {
		return apperr.Invalid("text", "message is not valid UTF-8 text")
	}
	if strings.TrimSpace(text) == "" {
		return apperr.Invalid("text", "message is empty; type something to send")
	}
	if n := utf8.RuneCountInString(text); n > MaxChatChars {
		return apperr.Invalid("text", "message is %d characters long; the limit is %d", n, MaxChatChars)
	}
	return nil
}
