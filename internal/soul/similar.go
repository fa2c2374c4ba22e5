package soul

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/apperr"
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
// each other.
func (s *Service) SetSimilarTwinsOptIn(ctx context.Context, userID string, optIn bool) error {
	return s.db.SetOptInSimilar(ctx, userID, optIn, s.clock.Now())
}

// TwinMatch is another opted-in user and the cosine similarity of their
// behavioural embeddings.
type TwinMatch struct {
	UserID string
	Score  float64
}

// SimilarTwins returns the k opted-in users whose behavioural embedding is
// closest to userID's, most similar first.
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
	var target []float32
	if err := json.Unmarshal([]byte(sig.Embedding), &target); err != nil {
		return nil, fmt.Errorf("soul: similar twins: %w", err)
	}
	raw, err := s.db.OptedInEmbeddings(ctx, userID, maxTwinCandidates)
	if err != nil {
		return nil, err
	}
	cands := make(map[string][]float32, len(raw))
	for id, r := range raw {
		var v []float32
		if json.Unmarshal([]byte(r), &v) == nil {
			cands[id] = v
		}
	}
	var out []TwinMatch
	for _, m := range analysis.MostSimilar(target, cands, k) {
		out = append(out, TwinMatch{UserID: m.ID, Score: m.Score})
	}
	return out, nil
}
