package graph

import (
	"context"
	"log/slog"
	"strings"

	"github.com/twinme/twinme/graph/model"
	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/soul"
	"github.com/twinme/twinme/internal/store"
	"github.com/twinme/twinme/internal/twin"
)

type shareLinkResolver struct{ *Resolver }

func clusterEnum(c string) model.LifeCluster { return model.LifeCluster(strings.ToUpper(c)) }
func audienceEnum(a string) model.Audience {
	return model.Audience(strings.ToUpper(a))
}

// audienceArg turns an optional Audience argument into privacy's spelling.
func audienceArg(a *model.Audience) string {
	if a == nil {
		return ""
	}
	return strings.ToLower(string(*a))
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
		info := model.LifeClusterInfo{Cluster: clusterEnum(string(ci.Cluster)), Level: s.Levels[ci.Cluster], Subclusters: []model.Subcluster{},
			Overrides: []model.AudienceLevel{}, Audiences: []model.AudienceSetting{}}
		for _, sc := range ci.Subclusters {
			info.Subclusters = append(info.Subclusters, model.Subcluster{Slug: string(sc.Subcluster)})
		}
		for _, a := range privacy.Audiences() {
			if lv, ok := s.Overrides[a][ci.Cluster]; ok {
				info.Overrides = append(info.Overrides, model.AudienceLevel{Audience: audienceEnum(string(a)), Level: lv})
			}
			as := model.AudienceSetting{Audience: audienceEnum(string(a)), Follows: s.Follows[a][ci.Cluster]}
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

func (r *mutationResolver) SetClusterPrivacy(ctx context.Context, cluster model.LifeCluster, level int, audience *model.Audience) (*model.PrivacySettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Soul.SetClusterPrivacy(ctx, v.User.ID, strings.ToLower(string(cluster)), level, audienceArg(audience))
	if err != nil {
		return nil, err
	}
	r.publishSignature(ctx, v.User.ID)
	return &model.PrivacySettings{Clusters: clusterInfos(s)}, nil
}

func (r *mutationResolver) ClearClusterPrivacy(ctx context.Context, cluster model.LifeCluster, audience model.Audience) (*model.PrivacySettings, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	s, err := r.Soul.ClearClusterPrivacy(ctx, v.User.ID, strings.ToLower(string(cluster)), strings.ToLower(string(audience)))
	if err != nil {
		return nil, err
	}
	r.publishSignature(ctx, v.User.ID)
	return &model.PrivacySettings{Clusters: clusterInfos(s)}, nil
}

// publishSignature tells the owner's dashboards that what audiences see changed.
func (r *Resolver) publishSignature(ctx context.Context, userID string) {
	e, err := events.New(events.SoulSignatureUpdated, userID, "", map[string]string{"reason": "privacy"})
	if err == nil {
		err = r.Events.Publish(ctx, e)
	}
	if err != nil {
		r.Log.WarnContext(ctx, "graph: publish soulSignatureUpdated", slog.Any("error", err))
	}
}

func (r *queryResolver) SoulSignature(ctx context.Context, audience *model.Audience) (*model.SoulSignature, error) {
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
	sv, err := r.Soul.Signature(ctx, "", v.User.ID, privacy.Audience(audienceArg(audience)))
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
		Insights: []model.InsightNode{}, Completeness: []model.ClusterCompleteness{}, Missing: nonNil(sv.Missing),
	}
	if sv.Audience != "" {
		a := audienceEnum(string(sv.Audience))
		out.Audience = &a
	}
	if sv.Analyzed {
		t := sv.AnalyzedAt
		out.AnalyzedAt = &t
	}
	for _, s := range sv.View.Summaries {
		out.Summaries = append(out.Summaries, model.ClusterSummary{Cluster: clusterEnum(string(s.Cluster)), Text: s.Text})
	}
	for _, t := range sv.View.Traits {
		mt := model.Trait{Name: t.Name, Score: t.Score, Confidence: t.Confidence, Evidence: []model.Evidence{},
			Reported: analysis.TraitReported(t), Statement: analysis.TraitStatement(t)}
		for _, e := range t.Evidence {
			mt.Evidence = append(mt.Evidence, model.Evidence{Label: e.Label, Value: e.Value, Weight: e.Weight})
		}
		out.Traits = append(out.Traits, mt)
	}
	for _, in := range sv.View.Insights {
		n := model.InsightNode{Key: in.Key, Cluster: clusterEnum(string(in.Cluster)), Title: in.Title, Body: in.Body,
			Confidence: in.Confidence, Sensitivity: in.Sensitivity, Source: sourceEnum(in.Source), Evidence: evidenceModel(in.Evidence)}
		if in.Subcluster != "" {
			sc := string(in.Subcluster)
			n.Subcluster = &sc
		}
		out.Insights = append(out.Insights, n)
	}
	for _, c := range sv.Completeness {
		out.Completeness = append(out.Completeness, model.ClusterCompleteness{Cluster: clusterEnum(string(c.Cluster)), Completeness: c.Score, Missing: nonNil(c.Missing)})
	}
	return out
}

func evidenceModel(ev []privacy.Evidence) []model.Evidence {
	out := make([]model.Evidence, 0, len(ev))
	for _, e := range ev {
		out = append(out, model.Evidence{Label: e.Label, Value: e.Value, Weight: e.Weight})
	}
	return out
}

func sourceEnum(s string) model.InsightSource {
	if s == "llm" {
		return model.InsightSourceLlm
	}
	return model.InsightSourcePattern
}

func (r *queryResolver) Insights(ctx context.Context, cluster *model.LifeCluster, first *int, after *string) (*model.InsightConnection, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	c := ""
	if cluster != nil {
		c = strings.ToLower(string(*cluster))
	}
	page, err := r.Soul.Insights(ctx, v.User.ID, c, first, deref(after))
	if err != nil {
		return nil, err
	}
	conn := &model.InsightConnection{Edges: make([]model.InsightEdge, 0, len(page.Insights))}
	for i := range page.Insights {
		node, err := insightModel(&page.Insights[i])
		if err != nil {
			return nil, err
		}
		conn.Edges = append(conn.Edges, model.InsightEdge{Node: node, Cursor: page.Cursors[i]})
	}
	conn.PageInfo.HasNextPage = page.HasNextPage
	if page.EndCursor != "" {
		conn.PageInfo.EndCursor = &page.EndCursor
	}
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

func (r *queryResolver) ShareLinks(ctx context.Context) ([]store.ShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Soul.ShareLinks(ctx, v.User.ID)
}

func (r *mutationResolver) CreateShareLink(ctx context.Context, audience model.Audience) (*model.CreatedShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	token, link, err := r.Soul.CreateShareLink(ctx, v.User.ID, strings.ToLower(string(audience)))
	if err != nil {
		return nil, err
	}
	return &model.CreatedShareLink{Token: token, ShareLink: *link}, nil
}

func (r *mutationResolver) RevokeShareLink(ctx context.Context, id string) (*store.ShareLink, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	return r.Soul.RevokeShareLink(ctx, v.User.ID, id)
}

func (r *subscriptionResolver) InsightAdded(ctx context.Context) (<-chan *model.Insight, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	userID := v.User.ID
	f := events.Filter{Topic: events.InsightAdded, UserID: userID}
	return share(ctx, r.Views, f, "", func(ctx context.Context, e events.Event) (*model.Insight, bool) {
		id, ok := eventID(e)
		if !ok {
			return nil, false
		}
		ins, err := r.Soul.Insight(ctx, userID, id)
		if err != nil {
			return nil, false // an insight replaced since is skipped
		}
		m, err := insightModel(ins)
		if err != nil {
			r.Log.WarnContext(ctx, "graph: insightAdded", slog.Any("error", err))
			return nil, false
		}
		return &m, true
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

// insightModel converts a stored insight for the API once, evidence and
// all, so its fields are plain (no resolver, no goroutine per field).
func insightModel(in *store.Insight) (model.Insight, error) {
	c := clusterEnum(in.Cluster)
	if !c.IsValid() {
		return model.Insight{}, apperr.New(apperr.Internal, "insight %s has unknown cluster %q", in.ID, in.Cluster)
	}
	return model.Insight{
		ID: in.ID, Key: in.Key, Cluster: c, Subcluster: optString(in.Subcluster), Title: in.Title, Body: in.Body,
		Evidence: evidenceModel(in.DecodedEvidence()), Confidence: in.Confidence, Sensitivity: in.Sensitivity,
		Source: sourceEnum(in.Source), CreatedAt: in.CreatedAt,
	}, nil
}

func (r *shareLinkResolver) Audience(ctx context.Context, obj *store.ShareLink) (model.Audience, error) {
	return audienceEnum(obj.Audience), nil
}

func (r *queryResolver) SimilarPeriods(ctx context.Context, first *int) ([]model.SimilarPeriod, error) {
	v, err := viewer(ctx)
	if err != nil {
		return nil, err
	}
	k, err := store.PageSize(first, 5, 100)
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
	k, err := store.PageSize(first, 5, 100)
	if err != nil {
		return nil, err
	}
	ms, err := r.Soul.SimilarTwins(ctx, v.User.ID, k)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := r.DB.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]model.SimilarTwin, 0, len(ms))
	for _, m := range ms {
		u, ok := users[m.UserID]
		if !ok {
			continue // deleted since
		}
		name := u.Name
		if name == "" {
			name = "a twinme user"
		}
		out = append(out, model.SimilarTwin{Name: name, Score: m.Score})
	}
	return out, nil
}

func (r *mutationResolver) SetSimilarTwinsOptIn(ctx context.Context, optIn bool, audience *model.Audience) (bool, error) {
	v, err := viewer(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Soul.SetSimilarTwinsOptIn(ctx, v.User.ID, optIn, audienceArg(audience)); err != nil {
		return false, err
	}
	return optIn, nil
}
