package events

import "context"

// Side effects inside one process are not events: a producer is given, at
// wiring (internal/app's hooks), the hooks it must call, and calls them
// itself. The bus above is for subscribers (dashboards, other instances).

// AnalysisTrigger is told that a user's data changed, so that the analysis
// of that user runs soon (debounced by the implementation; soul.Service).
// Every producer of user data calls it once it stored something new: the
// polling engine after a sync run, imports, observer batches and archive
// imports. It must not block.
type AnalysisTrigger interface {
	// DataChanged says userID has new data from source (a platform,
	// "observer" or "archive").
	DataChanged(ctx context.Context, userID, source string)
}

// AnalysisTriggerFunc adapts a function to AnalysisTrigger.
type AnalysisTriggerFunc func(ctx context.Context, userID, source string)

// DataChanged calls f.
func (f AnalysisTriggerFunc) DataChanged(ctx context.Context, userID, source string) {
	f(ctx, userID, source)
}
