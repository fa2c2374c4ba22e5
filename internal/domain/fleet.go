package domain

import "time"

// Fleet analytics: the whole fleet as an operator sees it (admins only).

// FleetCount is a number of rows of one (platform, status).
type FleetCount struct {
	Platform string
	Status   ConnectionStatus
	Count    int64
}

// FleetProblem groups connections in error or needing reauthorization by
// the reason they show (their last_error).
type FleetProblem struct {
	Platform string
	Status   ConnectionStatus
	Reason   string
	Count    int64
}

// FleetFreshness is the age of the last successful sync of a platform's
// connected connections.
type FleetFreshness struct {
	Platform    string
	Synced      int64 // connected and synced at least once
	NeverSynced int64 // connected, never synced yet
	// P50 and P95 ages of last_sync at the snapshot's time; nil without
	// synced connections.
	P50, P95 *time.Duration
}

// FleetDay is a count for one UTC day.
type FleetDay struct {
	Day   time.Time
	Count int64
}

// FleetLabelCount is a counter total for one label.
type FleetLabelCount struct {
	Label string
	Count int64
}

// FleetUsers counts people.
type FleetUsers struct {
	Total int64
	// Active7/Active30: users with a session or API token used in the last
	// 7 / 30 days.
	Active7, Active30 int64
	// NewPerDay: sign-ups per UTC day over the last 30 days, oldest first
	// (days without any are left out).
	NewPerDay []FleetDay
}

// FleetActivity sums the last 24 hours of work.
type FleetActivity struct {
	Imports, ImportedItems, ObserverEvents int64
	AnalysisRuns, InsightsStored           int64
	InsightsTotal                          int64
	LLMCalls, LLMErrors                    int64
}

// FleetSnapshot is the fleet as an operator sees it.
type FleetSnapshot struct {
	At                 time.Time
	Users              FleetUsers
	Connections        []FleetCount
	Problems           []FleetProblem
	Freshness          []FleetFreshness
	RefreshOutcomes24h []FleetRefreshOutcome
	Activity24h        FleetActivity
}

// FleetRefreshOutcome counts token refreshes of one platform by outcome
// (refreshed, transient, needs_reauth, error, unknown, …).
type FleetRefreshOutcome struct {
	Platform string
	Outcome  string
	Count    int64
}
