package analysis

import (
	"fmt"
	"strings"

	"github.com/twinme/twinme/internal/privacy"
)

// FeatLinkedIn is 1 when a LinkedIn profile is connected.
const FeatLinkedIn = "linkedin.connected"

// Professional reads the LinkedIn OIDC profile. It can say very little: that
// the user has a LinkedIn account, under which name, and the account's
// language and country. Sign In with LinkedIn gives no positions, skills,
// education or connections, so the insight says that too rather than
// guessing a career from a name.
func Professional(p *Profile) Detection {
	d := newDetection()
	if p == nil || p.Sub == "" {
		return d
	}
	d.Features[FeatLinkedIn] = 1
	in := Insight{Key: "linkedin.presence", Cluster: privacy.Professional, Subcluster: privacy.ProfessionalNetwork,
		Sensitivity: 40, Source: SourcePattern,
		Title: "On LinkedIn",
		// A fact read from the profile, not an inference from a sample.
		Confidence: 1,
	}
	who := "You have"
	if p.Name != "" {
		who = p.Name + " has"
	}
	in.Body = who + " a LinkedIn profile. LinkedIn shares only name, photo, email and locale with apps like Twin Me, so nothing here describes jobs, skills or network."
	if p.Name != "" {
		in.Evidence = append(in.Evidence, Evidence{Label: "Name on LinkedIn", Value: p.Name, Weight: 1})
	}
	if lang, country := splitLocale(p.Locale); lang != "" {
		v := lang
		if country != "" {
			v = fmt.Sprintf("%s (%s)", lang, country)
		}
		in.Evidence = append(in.Evidence, Evidence{Label: "Profile language", Value: v, Weight: 0.5})
	}
	if p.EmailVerified {
		in.Evidence = append(in.Evidence, Evidence{Label: "Verified email", Value: "yes", Weight: 0.25})
	}
	d.Insights = append(d.Insights, in)
	return d
}

// splitLocale turns "en_US" or "en-US" into ("en", "US").
func splitLocale(l string) (lang, country string) {
	l = strings.TrimSpace(l)
	if l == "" {
		return "", ""
	}
	lang, country, _ = strings.Cut(strings.ReplaceAll(l, "_", "-"), "-")
	return strings.ToLower(lang), strings.ToUpper(country)
}
