package graph

import (
	"context"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/twin"
)

// audienceArg turns an optional Audience argument into the service's
// value ("" for none).
func audienceArg(a *domain.Audience) domain.Audience {
	if a == nil {
		return ""
	}
	return *a
}

func (r *queryResolver) LifeClusters(ctx context.Context) ([]model.LifeClusterInfo, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Soul.PrivacySettings(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	return clusterInfos(s), nil
}

func (r *queryResolver) Privacy(ctx context.Context) (*model.PrivacySettings, error) {
	infos, err := r.LifeClusters(ctx)
	if err != nil {
		return nil, err
	}
	return &model.PrivacySettings{Clusters: infos}, nil
}

func clusterInfos(s privacy.Settings) []model.LifeClusterInfo {
	var out []model.LifeClusterInfo
	for _, ci := range privacy.Clusters() {
		info := model.LifeClusterInfo{Cluster: ci.Cluster, Level: s.Levels[ci.Cluster], Subclusters: []model.Subcluster{},
			Overrides: []model.AudienceLevel{}, Audiences: []model.AudienceSetting{}}
		for _, sc := range ci.Subclusters {
			info.Subclusters = append(info.Subclusters, model.Subcluster{Slug: string(sc.Subcluster)})
		}
		for _, a := range privacy.Audiences() {
			if lv, ok := s.Overrides[a][ci.Cluster]; ok {
				info.Overrides = append(info.Overrides, model.AudienceLevel{Audience: a, Level: lv})
			}
			as := model.AudienceSetting{Audience: a, Follows: s.Follows[a][ci.Cluster]}
			if lv, err := s.Level(ci.Cluster, a); err == nil {
				as.Level = &lv
			}
			info.Audiences = append(info.Audiences, as)
		}
		if why, bad := s.Damaged[ci.Cluster]; bad {
			info.Damaged = &why
		}
		out = append(out, info)
	}
	return out
}

func (r *mutationResolver) SetClusterPrivacy(ctx context.Context, cluster domain.Cluster, level int, audience *domain.Audience) (*model.PrivacySettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Soul.SetClusterPrivacy(ctx, v.User.ID, cluster, level, audienceArg(audience))
	if err != nil {
		return nil, err
	}
	return &model.PrivacySettings{Clusters: clusterInfos(s)}, nil
}

func (r *mutationResolver) ClearClusterPrivacy(ctx context.Context, cluster domain.Cluster, audience domain.Audience) (*model.PrivacySettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Soul.ClearClusterPrivacy(ctx, v.User.ID, cluster, audience)
	if err != nil {
		return nil, err
	}
	return &model.PrivacySettings{Clusters: clusterInfos(s)}, nil
}

func (r *queryResolver) SoulSignature(ctx context.Context, audience *domain.Audience) (*model.SoulSignature, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if audience == nil {
		sv, err := r.Soul.Signature(ctx, v.User.ID, v.User.ID, "")
		if err != nil {
			return nil, err
		}
		return signatureModel(sv), nil
	}
	// A preview: exactly what that audience would see (the filter runs as
	// for a stranger).
	sv, err := r.Soul.Signature(ctx, "", v.User.ID, *audience)
	if err != nil {
		return nil, err
	}
	return signatureModel(sv), nil
}

func (r *queryResolver) SharedTwin(ctx context.Context, token string) (*model.SoulSignature, error) {
	sv, err := r.Soul.SharedSignature(ctx, token)
	if err != nil {
		return nil, err
	}
	return signatureModel(sv), nil
}

func signatureModel(sv soul.SignatureView) *model.SoulSignature {
	out := &model.SoulSignature{
		Analyzed: sv.Analyzed, Summaries: []model.ClusterSummary{}, Traits: []model.Trait{},
		Insights: []domain.Insight{}, Completeness: []model.ClusterCompleteness{}, Missing: nonNil(sv.Missing),
	}
	if sv.Audience != "" {
		a := sv.Audience
		out.Audience = &a
	}
	if sv.Analyzed {
		t := sv.AnalyzedAt
		out.AnalyzedAt = &t
	}
	if sv.Owner && sv.DataFrom != nil && sv.DataTo != nil {
		out.DataWindow = &model.DataWindow{From: *sv.DataFrom, To: *sv.DataTo}
	}
	for _, s := range sv.View.Summaries {
		out.Summaries = append(out.Summaries, model.ClusterSummary{Cluster: s.Cluster, Text: s.Text})
	}
	for _, t := range sv.View.Traits {
		mt := model.Trait{Name: t.Name, Score: t.Score, Confidence: t.Confidence, Evidence: []domain.Evidence{},
			Reported: analysis.TraitReported(t), Statement: analysis.TraitStatement(t)}
		for _, e := range t.Evidence {
			mt.Evidence = append(mt.Evidence, domain.Evidence{Label: e.Label, Value: e.Value, Weight: e.Weight})
		}
		out.Traits = append(out.Traits, mt)
	}
	for _, in := range sv.View.Insights {
		out.Insights = append(out.Insights, in.Domain())
	}
	for _, c := range sv.Completeness {
		out.Completeness = append(out.Completeness, model.ClusterCompleteness{Cluster: c.Cluster, Completeness: c.Score, Missing: nonNil(c.Missing)})
	}
	return out
}

func (r *queryResolver) Insights(ctx context.Context, cluster *domain.Cluster, first *int, after *string) (*model.InsightConnection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	c := ""
	if cluster != nil {
		c = string(*cluster)
	}
	page, err := r.Soul.Insights(ctx, v.User.ID, c, first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.InsightConnection{}
	conn.Edges, conn.PageInfo = relay(page, func(n domain.Insight, c string) model.InsightEdge { return model.InsightEdge{Node: n, Cursor: c} })
	return conn, nil
}

func (r *mutationResolver) RequestAnalysis(ctx context.Context) (*model.AnalysisRun, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.AILimit.Check(ctx, twin.AIKey(v.User.ID), "AI operations"); err != nil {
		return nil, err
	}
	res, err := r.Soul.Analyze(ctx, v.User.ID)
	if err != nil {
		return nil, err
	}
	return &model.AnalysisRun{InsightsStored: res.InsightsStored, AnalyzedAt: r.Clock.Now().UTC()}, nil
}

func (r *queryResolver) ShareLinks(ctx context.Context) ([]domain.ShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Soul.ShareLinks(ctx, v.User.ID)
}

func (r *mutationResolver) CreateShareLink(ctx context.Context, audience domain.Audience) (*model.CreatedShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	token, link, err := r.Soul.CreateShareLink(ctx, v.User.ID, audience)
	if err != nil {
		return nil, err
	}
	return &model.CreatedShareLink{Token: token, ShareLink: *link}, nil
}

func (r *mutationResolver) RevokeShareLink(ctx context.Context, id string) (*domain.ShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Soul.RevokeShareLink(ctx, v.User.ID, id)
}

func (r *subscriptionResolver) InsightAdded(ctx context.Context) (<-chan *domain.Insight, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: events.InsightAdded, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*domain.Insight, bool) {
		// An insight replaced since (or unreadable) is skipped.
		return lookup(ctx, nil, e, "insightAdded", func(ctx context.Context, id string) (*domain.Insight, error) {
			return r.Soul.Insight(ctx, userID, id)
		})
	}), nil
}

func (r *subscriptionResolver) SoulSignatureUpdated(ctx context.Context) (<-chan *model.SoulSignature, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	// The owner's own view; a lagging dashboard gets only the latest.
	userID := v.User.ID
	f := events.Filter{Topic: events.SoulSignatureUpdated, UserID: userID}
	return share(ctx, r.Views, f, "owner", func(ctx context.Context, _ events.Event) (*model.SoulSignature, bool) {
		sv, err := r.Soul.Signature(ctx, userID, userID, "")
		return signatureModel(sv), err == nil
	}), nil
}

func (r *queryResolver) SimilarPeriods(ctx context.Context, first *int) ([]model.SimilarPeriod, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	k, err := domain.PageSize(first, 5, 100)
	if err != nil {
		return nil, err
	}
	ms, err := r.Soul.SimilarPeriods(ctx, v.User.ID, k)
	if err != nil {
		return nil, err
	}
	out := make([]model.SimilarPeriod, 0, len(ms))
	for _, m := range ms {
		out = append(out, model.SimilarPeriod{Month: m.Month, Score: m.Score})
	}
	return out, nil
}

func (r *queryResolver) SimilarTwins(ctx context.Context, first *int) ([]model.SimilarTwin, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	k, err := domain.PageSize(first, 5, 100)
	if err != nil {
		return nil, err
	}
	ms, err := r.Soul.SimilarTwinNames(ctx, v.User.ID, k)
	if err != nil {
		return nil, err
	}
	out := make([]model.SimilarTwin, 0, len(ms))
	for _, m := range ms {
		out = append(out, model.SimilarTwin{Name: m.Name, Score: m.Score})
	}
	return out, nil
}

func (r *mutationResolver) SetSimilarTwinsOptIn(ctx context.Context, optIn bool, audience *domain.Audience) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Soul.SetSimilarTwinsOptIn(ctx, v.User.ID, optIn, audienceArg(audience)); err != nil {
		return false, err
	}
	return optIn, nil
}
