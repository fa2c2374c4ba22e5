package platform_test

import (
	"encoding/json"
	"testing"

	"github.com/twinme/twinme/internal/platform"
	"github.com/twinme/twinme/internal/platform/platformtest"
)

func TestLinkedInProfile(t *testing.T) {
	c := connect(t, platform.LinkedIn)
	api := platformtest.ServeLinkedInAPI(c.f)
	s := stream(t, c.p, "profile")
	first := runStream(t, c, s, nil)
	if first.err != nil || len(first.items) != 1 {
		t.Fatalf("items %d, err %v", len(first.items), first.err)
	}
	it := first.items[0]
	if it.DataType != platform.DataLinkedInProfile || it.ExternalID != c.f.Identity().AccountID {
		t.Errorf("item %s/%s, want profile/%s (sub)", it.DataType, it.ExternalID, c.f.Identity().AccountID)
	}
	var pl map[string]any
	json.Unmarshal(it.Payload, &pl)
	if pl["locale"] != "en-US" || pl["given_name"] != "John" || pl["email_verified"] != true {
		t.Errorf("payload %s", it.Payload)
	}

	same := runStream(t, c, s, first.cursor)
	if same.err != nil || string(same.items[0].Payload) != string(it.Payload) {
		t.Errorf("unchanged profile: payload %s, err %v", same.items[0].Payload, same.err)
	}
	api.Rename("Johanna Doe")
	renamed := runStream(t, c, s, same.cursor)
	if renamed.err != nil || renamed.items[0].ExternalID != it.ExternalID || string(renamed.items[0].Payload) == string(it.Payload) {
		t.Errorf("renamed profile: %+v, err %v; want the same key with a new payload", renamed.items, renamed.err)
	}
}
