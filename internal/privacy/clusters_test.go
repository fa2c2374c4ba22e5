package privacy

import (
	"strings"
	"testing"

	"github.com/twinme/twinme/internal/apperr"
)

func TestClustersMatchArchitecture(t *testing.T) {
	want := map[Cluster][]Subcluster{
		Personal:     {"hobbies-interests", "sports-fitness", "spirituality-religion", "entertainment-choices", "social-connections", "health-wellness", "travel-experiences"},
		Professional: {"studies-education", "career-jobs", "skills-expertise", "achievements-recognition", "work-projects", "professional-network"},
		Creative:     {"artistic-expression", "content-creation", "musical-identity", "writing-blogging", "photography-visual"},
	}
	got := Clusters()
	if len(got) != len(want) {
		t.Fatalf("got %d clusters, want %d", len(got), len(want))
	}
	for _, ci := range got {
		subs := want[ci.Cluster]
		if len(ci.Subclusters) != len(subs) {
			t.Fatalf("%s: %d subclusters, want %d", ci.Cluster, len(ci.Subclusters), len(subs))
		}
		for i, sc := range ci.Subclusters {
			if sc.Subcluster != subs[i] {
				t.Errorf("%s[%d] = %s, want %s", ci.Cluster, i, sc.Subcluster, subs[i])
			}
			if owner, ok := sc.Subcluster.Cluster(); !ok || owner != ci.Cluster {
				t.Errorf("%s belongs to %q, want %s", sc.Subcluster, owner, ci.Cluster)
			}
		}
	}
	// The listing is a copy: changing it must not change the table.
	got[0].Subclusters[0].Subcluster = "tampered"
	if Clusters()[0].Subclusters[0].Subcluster != HobbiesInterests {
		t.Error("Clusters returned the internal table")
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) (string, error)
		in    string
		want  string
		field string // non-empty: expect BAD_USER_INPUT on this field
	}{
		{"cluster slug", parseClusterS, "personal", "personal", ""},
		{"cluster enum", parseClusterS, "PERSONAL", "personal", ""},
		{"cluster padded", parseClusterS, " Creative ", "creative", ""},
		{"cluster unknown", parseClusterS, "secret", "", "cluster"},
		{"cluster empty", parseClusterS, "", "", "cluster"},
		{"subcluster slug", parseSubS, "hobbies-interests", "hobbies-interests", ""},
		{"subcluster enum", parseSubS, "HOBBIES_INTERESTS", "hobbies-interests", ""},
		{"subcluster unknown", parseSubS, "cooking", "", "subcluster"},
		{"audience slug", parseAudS, "dating", "dating", ""},
		{"audience enum", parseAudS, "INTIMATE", "intimate", ""},
		{"audience unknown", parseAudS, "public", "", "audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse(tt.in)
			if tt.field == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var ae *apperr.Error
			if !asAppErr(err, &ae) || ae.Code != apperr.BadUserInput || ae.Field != tt.field {
				t.Fatalf("err = %v, want BAD_USER_INPUT on %s", err, tt.field)
			}
		})
	}
}

func TestParseErrorListsValidValues(t *testing.T) {
	_, err := ParseCluster("secret")
	for _, c := range []string{"personal", "professional", "creative"} {
		if !strings.Contains(apperr.MessageOf(err), c) {
			t.Errorf("message %q does not list %s", apperr.MessageOf(err), c)
		}
	}
	_, err = ParseAudience("public")
	for _, a := range Audiences() {
		if !strings.Contains(apperr.MessageOf(err), string(a)) {
			t.Errorf("message %q does not list %s", apperr.MessageOf(err), a)
		}
	}
	_, err = ParseSubcluster("cooking")
	if !strings.Contains(apperr.MessageOf(err), "photography-visual") {
		t.Errorf("message %q does not list the subclusters", apperr.MessageOf(err))
	}
}

func parseClusterS(s string) (string, error) { c, err := ParseCluster(s); return string(c), err }
func parseSubS(s string) (string, error)     { c, err := ParseSubcluster(s); return string(c), err }
func parseAudS(s string) (string, error)     { c, err := ParseAudience(s); return string(c), err }
