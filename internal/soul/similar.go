package soul

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/apperr"
	"github.com/twinme/twinme/internal/privacy"
)

// maxTwinCandidates bounds the opted-in users one SimilarTwins call
// compares against (a full scan; an index of vectors is the next step when
// the opted-in population outgrows it).
const maxTwinCandidates = 10_000

// monthlyPeriods splits the input by calendar month (in loc) and embeds each
// month's behaviour on its own. Things without a time of their own
// (repositories, guilds, the LinkedIn profile) belong to every month.
// Months whose embedding is all zeros (nothing measurable) are left out.
func monthlyPeriods(in analysis.Input, loc *time.Location) []Period {
	months := map[string]*analysis.Input{}
	get := func(t time.Time) *analysis.Input {
		k := t.In(loc).Format("2006-01")
		m := months[k]
		if m == nil {
			m = &analysis.Input{Repos: in.Repos, Guilds: in.Guilds, LinkedIn: in.LinkedIn}
			months[k] = m
		}
		return m
	}
	for _, p := range in.Plays {
		m := get(p.At)
		m.Plays = append(m.Plays, p)
	}
	for _, e := range in.CodeEvents {
		m := get(e.At)
		m.CodeEvents = append(m.CodeEvents, e)
	}
	for _, v := range in.Videos {
		if v.At.IsZero() {
			continue
		}
		m := get(v.At)
		m.Videos = append(m.Videos, v)
	}
	for _, ml := range in.Mails {
		m := get(ml.At)
		m.Mails = append(m.Mails, ml)
	}
	for _, o := range in.Observer {
		m := get(o.At)
		m.Observer = append(m.Observer, o)
	}
	keys := make([]string, 0, len(months))
	for k := range months {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []Period
	for _, k := range keys {
		start, _ := time.ParseInLocation("2006-01", k, loc)
		end := start.AddDate(0, 1, 0)
		emb := analysis.Embed(analysis.Analyze(*months[k], loc, end).Features)
		if analysis.IsZero(emb) {
			continue
		}
		out = append(out, Period{Month: k, Embedding: emb})
	}
	return out
}

// PeriodMatch is one earlier month and how much it resembles the latest.
type PeriodMatch struct {
	Month string
	Score float64 // cosine similarity, −1…1
}

// SimilarPeriods returns the k earlier months of userID's own data whose
// behaviour most resembles the latest month's, most similar first ("when
// were you last like you are now"). Nothing when fewer than two months
// have data.
func (s *Service) SimilarPeriods(ctx context.Context, userID string, k int) ([]PeriodMatch, error) {
	if k < 1 || k > 100 {
		return nil, apperr.Invalid("k", "k must be between 1 and 100")
	}
	sig, err := s.db.SoulSignature(ctx, userID)
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	doc, err := decodeSignature(sig)
	if err != nil {
		return nil, err
	}
	if len(doc.Periods) < 2 {
		return nil, nil
	}
	latest := doc.Periods[len(doc.Periods)-1]
	cands := make(map[string][]float32, len(doc.Periods)-1)
	for _, p := range doc.Periods[:len(doc.Periods)-1] {
		cands[p.Month] = p.Embedding
	}
	var out []PeriodMatch
	for _, m := range analysis.MostSimilar(latest.Embedding, cands, k) {
		out = append(out, PeriodMatch{Month: m.ID, Score: m.Score})
	}
	return out, nil
}

// SetSimilarTwinsOptIn records whether userID takes part in similar twins
// (off by default): only users who opted in are compared, and only with
// each other, on the view of the audience they share for matching
// (audience; "" is EVERYONE).
//
// Errors: BAD_USER_INPUT for an unknown audience or the assistant.
func (s *Service) SetSimilarTwinsOptIn(ctx context.Context, userID string, optIn bool, audience privacy.Audience) error {
	a := privacy.AudienceEveryone
	if audience != "" {
		var err error
		if a, err = privacy.ParseAudience(string(audience)); err != nil {
			return err
		}
	}
	if a == privacy.AudienceAssistant {
		return apperr.Invalid("audience", "similar twins are matched on a person's audience, not ASSISTANT")
	}
	return s.db.SetOptInSimilar(ctx, userID, optIn, a, s.clock.Now())
}

// TwinMatch is another opted-in user and the cosine similarity of the
// embeddings of what each shares for matching.
type TwinMatch struct {
	UserID string
	Score  float64
}

// SimilarTwins returns the k opted-in users closest to userID, most similar
// first. Both sides are compared on what they agreed to share for matching,
// never on raw data: each user's embedding is analysis.RevealedEmbedding of
// their features through their match audience's lens, under their settings
// as stored now (damaged settings reveal nothing). A user hidden from that
// audience in every cluster has the zero embedding and matches no one.
//
// Errors: FORBIDDEN unless userID opted in; BAD_USER_INPUT for k outside
// 1–100.
func (s *Service) SimilarTwins(ctx context.Context, userID string, k int) ([]TwinMatch, error) {
	if k < 1 || k > 100 {
		return nil, apperr.Invalid("k", "k must be between 1 and 100")
	}
	sig, err := s.db.SoulSignature(ctx, userID)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return nil, err
	}
	if sig == nil || !sig.OptInSimilar {
		return nil, apperr.New(apperr.Forbidden, "similar twins are only shown to people who opted in to them; turn it on first")
	}
	settings, err := s.db.PrivacySettings(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("soul: similar twins: %w", err)
	}
	target := s.matchEmbedding(ctx, userID, sig.Features, sig.MatchAudience, settings)
	cands, err := s.db.OptedInCandidates(ctx, userID, maxTwinCandidates)
	if err != nil {
		return nil, err
	}
	vecs := make(map[string][]float32, len(cands))
	for _, c := range cands {
		vecs[c.UserID] = s.matchEmbedding(ctx, c.UserID, c.Features, c.MatchAudience, c.Settings)
	}
	var out []TwinMatch
	for _, m := range analysis.MostSimilar(target, vecs, k) {
		out = append(out, TwinMatch{UserID: m.ID, Score: m.Score})
	}
	return out, nil
}

// matchEmbedding is what userID shares for matching: the embedding of the
// features their match audience may see. Anything unreadable gives the
// zero vector (no match).
func (s *Service) matchEmbedding(ctx context.Context, userID, featuresJSON, audience string, settings privacy.Settings) []float32 {
	var f analysis.Features
	a, err := privacy.ParseAudience(audience)
	if err == nil {
		err = json.Unmarshal([]byte(featuresJSON), &f)
	}
	if err != nil {
		s.log.WarnContext(ctx, "soul: similar twins: unreadable match view; not matched", slog.String("user_id", userID), slog.Any("error", err))
		return make([]float32, analysis.EmbeddingSize)
	}
	s.logDamage(ctx, userID, settings)
	return analysis.RevealedEmbedding(f, settings.Lens(a))
}

// NamedTwin is a similar twin as another user may see it: a display name
// and the score.
type NamedTwin struct {
	Name  string
	Score float64
}

// SimilarTwinNames is SimilarTwins with each user's display name ("a
// twinme user" without one); users deleted since are left out.
func (s *Service) SimilarTwinNames(ctx context.Context, userID string, k int) ([]NamedTwin, error) {
	ms, err := s.SimilarTwins(ctx, userID, k)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.UserID
	}
	users, err := s.db.UsersByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]NamedTwin, 0, len(ms))
	for _, m := range ms {
		u, ok := users[m.UserID]
		if !ok {
			continue // deleted since
		}
		name := u.Name
		if name == "" {
			name = "a twinme user"
		}
		out = append(out, NamedTwin{Name: name, Score: m.Score})
	}
	return out, nil
}
