package analysis

import "github.com/twinme/twinme/internal/privacy"

// The sensitivity scale. An insight's Sensitivity is the slider level its
// cluster must reach for an audience to see it; new accounts start every
// slider at privacy.DefaultLevel (50), so what sits above 50 stays hidden
// from a new share link until the owner raises a slider.
//
//	 0–20  public-profile facts and tastes: top language, genres, video
//	       interests (a taste that hints at views, News & Politics, starts at 60)
//	21–45  routines and volumes: coding rhythm, mail volume, reading habits
//	46–50  personality estimates (traits, and the embedding similar twins
//	       compare: analysis.DerivedSensitivity)
//	51–69  identifiers (SensitivityIdentifier) and cross-source correlations
//	70–100 health- and work-stress-adjacent patterns: attention, after-hours
//	       mail, the domains someone browses
//
// Identifiers are values that name a person or an account, or point to one:
// full names, email addresses, account handles (a channel or user name),
// server or guild names, and exact domains (a mail sender's, a site's). An
// insight that carries one anywhere — title, body or evidence — has a
// sensitivity of at least SensitivityIdentifier.
const SensitivityIdentifier = 60

// An identifier must stay hidden at the default level.
var _ [SensitivityIdentifier - privacy.DefaultLevel - 1]struct{}
