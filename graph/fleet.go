package graph

import (
	"context"
	"time"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/auth"
	"github.com/twinme/twinme/internal/domain"
)

func (r *queryResolver) FleetAnalytics(ctx context.Context) (*model.FleetAnalytics, error) {
	if _, err := auth.RequireAdmin(ctx); err != nil {
		return nil, err
	}
	s, err := r.Fleet.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return fleetModel(s), nil
}

func fleetModel(s *domain.FleetSnapshot) *model.FleetAnalytics {
	seconds := func(d *time.Duration) *int {
		if d == nil {
			return nil
		}
		n := int(d.Seconds())
		return &n
	}
	out := &model.FleetAnalytics{
		GeneratedAt: s.At,
		Users: model.FleetUsers{
			Total: int(s.Users.Total), Active7Days: int(s.Users.Active7), Active30Days: int(s.Users.Active30),
			NewPerDay: []model.FleetDayCount{},
		},
		Connections:        []domain.ConnectionHealth{},
		ConnectionProblems: []model.FleetConnectionProblem{},
		SyncFreshness:      []model.FleetSyncFreshness{},
		RefreshOutcomes24h: []model.FleetRefreshOutcome{},
		Activity: model.FleetActivity{
			Imports24h: int(s.Activity24h.Imports), ImportedItems24h: int(s.Activity24h.ImportedItems),
			ObserverEvents24h: int(s.Activity24h.ObserverEvents), AnalysisRuns24h: int(s.Activity24h.AnalysisRuns),
			InsightsStored24h: int(s.Activity24h.InsightsStored), InsightsTotal: int(s.Activity24h.InsightsTotal),
			LlmCalls24h: int(s.Activity24h.LLMCalls), LlmErrors24h: int(s.Activity24h.LLMErrors),
		},
	}
	for _, d := range s.Users.NewPerDay {
		out.Users.NewPerDay = append(out.Users.NewPerDay, model.FleetDayCount{Day: d.Day.Format("2006-01-02"), Count: int(d.Count)})
	}
	for _, c := range s.Connections {
		out.Connections = append(out.Connections, domain.ConnectionHealth{Platform: domain.Platform(c.Platform), Status: c.Status, Count: int(c.Count)})
	}
	for _, p := range s.Problems {
		out.ConnectionProblems = append(out.ConnectionProblems, model.FleetConnectionProblem{
			Platform: domain.Platform(p.Platform), Status: p.Status, Reason: p.Reason, Count: int(p.Count),
		})
	}
	for _, f := range s.Freshness {
		out.SyncFreshness = append(out.SyncFreshness, model.FleetSyncFreshness{
			Platform: domain.Platform(f.Platform), Synced: int(f.Synced), NeverSynced: int(f.NeverSynced),
			P50AgeSeconds: seconds(f.P50), P95AgeSeconds: seconds(f.P95),
		})
	}
	for _, o := range s.RefreshOutcomes24h {
		out.RefreshOutcomes24h = append(out.RefreshOutcomes24h, model.FleetRefreshOutcome{Platform: domain.Platform(o.Platform), Outcome: o.Outcome, Count: int(o.Count)})
	}
	return out
}
