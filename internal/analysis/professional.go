package analysis

// FeatLinkedIn is 1 when a LinkedIn profile is connected.
const FeatLinkedIn = "linkedin.connected"

// Professional reads the LinkedIn OIDC profile. Sign In with LinkedIn gives
// no positions, skills, education or connections, only a name, photo, email
// and locale: facts for a profile card, nothing to infer from, so it makes
// no insight (the connection still counts towards completeness).
func Professional(p *Profile) Detection {
	d := newDetection()
	if p == nil || p.Sub == "" {
		return d
	}
	d.Features[FeatLinkedIn] = 1
	// Everything LinkedIn gives is a profile fact (a name, a locale), not
	// something learnt about the person: it belongs on the profile card,
	// not among the insights, so the detector only notes the connection.
	return d
}
