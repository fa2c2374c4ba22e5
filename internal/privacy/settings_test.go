package privacy

import (
	"errors"
	"testing"

	"github.com/twinme/twinme/internal/apperr"
)

func asAppErr(err error, target **apperr.Error) bool { return errors.As(err, target) }

func TestDefaultSettings(t *testing.T) {
	s := DefaultSettings()
	for _, c := range Clusters() {
		for _, a := range Audiences() {
			got, err := s.Level(c.Cluster, a)
			if err != nil || got != 50 {
				t.Errorf("Level(%s, %s) = %d, %v; want 50", c.Cluster, a, got, err)
			}
		}
	}
}

func TestValidateLevel(t *testing.T) {
	for _, tt := range []struct {
		level int
		ok    bool
	}{{-1, false}, {0, true}, {50, true}, {100, true}, {101, false}} {
		err := ValidateLevel(tt.level)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateLevel(%d) = %v, want ok=%v", tt.level, err, tt.ok)
		}
		if err != nil && apperr.CodeOf(err) != apperr.BadUserInput {
			t.Errorf("ValidateLevel(%d) code = %s", tt.level, apperr.CodeOf(err))
		}
	}
}

func TestLevel(t *testing.T) {
	base := Settings{
		Levels:    map[Cluster]int{Personal: 40, Professional: 80},
		Overrides: map[Audience]map[Cluster]int{AudienceDating: {Personal: 90, Professional: 0}, AudienceFriends: {Creative: 30}, AudienceEveryone: {Professional: 20}},
		Follows: map[Audience]map[Cluster]bool{AudienceEveryone: {Personal: true, Creative: true}, AudienceIntimate: {Personal: true},
			AudienceAssistant: {Personal: true, Professional: true}},
	}
	bad := Settings{Levels: map[Cluster]int{Personal: 140}, Overrides: map[Audience]map[Cluster]int{AudienceIntimate: {Personal: -3}}}
	tests := []struct {
		name    string
		s       Settings
		c       Cluster
		a       Audience
		want    int
		wantErr bool
	}{
		{"cluster level", base, Personal, AudienceEveryone, 40, false},
		{"override raises", base, Personal, AudienceDating, 90, false},
		{"override of zero hides", base, Professional, AudienceDating, 0, false},
		{"override without base level", base, Creative, AudienceFriends, 30, false},
		{"missing setting", base, Creative, AudienceEveryone, 0, true},
		{"unknown cluster", base, "secret", AudienceEveryone, 0, true},
		{"unknown audience", base, Personal, "public", 0, true},
		{"stored level too high", bad, Personal, AudienceEveryone, 0, true},
		{"stored override negative", bad, Personal, AudienceIntimate, 0, true},
		{"zero settings", Settings{}, Personal, AudienceEveryone, 0, true},
		{"audience without a row", base, Personal, AudienceProfessional, 0, true},
		{"assistant follows everyone's level", base, Professional, AudienceAssistant, 20, false},
		{"assistant follows everyone following the cluster", base, Personal, AudienceAssistant, 40, false},
		{"assistant follows everyone without a row", base, Creative, AudienceAssistant, 0, true},
		{"damaged cluster", Settings{Levels: base.Levels, Overrides: base.Overrides, Follows: base.Follows,
			Damaged: map[Cluster]string{Personal: "unknown audience"}}, Personal, AudienceDating, 0, true},
		{"set and following", Settings{Levels: base.Levels, Overrides: base.Overrides,
			Follows: map[Audience]map[Cluster]bool{AudienceDating: {Personal: true}}}, Personal, AudienceDating, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.s.Level(tt.c, tt.a)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Level = %d, %v; want %d, err=%v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := base.Level(Creative, AudienceEveryone); !errors.Is(err, ErrNoSetting) {
		t.Errorf("missing setting error = %v, want ErrNoSetting", err)
	}
}

func TestWithMethodsCopy(t *testing.T) {
	s := DefaultSettings()
	s2, err := s.WithLevel(Creative, 10)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := s2.WithOverride(Creative, AudienceIntimate, 95)
	if err != nil {
		t.Fatal(err)
	}
	s4 := s3.WithoutOverride(Creative, AudienceIntimate)

	check := func(name string, s Settings, a Audience, want int) {
		t.Helper()
		if got, _ := s.Level(Creative, a); got != want {
			t.Errorf("%s: creative/%s = %d, want %d", name, a, got, want)
		}
	}
	check("original", s, AudienceIntimate, 50)
	check("after WithLevel", s2, AudienceIntimate, 10)
	check("after WithOverride", s3, AudienceIntimate, 95)
	check("after WithOverride, other audience", s3, AudienceFriends, 10)
	check("override kept in s3 after WithoutOverride", s3, AudienceIntimate, 95)
	check("after WithoutOverride", s4, AudienceIntimate, 10)

	if _, err := s.WithLevel(Creative, 101); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("WithLevel(101) err = %v", err)
	}
	if _, err := s.WithOverride("secret", AudienceDating, 10); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("WithOverride(unknown cluster) err = %v", err)
	}
	if _, err := s.WithOverride(Creative, "public", 10); apperr.CodeOf(err) != apperr.BadUserInput {
		t.Errorf("WithOverride(unknown audience) err = %v", err)
	}
}
