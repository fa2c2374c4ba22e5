package soul

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/domain"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
)

// SignatureView is a soul signature as one viewer may see it.
type SignatureView struct {
	// Owner: the viewer is the user; View is then unfiltered and
	// Completeness is set.
	Owner bool
	// Audience the view was revealed for ("" for the owner).
	Audience privacy.Audience
	// Analyzed is false until the first analysis; AnalyzedAt is then zero.
	Analyzed   bool
	AnalyzedAt time.Time
	View       privacy.View
	// Completeness (owner only: which platforms someone uses is itself
	// personal) says per cluster which sources have enough data and how
	// to supply the rest. Missing lists those sources once each.
	Completeness []analysis.ClusterCompleteness
	Missing      []string
	// DataFrom and DataTo (owner only) are the window of stored data the
	// signature was computed from; nil before an analysis that read data.
	DataFrom, DataTo *time.Time
}

// Empty reports whether there is nothing to show: no insight, summary or
// trait.
func (v SignatureView) Empty() bool {
	return len(v.View.Insights) == 0 && len(v.View.Summaries) == 0 && len(v.View.Traits) == 0
}

// Signature returns owner's signature as viewer sees it for audience. The
// owner sees everything (audience is ignored); anyone else, and an
// anonymous viewer (""), sees only what audience may see (RevealedView's
// rules): this is the one path for share links, previews and twin chat
// with others. If the settings cannot be read, nothing is revealed (the
// error is returned). A user with no data gets an empty signature whose
// Completeness says what is missing: no error, and no personality.
//
// Errors: BAD_USER_INPUT for an unknown audience (non-owners).
func (s *Service) Signature(ctx context.Context, viewerUserID, ownerUserID string, audience privacy.Audience) (SignatureView, error) {
	isOwner := viewerUserID != "" && viewerUserID == ownerUserID
	if !isOwner {
		a, err := privacy.ParseAudience(string(audience))
		if err != nil {
			return SignatureView{}, err
		}
		audience = a
	}
	if !isOwner {
		r, err := s.cachedRevealed(ctx, ownerUserID, []privacy.Audience{audience}, func() (revealedRead, error) {
			full, doc, analyzed, err := s.ownerView(ctx, ownerUserID)
			if err != nil {
				return revealedRead{}, err
			}
			lens, err := s.lens(ctx, ownerUserID, audience)
			if err != nil {
				return revealedRead{}, err
			}
			return revealedRead{view: revealedView(full, doc, lens), an: analyzed}, nil
		})
		if err != nil {
			return SignatureView{}, err
		}
		return SignatureView{Audience: audience, Analyzed: r.an.ok, AnalyzedAt: r.an.at, View: r.view}, nil
	}
	full, doc, analyzed, err := s.ownerView(ctx, ownerUserID)
	if err != nil {
		return SignatureView{}, err
	}
	out := SignatureView{Owner: true, Analyzed: analyzed.ok, AnalyzedAt: analyzed.at, View: full, Completeness: doc.Completeness,
		DataFrom: analyzed.from, DataTo: analyzed.to}
	if len(out.Completeness) == 0 {
		// Never analysed: nothing is known, so everything is missing.
		out.Completeness = analysis.Analyze(analysis.Input{}, time.UTC, s.clock.Now()).Completeness
	}
	out.Missing = missing(out.Completeness)
	return out, nil
}

// RevealedView returns what every one of audiences may see of owner's
// signature (the meet of their lenses; at least one audience): what twin
// chat and anything sent to a model are built from.
//
// Errors: BAD_USER_INPUT for an unknown audience or none.
func (s *Service) RevealedView(ctx context.Context, ownerUserID string, audiences ...privacy.Audience) (privacy.View, error) {
	if len(audiences) == 0 {
		return privacy.View{}, apperr.Invalid("audience", "a revealed view needs an audience")
	}
	parsed := make([]privacy.Audience, len(audiences))
	for i, a := range audiences {
		var err error
		if parsed[i], err = privacy.ParseAudience(string(a)); err != nil {
			return privacy.View{}, err
		}
	}
	r, err := s.cachedRevealed(ctx, ownerUserID, parsed, func() (revealedRead, error) {
		var lens privacy.Lens
		for i, a := range parsed {
			l, err := s.lens(ctx, ownerUserID, a)
			if err != nil {
				return revealedRead{}, err
			}
			if i == 0 {
				lens = l
			} else {
				lens = lens.Meet(l)
			}
		}
		full, doc, analyzed, err := s.ownerView(ctx, ownerUserID)
		if err != nil {
			return revealedRead{}, err
		}
		return revealedRead{view: revealedView(full, doc, lens), an: analyzed}, nil
	})
	return r.view, err
}

// revealedView builds what lens lets its audience see, from the revealed
// inputs only: the insights the filter lets through, summaries written
// from those insights alone, and traits estimated from the features of
// the clusters the lens shows (analysis.RevealedTraits). Nothing derived
// from the owner's full data passes.
func revealedView(full privacy.View, doc signatureDoc, lens privacy.Lens) privacy.View {
	v := privacy.RevealLens(privacy.View{Insights: full.Insights}, lens)
	v.Summaries = Summaries(v.Insights)
	v.Traits = analysis.PrivacyTraits(analysis.RevealedTraits(doc.Features, lens))
	return v
}

// lens reads owner's settings and resolves audience's levels; damaged
// settings are logged (once per user, cluster and reason) and reveal
// nothing of their cluster.
func (s *Service) lens(ctx context.Context, ownerUserID string, audience privacy.Audience) (privacy.Lens, error) {
	settings, err := s.settingsOf(ctx, ownerUserID)
	if err != nil {
		return nil, fmt.Errorf("soul: signature: %w", err)
	}
	s.logDamage(ctx, ownerUserID, settings)
	return settings.Lens(audience), nil
}

// logDamage logs each damaged cluster and unknown row of userID's settings
// once per process.
func (s *Service) logDamage(ctx context.Context, userID string, settings privacy.Settings) {
	for c, why := range settings.Damaged {
		if _, seen := s.damageLogged.LoadOrStore(userID+"\x00"+string(c)+"\x00"+why, true); !seen {
			s.log.ErrorContext(ctx, "soul: privacy settings damaged; the cluster reveals nothing to anyone but its owner",
				slog.String("user_id", userID), slog.String("cluster", string(c)), slog.String("reason", why))
		}
	}
	for _, u := range settings.Unknown {
		if _, seen := s.damageLogged.LoadOrStore(userID+"\x00unknown\x00"+u, true); !seen {
			s.log.ErrorContext(ctx, "soul: privacy setting names an unknown cluster; ignored",
				slog.String("user_id", userID), slog.String("row", u))
		}
	}
}

type analyzedAt struct {
	ok       bool
	at       time.Time
	from, to *time.Time
}

// ownerView assembles the owner's unfiltered view from stored insights (of
// both sources) and the stored signature's traits and summaries, once per
// request (WithRequestMemo). Callers must not change what it returns.
func (s *Service) ownerView(ctx context.Context, userID string) (privacy.View, signatureDoc, analyzedAt, error) {
	r, err := memoized(ctx, (*memo).ownersTable, userID, func() (ownerRead, error) {
		return s.cachedOwnerView(ctx, userID)
	})
	return r.view, r.doc, r.an, err
}

func (s *Service) readOwnerView(ctx context.Context, userID string) (privacy.View, signatureDoc, analyzedAt, error) {
	var v privacy.View
	var doc signatureDoc
	var an analyzedAt
	sig, err := s.db.SoulSignature(ctx, userID)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
	case err != nil:
		return v, doc, an, fmt.Errorf("soul: signature: %w", err)
	default:
		if doc, err = decodeSignatureView(sig); err != nil {
			return v, doc, an, err
		}
		// A signature row holding only the similar-twins opt-in has the
		// zero analysis time and no completeness.
		if len(doc.Completeness) > 0 {
			an = analyzedAt{ok: true, at: sig.AnalyzedAt, from: sig.DataFrom, to: sig.DataTo}
		}
	}
	rows, err := s.db.AllInsights(ctx, userID)
	if err != nil {
		return v, doc, an, fmt.Errorf("soul: signature: %w", err)
	}
	for i := range rows {
		if !privacy.Cluster(rows[i].Cluster).Valid() {
			s.logUnknownCluster(ctx, rows[i].ID, rows[i].UserID, rows[i].Cluster)
			continue
		}
		v.Insights = append(v.Insights, rows[i].PrivacyInsight())
	}
	v.Summaries = doc.Summaries
	v.Traits = doc.Traits
	return v, doc, an, nil
}

func missing(cc []analysis.ClusterCompleteness) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cc {
		for _, m := range c.Missing {
			if !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out
}

// SharedSignature returns what a share link's audience may see of its
// owner's signature.
//
// Errors: NOT_FOUND for an unknown or revoked token.
func (s *Service) SharedSignature(ctx context.Context, token string) (SignatureView, error) {
	l, err := s.db.ResolveShareLink(ctx, token, s.clock.Now())
	if err != nil {
		return SignatureView{}, err
	}
	sv, err := s.Signature(ctx, "", l.UserID, privacy.Audience(l.Audience))
	if err == nil && s.opts.OnSharedView != nil {
		s.opts.OnSharedView(ctx, *l)
	}
	return sv, err
}

// ResolveShare returns the live share link of token, for twin chat through
// a link (whose replies must come from Signature(ctx, "", owner, audience)).
// It stamps the link's last use.
//
// Errors: NOT_FOUND for an unknown or revoked token; INTERNAL for a stored
// audience that is unknown (nothing is shown through such a link).
func (s *Service) ResolveShare(ctx context.Context, token string) (domain.ShareLink, error) {
	l, err := s.db.ResolveShareLink(ctx, token, s.clock.Now())
	if err != nil {
		return domain.ShareLink{}, err
	}
	if !privacy.Audience(l.Audience).Valid() {
		return domain.ShareLink{}, apperr.New(apperr.Internal, "share link %s has unknown audience %q", l.ID, l.Audience)
	}
	return l.Domain(), nil
}

// CreateShareLink creates a link showing userID's signature to audience and
// returns its token (shown once).
//
// Errors: BAD_USER_INPUT for an unknown audience, and for the assistant
// (the language model's audience is no one a link could be given to).
func (s *Service) CreateShareLink(ctx context.Context, userID string, audience privacy.Audience) (string, *domain.ShareLink, error) {
	a, err := privacy.ParseAudience(string(audience))
	if err != nil {
		return "", nil, err
	}
	if a == privacy.AudienceAssistant {
		return "", nil, apperr.Invalid("audience", "ASSISTANT is the language model's audience; a share link needs a person's audience")
	}
	token, l, err := s.db.CreateShareLink(ctx, userID, a, s.clock.Now())
	if err != nil {
		return "", nil, err
	}
	d := l.Domain()
	return token, &d, nil
}

// RevokeShareLink revokes userID's link id. Errors: NOT_FOUND.
func (s *Service) RevokeShareLink(ctx context.Context, userID, id string) (*domain.ShareLink, error) {
	l, err := s.db.RevokeShareLink(ctx, userID, id, s.clock.Now())
	if err != nil {
		return nil, err
	}
	d := l.Domain()
	return &d, nil
}

// DeleteShareLink deletes userID's link id and its access log (revoking
// keeps both). Errors: NOT_FOUND.
func (s *Service) DeleteShareLink(ctx context.Context, userID, id string) error {
	return s.db.DeleteShareLink(ctx, userID, id)
}

// ShareLinks lists userID's links, newest first.
func (s *Service) ShareLinks(ctx context.Context, userID string) ([]domain.ShareLink, error) {
	rows, err := s.db.ListShareLinks(ctx, userID)
	return store.Domains(rows, (*store.ShareLink).Domain), err
}

// PrivacySettings returns userID's sliders (every cluster at 50 until set).
func (s *Service) PrivacySettings(ctx context.Context, userID string) (privacy.Settings, error) {
	return s.settingsOf(ctx, userID)
}

// SetClusterPrivacy sets userID's slider of cluster, for audience when it
// is not "" (an override) or else the cluster's own level, and returns the
// settings as they now are. Cluster and audience take slugs or GraphQL
// enum spellings (parsed again: a typed value from outside the API may be
// anything).
//
// Errors: BAD_USER_INPUT for an unknown cluster or audience or a level
// outside 0–100.
func (s *Service) SetClusterPrivacy(ctx context.Context, userID string, cluster privacy.Cluster, level int, audience privacy.Audience) (privacy.Settings, error) {
	c, err := privacy.ParseCluster(string(cluster))
	if err != nil {
		return privacy.Settings{}, err
	}
	var a privacy.Audience
	if audience != "" {
		if a, err = privacy.ParseAudience(string(audience)); err != nil {
			return privacy.Settings{}, err
		}
	}
	if err := privacy.ValidateLevel(level); err != nil {
		return privacy.Settings{}, err
	}
	st, err := s.db.SetPrivacyLevel(ctx, userID, c, a, level, s.clock.Now())
	if err == nil {
		s.publishPrivacyChanged(ctx, userID)
	}
	return st, err
}

// publishPrivacyChanged tells the owner's dashboards that what audiences
// see changed.
func (s *Service) publishPrivacyChanged(ctx context.Context, userID string) {
	_ = events.Publish(context.WithoutCancel(ctx), s.bus, s.log, userID, "", SignatureUpdated{Reason: "privacy"})
}

// ClearClusterPrivacy makes audience follow again for cluster (the
// cluster's slider; the everyone audience's level for the assistant): the
// stored row is rewritten to follow, never deleted. It returns the
// settings as they now are.
//
// Errors: BAD_USER_INPUT for an unknown cluster or audience.
func (s *Service) ClearClusterPrivacy(ctx context.Context, userID string, cluster privacy.Cluster, audience privacy.Audience) (privacy.Settings, error) {
	c, err := privacy.ParseCluster(string(cluster))
	if err != nil {
		return privacy.Settings{}, err
	}
	a, err := privacy.ParseAudience(string(audience))
	if err != nil {
		return privacy.Settings{}, err
	}
	st, err := s.db.FollowPrivacyLevel(ctx, userID, c, a, s.clock.Now())
	if err == nil {
		s.publishPrivacyChanged(ctx, userID)
	}
	return st, err
}

// InsightPage is one page of Insights.
type InsightPage = domain.Page[domain.Insight]

// Page sizes of Insights.
const (
	DefaultInsightPage = 20
	MaxInsightPage     = 100
)

// Insights lists the owner's own insights of cluster ("" for all), newest
// first, first after the opaque cursor after.
//
// Errors: BAD_USER_INPUT for an unknown cluster, a bad first or cursor.
func (s *Service) Insights(ctx context.Context, userID, cluster string, first *int, after string) (InsightPage, error) {
	var c privacy.Cluster
	if cluster != "" {
		var err error
		if c, err = privacy.ParseCluster(cluster); err != nil {
			return InsightPage{}, err
		}
	}
	n, err := domain.PageSize(first, DefaultInsightPage, MaxInsightPage)
	if err != nil {
		return InsightPage{}, err
	}
	cur, err := domain.DecodeCursor(after)
	if err != nil {
		return InsightPage{}, err
	}
	rows, err := s.db.ListInsights(ctx, userID, string(c), cur, n+1)
	if err != nil {
		return InsightPage{}, err
	}
	page := domain.NewPage(store.Domains(rows, (*store.Insight).Domain), n, domain.Insight.Cursor)
	// The next page still starts past a skipped row.
	return page.Keep(func(in domain.Insight) bool {
		if !in.Cluster.Valid() {
			s.logUnknownCluster(ctx, in.ID, userID, string(in.Cluster))
		}
		return in.Cluster.Valid()
	}), nil
}

// logUnknownCluster logs (once per insight and process) a stored insight
// whose cluster is unknown: it is skipped wherever insights are listed,
// rather than failing the whole list.
func (s *Service) logUnknownCluster(ctx context.Context, id, userID, cluster string) {
	if _, seen := s.damageLogged.LoadOrStore("insight\x00"+id+"\x00"+cluster, true); !seen {
		s.log.ErrorContext(ctx, "soul: stored insight has an unknown cluster; skipped",
			slog.String("user_id", userID), slog.String("insight", id), slog.String("cluster", cluster))
	}
}

// Insight returns the owner's insight id (for an InsightAdded event).
// Errors: NOT_FOUND, also for another user's insight.
func (s *Service) Insight(ctx context.Context, userID, id string) (*domain.Insight, error) {
	in, err := s.db.InsightByID(ctx, userID, id)
	if err != nil {
		return nil, err
	}
	if !privacy.Cluster(in.Cluster).Valid() {
		s.logUnknownCluster(ctx, in.ID, in.UserID, in.Cluster)
		return nil, apperr.New(apperr.Internal, "insight %s has unknown cluster %q", in.ID, in.Cluster)
	}
	d := in.Domain()
	return &d, nil
}
