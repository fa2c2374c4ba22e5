package analysis

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Every insight that carries an identifier anywhere (title, body, evidence)
// sits at SensitivityIdentifier or above, so a new share link at the
// default level shows none (issue 9, leak 5).
func TestIdentifiersAreAboveTheDefaultLevel(t *testing.T) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	in := SyntheticYear(7, now.AddDate(-1, 0, 0))
	idents := []string{"Zed Zedson", "zed@zzmail.example", "zzhandle", "ZZ Guild", "ZZChannel", "zzdomain.example", "zzsite.example"}
	in.LinkedIn = &Profile{Sub: "li-1", Name: "Zed Zedson", GivenName: "Zed", FamilyName: "Zedson", Email: "zed@zzmail.example", Locale: "en_US"}
	in.Repos = append(in.Repos, Repo{Name: "zzhandle/engine", Language: "Go", Languages: map[string]int{"Go": 5000}})
	for i := range 6 {
		in.Guilds = append(in.Guilds, Guild{Name: fmt.Sprintf("ZZ Guild %d", i), Owner: i == 0})
	}
	for i := range 3000 {
		at := now.Add(-time.Duration(i) * time.Hour)
		in.Mails = append(in.Mails, Mail{At: at, From: "Ann Person <ann@zzdomain.example>", Labels: []string{"INBOX"}})
		in.Observer = append(in.Observer, ObserverEvent{At: at, Type: EventBlur, Domain: "zzsite.example", Data: map[string]float64{"duration_ms": 3_600_000}})
		if i < 300 {
			in.Videos = append(in.Videos, Video{At: at, Title: "A video", Channel: "ZZChannel", CategoryID: "24", Source: VideoLike})
		}
	}
	res := Analyze(in, time.UTC, now)
	carrying := 0
	for _, ins := range res.Insights {
		text := ins.Title + " " + ins.Body
		for _, e := range ins.Evidence {
			text += " " + e.Label + " " + e.Value
		}
		for _, id := range idents {
			if strings.Contains(text, id) {
				carrying++
				if ins.Sensitivity < SensitivityIdentifier || ins.Sensitivity <= privacy.DefaultLevel {
					t.Errorf("insight %s carries the identifier %q at sensitivity %d", ins.Key, id, ins.Sensitivity)
				}
			}
		}
	}
	if carrying < 4 {
		t.Fatalf("only %d insights carry an identifier; the test would prove little", carrying)
	}
}
