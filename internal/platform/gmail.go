package platform

import (
	"context"
	"net/http"
)

func gmailProvider() Provider {
	return googleProvider(Gmail, "Gmail", "https://gmail.googleapis.com/gmail/v1",
		// Headers and labels only, never bodies; a restricted scope.
		"https://www.googleapis.com/auth/gmail.metadata",
		[]string{"message metadata: senders, subjects, dates and labels (never message bodies)"})
}

// gmailIdentity reads GET /users/me/profile →
// {"emailAddress":"ada@example.com","messagesTotal":1234,"threadsTotal":987,"historyId":"4242"}.
// gmail.metadata grants no userinfo access, and the profile has no other id,
// so the address is the account id.
func gmailIdentity(ctx context.Context, p Provider, client *http.Client, token string) (Identity, error) {
	var prof struct {
		EmailAddress string `json:"emailAddress"`
	}
	if err := p.getJSON(ctx, client, p.Endpoints.APIBaseURL+"/users/me/profile", token, nil, &prof); err != nil {
		return Identity{}, err
	}
	return Identity{AccountID: prof.EmailAddress, Username: prof.EmailAddress, DisplayName: prof.EmailAddress, Email: prof.EmailAddress}, nil
}
