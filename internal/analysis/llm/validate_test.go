package llm

import (
	"errors"
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/apperr"
)

func TestValidateChatMessage(t *testing.T) {
	for _, tc := range []struct {
		name    string
		text    string
		wantErr string // substring of the client message; "" = valid
	}{
		{"plain", "What music do you like?", ""},
		{"empty", "", "empty"},
		{"white space", " \n\t ", "empty"},
		{"at the limit", strings.Repeat("a", MaxChatChars), ""},
		{"multi-byte at the limit", strings.Repeat("é", MaxChatChars), ""}, // 8,000 bytes, 4,000 characters
		{"one over", strings.Repeat("a", MaxChatChars+1), "4001 characters long; the limit is 4000"},
		{"invalid UTF-8", "hi \xff", "UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateChatMessage(tc.text)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if apperr.CodeOf(err) != apperr.BadUserInput || !strings.Contains(apperr.MessageOf(err), tc.wantErr) {
				t.Fatalf("err = %v, want BAD_USER_INPUT mentioning %q", err, tc.wantErr)
			}
			var e *apperr.Error
			if !errors.As(err, &e) || e.Field != "text" {
				t.Fatalf("error field = %+v", e)
			}
		})
	}
}
