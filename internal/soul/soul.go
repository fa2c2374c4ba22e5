// Package soul is the analysis service: it turns a user's stored platform
// data and browser events into stored insights and a soul signature, keeps
// them fresh (debounced on new data, and through the scheduler's analysis
// job), and shows the signature to its owner in full and to anyone else only
// through privacy.Reveal.
package soul

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/jonboulle/clockwork"
	"golang.org/x/sync/singleflight"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/analysis/llm"
	"github.com/twinme/twinme/internal/events"
	"github.com/twinme/twinme/internal/privacy"
	"github.com/twinme/twinme/internal/store"
)

// Defaults of Options.
const (
	DefaultDebounce  = 30 * time.Second
	DefaultBatchSize = 20
)

// Options configure a Service. Zero values take the defaults.
type Options struct {
	Clock  clockwork.Clock
	Logger *slog.Logger
	// Bus receives InsightAdded and SoulSignatureUpdated (nil: none).
	Bus events.Bus
	// Model writes narrative summaries. nil or llm.Local: none are written
	// (Local can only quote, see llm.Summarize).
	Model llm.Model
	// Debounce is the shortest time between two triggered analyses of one
	// user (Notify); bursts within it are coalesced into one run.
	Debounce time.Duration
	// BatchSize bounds the users RunDue analyses in one call.
	BatchSize int
}

// Service is the analysis service. It is safe for concurrent use.
type Service struct {
	db    *store.DB
	clock clockwork.Clock
	log   *slog.Logger
	bus   events.Bus
	model llm.Model
	opts  Options

	// runs merges concurrent analyses of one user (a debounced trigger, the
	// job and requestAnalysis at once): the data is read once.
	runs singleflight.Group
	trig *trigger
	// analyze is Analyze; tests of the trigger replace it.
	analyze func(ctx context.Context, userID string) (RunResult, error)
}

// New returns the analysis service over db.
func New(db *store.DB, opts Options) *Service {
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if _, local := opts.Model.(llm.Local); local {
		opts.Model = nil
	}
	s := &Service{db: db, clock: opts.Clock, log: opts.Logger, bus: opts.Bus, model: opts.Model, opts: opts}
	s.trig = newTrigger(opts.Clock, opts.Debounce)
	s.analyze = s.Analyze
	return s
}

// Location is the time zone analyses run in. Users have no stored time
// zone yet (the users table holds none and the extension's events carry
// UTC timestamps only), so every analysis reads hours in UTC; a user's
// chronotype is then shifted by their UTC offset. When a time zone is
// stored, this is the one place to read it.
func (s *Service) Location(context.Context, string) *time.Location { return time.UTC }

// RunResult is the outcome of one analysis of a user.
type RunResult struct {
	UserID string
	// InsightsStored counts insights written because they were new or
	// changed (pattern and llm); each was published as InsightAdded.
	InsightsStored int
	// InsightsDeleted counts stored insights whose data is gone.
	InsightsDeleted int
	// SignatureChanged: the signature's content differs from the stored
	// one (SoulSignatureUpdated was published).
	SignatureChanged bool
	// Narratives is the number of LLM summaries written this run;
	// LLMErrors counts failed LLM calls (the run still succeeds).
	Narratives int
	LLMErrors  int
	Duration   time.Duration
}

// Stored signature JSON documents.
type signatureDoc struct {
	Features     analysis.Features              `json:"features"`
	Traits       []privacy.Trait                `json:"traits"`
	Embedding    []float32                      `json:"embedding"`
	Completeness []analysis.ClusterCompleteness `json:"completeness"`
	Summaries    []privacy.Summary              `json:"summaries"`
	Periods      []Period                       `json:"periods"`
}

// Period is one calendar month of a user's own data and its behavioural
// embedding.
type Period struct {
	Month     string    `json:"month"` // "2026-03"
	Embedding []float32 `json:"embedding"`
}

// Analyze analyses userID now: it loads the stored data, runs the local
// analyser, stores the insights that are new or changed (publishing
// InsightAdded for each), writes LLM narratives when a model is configured,
// and stores the signature (publishing SoulSignatureUpdated when its
// content changed). Running it again on unchanged data stores and
// publishes nothing. Concurrent calls for one user share one run.
func (s *Service) Analyze(ctx context.Context, userID string) (RunResult, error) {
	v, err, _ := s.runs.Do(userID, func() (any, error) { return s.analyzeOnce(ctx, userID) })
	if err != nil {
		return RunResult{UserID: userID}, err
	}
	return v.(RunResult), nil
}

func (s *Service) analyzeOnce(ctx context.Context, userID string) (RunResult, error) {
	res := RunResult{UserID: userID}
	start := s.clock.Now()
	// analyzed_at is when reading began: data stored while this run reads
	// is newer and makes the user due again.
	now := start.UTC()
	in, err := s.Load(ctx, userID)
	if err != nil {
		return res, err
	}
	loc := s.Location(ctx, userID)
	result := analysis.Analyze(in, loc, now)
	view := result.View()

	stored, deleted, err := s.db.SaveInsights(ctx, userID, store.InsightSourcePattern, view.Insights, now)
	if err != nil {
		return res, fmt.Errorf("soul: analyze: %w", err)
	}
	res.InsightsStored, res.InsightsDeleted = len(stored), deleted
	s.publishInsights(ctx, userID, stored)

	if s.model != nil {
		n, d, err := s.narrate(ctx, userID, view)
		if err != nil {
			res.LLMErrors++
			s.log.Warn("soul: narrative summaries failed; the analysis goes on without them",
				slog.String("user_id", userID), slog.Any("error", err))
		}
		res.Narratives = n
		res.InsightsStored += n
		res.InsightsDeleted += d
	}

	doc := signatureDoc{
		Features:     result.Features,
		Traits:       view.Traits,
		Embedding:    result.Embedding,
		Completeness: result.Completeness,
		Summaries:    Summaries(view.Insights),
		Periods:      monthlyPeriods(in, loc),
	}
	sig, err := encodeSignature(userID, doc, now)
	if err != nil {
		return res, err
	}
	changed, err := s.db.PutSoulSignature(ctx, sig)
	if err != nil {
		return res, fmt.Errorf("soul: analyze: %w", err)
	}
	res.SignatureChanged = changed
	if changed {
		s.publish(ctx, events.SoulSignatureUpdated, userID, "", SignatureUpdated{AnalyzedAt: now})
	}
	res.Duration = s.clock.Since(start)
	for name, n := range map[string]int{store.CounterAnalysis: 1, store.CounterInsights: res.InsightsStored} {
		if err := s.db.BumpCounter(context.WithoutCancel(ctx), name, "", int64(n), now); err != nil {
			s.log.Warn("soul: count", slog.String("counter", name), slog.Any("error", err))
		}
	}
	s.log.Info("soul: analyzed", slog.String("user_id", userID), slog.Int("insights_stored", res.InsightsStored),
		slog.Int("insights_deleted", res.InsightsDeleted), slog.Bool("signature_changed", changed),
		slog.Int("narratives", res.Narratives), slog.Int("llm_errors", res.LLMErrors))
	return res, nil
}

// narrate writes one LLM narrative per cluster from what the audience
// "everyone" may see under the user's settings, and stores them as llm
// insights. Why "everyone": the model is a third party, so it gets no more
// than the owner already shows the whole world; and a narrative's
// sensitivity is the highest of its sources', so any audience that the
// filter lets see it could see every insight it was written from anyway.
// Only after a successful call are stale narratives replaced.
func (s *Service) narrate(ctx context.Context, userID string, owner privacy.View) (stored, deleted int, err error) {
	settings, err := s.db.PrivacySettings(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	revealed := privacy.Reveal(privacy.View{Insights: owner.Insights}, settings, privacy.AudienceEveryone)
	narratives, err := llm.Summarize(ctx, s.model, revealed)
	if err != nil {
		return 0, 0, err
	}
	ins := make([]privacy.Insight, len(narratives))
	for i, n := range narratives {
		ins[i] = n.Insight()
	}
	rows, deleted, err := s.db.SaveInsights(ctx, userID, store.InsightSourceLLM, ins, s.clock.Now())
	if err != nil {
		return 0, 0, err
	}
	s.publishInsights(ctx, userID, rows)
	return len(rows), deleted, nil
}

// InsightAddedPayload is the payload of events.InsightAdded (key: the
// insight's cluster). It names the insight; subscribers read it by id, so
// the event stays far below PostgreSQL's NOTIFY limit.
type InsightAddedPayload struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// SignatureUpdated is the payload of events.SoulSignatureUpdated.
type SignatureUpdated struct {
	AnalyzedAt time.Time `json:"analyzedAt"`
}

func (s *Service) publishInsights(ctx context.Context, userID string, rows []store.Insight) {
	for _, r := range rows {
		s.publish(ctx, events.InsightAdded, userID, r.Cluster, InsightAddedPayload{ID: r.ID, Key: r.Key})
	}
}

func (s *Service) publish(ctx context.Context, topic, userID, key string, payload any) {
	if s.bus == nil {
		return
	}
	ev, err := events.New(topic, userID, key, payload)
	if err == nil {
		err = s.bus.Publish(context.WithoutCancel(ctx), ev)
	}
	if err != nil {
		s.log.Warn("soul: publish", slog.String("topic", topic), slog.Any("error", err))
	}
}

func encodeSignature(userID string, doc signatureDoc, now time.Time) (store.SoulSignature, error) {
	enc := func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	}
	sig := store.SoulSignature{UserID: userID, AnalyzedAt: now, UpdatedAt: now}
	var err error
	for _, f := range []struct {
		dst *string
		v   any
	}{
		{&sig.Features, doc.Features}, {&sig.Traits, doc.Traits}, {&sig.Embedding, doc.Embedding},
		{&sig.Completeness, doc.Completeness}, {&sig.Summaries, doc.Summaries}, {&sig.Periods, doc.Periods},
	} {
		if *f.dst, err = enc(f.v); err != nil {
			return sig, fmt.Errorf("soul: encode signature: %w", err)
		}
	}
	h := sha256.New()
	for _, part := range []string{sig.Features, sig.Traits, sig.Embedding, sig.Completeness, sig.Summaries, sig.Periods} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	sig.ContentHash = hex.EncodeToString(h.Sum(nil))
	return sig, nil
}

func decodeSignature(sig *store.SoulSignature) (signatureDoc, error) {
	var doc signatureDoc
	for _, f := range []struct {
		src string
		v   any
	}{
		{sig.Features, &doc.Features}, {sig.Traits, &doc.Traits}, {sig.Embedding, &doc.Embedding},
		{sig.Completeness, &doc.Completeness}, {sig.Summaries, &doc.Summaries}, {sig.Periods, &doc.Periods},
	} {
		if err := json.Unmarshal([]byte(f.src), f.v); err != nil {
			return doc, fmt.Errorf("soul: decode signature: %w", err)
		}
	}
	return doc, nil
}

// Summaries writes one local summary per cluster from its most confident
// insights (at most three), so a signature has per-cluster text without any
// LLM. A summary's sensitivity is the highest of the insights it quotes,
// so the reveal filter shows it only to an audience that may see all of
// them.
func Summaries(ins []privacy.Insight) []privacy.Summary {
	byCluster := map[privacy.Cluster][]privacy.Insight{}
	for _, in := range ins {
		if in.Source == store.InsightSourceLLM || !in.Cluster.Valid() || in.Title == "" {
			continue
		}
		byCluster[in.Cluster] = append(byCluster[in.Cluster], in)
	}
	var out []privacy.Summary
	for _, ci := range privacy.Clusters() {
		list := byCluster[ci.Cluster]
		if len(list) == 0 {
			continue
		}
		slices.SortStableFunc(list, func(a, b privacy.Insight) int {
			if a.Confidence != b.Confidence {
				if a.Confidence > b.Confidence {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Key, b.Key)
		})
		list = list[:min(3, len(list))]
		sum := privacy.Summary{Cluster: ci.Cluster}
		titles := make([]string, len(list))
		for i, in := range list {
			titles[i] = strings.TrimRight(in.Title, ".")
			sum.Sensitivity = max(sum.Sensitivity, in.Sensitivity)
			sum.Evidence = append(sum.Evidence, privacy.Evidence{Label: in.Title, Value: in.Key, Weight: in.Confidence})
		}
		sum.Text = ci.Name + ": " + strings.Join(titles, "; ") + "."
		out = append(out, sum)
	}
	return out
}

// DueResult is the outcome of one RunDue call, for the scheduler's
// analysis job.
type DueResult struct {
	UsersDue       int `json:"usersDue"`
	UsersAnalyzed  int `json:"usersAnalyzed"`
	UsersFailed    int `json:"usersFailed"`
	InsightsStored int `json:"insightsStored"`
	LLMErrors      int `json:"llmErrors"`
}

// RunDue analyses up to BatchSize users whose data changed since their
// last analysis (or who were never analysed), least recently analysed
// first. A user's failure is logged and counted and the others go on; the
// error is the listing's, or ctx's when it ends the batch early.
func (s *Service) RunDue(ctx context.Context) (DueResult, error) {
	var out DueResult
	ids, err := s.db.UsersDueForAnalysis(ctx, s.opts.BatchSize)
	if err != nil {
		return out, fmt.Errorf("soul: run due: %w", err)
	}
	out.UsersDue = len(ids)
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("soul: run due: %w", err)
		}
		r, err := s.analyze(ctx, id)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return out, fmt.Errorf("soul: run due: %w", err)
			}
			out.UsersFailed++
			s.log.Error("soul: analysis failed", slog.String("user_id", id), slog.Any("error", err))
			continue
		}
		out.UsersAnalyzed++
		out.InsightsStored += r.InsightsStored
		out.LLMErrors += r.LLMErrors
	}
	return out, nil
}
