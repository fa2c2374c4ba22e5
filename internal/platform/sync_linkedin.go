package platform

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

func linkedInStreams() []Stream {
	return []Stream{{Name: "profile", DataType: DataLinkedInProfile, Fetch: linkedInProfile}}
}

// linkedInProfile reads GET /v2/userinfo (Sign In with LinkedIn using
// OpenID Connect):
//
//	{"sub":"782bbtaQ","name":"John Doe","given_name":"John","family_name":"Doe",
//	 "picture":"https://media.licdn-ei.com/dms/image/…","locale":{"country":"US","language":"en"},
//	 "email":"doe@email.com","email_verified":true}
//
// One item keyed by sub (pairwise: stable for this app). locale is an
// object in LinkedIn's answers and a string in the OIDC spec; both are read.
func linkedInProfile(ctx context.Context, client *http.Client, p Provider, token string, _ json.RawMessage) (Page, error) {
	var u struct {
		Sub           string          `json:"sub"`
		Name          string          `json:"name"`
		GivenName     string          `json:"given_name"`
		FamilyName    string          `json:"family_name"`
		Picture       string          `json:"picture"`
		Locale        json.RawMessage `json:"locale"`
		Email         string          `json:"email"`
		EmailVerified bool            `json:"email_verified"`
	}
	if _, err := p.getInto(ctx, client, p.Endpoints.APIBaseURL+"/userinfo", token, nil, &u); err != nil {
		return Page{}, err
	}
	if u.Sub == "" {
		return Page{}, nil
	}
	payload, err := payloadOf(LinkedInProfilePayload{SourceAPI, u.Sub, u.Name, u.GivenName, u.FamilyName, u.Picture, linkedInLocale(u.Locale), u.Email, u.EmailVerified})
	if err != nil {
		return Page{}, err
	}
	return Page{Items: []Item{{DataType: DataLinkedInProfile, ExternalID: u.Sub, OccurredAt: p.now().UTC(), Payload: payload}}}, nil
}

// linkedInLocale turns {"country":"US","language":"en"} or "en-US" into "en-US".
func linkedInLocale(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Country  string `json:"country"`
		Language string `json:"language"`
	}
	if json.Unmarshal(raw, &o) != nil {
		return ""
	}
	return strings.Trim(o.Language+"-"+o.Country, "-")
}
