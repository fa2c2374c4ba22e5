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
	"sync"
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
	// OnSharedView is told of each view of a signature through a share
	// link (the access log); the owner's own previews never reach it.
	OnSharedView func(ctx context.Context, link store.ShareLink)
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
	// damageLogged remembers damaged settings and broken rows already
	// logged, so each is logged once per process.
	damageLogged sync.Map
	// views keeps owners' decoded signatures and revealed views while
	// their data version holds.
	views *viewCache
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
	s := &Service{db: db, clock: opts.Clock, log: opts.Logger, bus: opts.Bus, model: opts.Model, opts: opts, views: newViewCache()}
	s.trig = newTrigger(opts.Clock, opts.Debounce)
	s.analyze = s.Analyze
	return s
}

// Location is the time zone userID's analyses run in: the IANA zone they
// chose, else the UTC offset their browser extension first reported, else
// UTC (store.User.Location). A user that cannot be read is analysed in UTC
// and the error returned.
func (s *Service) Location(ctx context.Context, userID string) (*time.Location, error) {
	u, err := s.db.UserByID(ctx, userID)
	if err != nil {
		return time.UTC, fmt.Errorf("soul: time zone: %w", err)
	}
	return u.Location(), nil
}

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
	loc, err := s.Location(ctx, userID)
	if err != nil {
		return res, err
	}
	result := analysis.Analyze(in, loc, now)
	view := result.View()

	stored, deleted, err := s.db.SaveInsights(ctx, userID, store.InsightSourcePattern, view.Insights, now)
	if err != nil {
		return res, fmt.Errorf("soul: analyze: %w", err)
	}
	res.InsightsStored, res.InsightsDeleted = len(stored), deleted
	s.publishInsights(ctx, userID, stored)

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
	if sig.DataFrom, sig.DataTo, err = s.db.DataWindow(ctx, userID); err != nil {
		return res, fmt.Errorf("soul: analyze: %w", err)
	}
	changed, err := s.db.PutSoulSignature(ctx, sig)
	if err != nil {
		return res, fmt.Errorf("soul: analyze: %w", err)
	}
	res.SignatureChanged = changed

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
	if changed {
		events.Publish(context.WithoutCancel(ctx), s.bus, s.log, userID, "", SignatureUpdated{Reason: "analysis", AnalyzedAt: now})
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

// narrate writes one LLM narrative per cluster from what the ASSISTANT
// audience may see under the user's settings, and stores them as llm
// insights. The model is an audience like any other: it is sent the
// revealed titles and bodies of that view and nothing else.
//
// The model is called for a cluster only when the input it would narrate
// changed: the hash of that input (the revealed insights' text and the
// cluster's assistant level) is kept with the signature, and a cluster
// whose hash matches keeps its stored narrative. A cluster with nothing
// revealed has no narrative; a cluster whose call failed loses its old one
// (it no longer matches the data).
//
// A narrative's sensitivity is the highest of its sources' and of the
// assistant's level for its cluster, so an audience that may see it could
// see every insight the assistant's view of that cluster held.
func (s *Service) narrate(ctx context.Context, userID string, owner privacy.View) (stored, deleted int, err error) {
	settings, err := s.db.PrivacySettings(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	s.logDamage(ctx, userID, settings)
	lens := settings.Lens(privacy.AudienceAssistant)
	revealed := privacy.RevealLens(privacy.View{Insights: owner.Insights}, lens)
	hashes := narrativeInputs(revealed, lens)

	var done map[privacy.Cluster]string
	if sig, err := s.db.SoulSignature(ctx, userID); err == nil {
		_ = json.Unmarshal([]byte(sig.Narrated), &done) // unreadable: narrate everything again
	}
	existing := map[string]privacy.Insight{}
	rows, err := s.db.AllInsights(ctx, userID)
	if err != nil {
		return 0, 0, err
	}
	for i := range rows {
		if rows[i].Source == store.InsightSourceLLM {
			existing[rows[i].Key] = rows[i].PrivacyInsight()
		}
	}

	var keep []privacy.Insight
	var todo privacy.View
	for _, ci := range privacy.Clusters() {
		h, ok := hashes[ci.Cluster]
		if !ok {
			continue
		}
		if old, have := existing[llm.SummaryKeyPrefix+string(ci.Cluster)]; have && done[ci.Cluster] == h {
			keep = append(keep, old)
			continue
		}
		for _, in := range revealed.Insights {
			if in.Cluster == ci.Cluster {
				todo.Insights = append(todo.Insights, in)
			}
		}
	}
	narrated := map[privacy.Cluster]string{}
	for _, in := range keep {
		narrated[in.Cluster] = hashes[in.Cluster]
	}
	var callErr error
	if len(todo.Insights) > 0 {
		var narratives []llm.Narrative
		narratives, callErr = llm.Summarize(ctx, s.model, todo)
		if callErr == nil {
			for _, n := range narratives {
				in := n.Insight()
				in.Sensitivity = max(in.Sensitivity, lens.Level(in.Cluster))
				// A narrative draws on every cluster its sources draw on.
				for _, src := range todo.Insights {
					for _, k := range src.Also {
						if src.Cluster == in.Cluster && k != in.Cluster && !slices.Contains(in.Also, k) {
							in.Also = append(in.Also, k)
							in.Sensitivity = max(in.Sensitivity, lens.Level(k))
						}
					}
				}
				keep = append(keep, in)
				narrated[in.Cluster] = hashes[in.Cluster]
			}
		}
	}
	written, deleted, err := s.db.SaveInsights(ctx, userID, store.InsightSourceLLM, keep, s.clock.Now())
	if err != nil {
		return 0, 0, err
	}
	s.publishInsights(ctx, userID, written)
	raw, _ := json.Marshal(narrated)
	if err := s.db.SetNarrated(ctx, userID, string(raw)); err != nil {
		return len(written), deleted, err
	}
	return len(written), deleted, callErr
}

// narrativeInputs hashes, per cluster with revealed pattern insights, what
// a narrative of it would be written from: the insights' titles and bodies
// in the order Summarize sends them, and the assistant's level (which sets
// the narrative's sensitivity).
func narrativeInputs(revealed privacy.View, lens privacy.Lens) map[privacy.Cluster]string {
	byCluster := map[privacy.Cluster][]privacy.Insight{}
	for _, in := range revealed.Insights {
		if in.Source == store.InsightSourceLLM || strings.TrimSpace(in.Title+in.Body) == "" {
			continue
		}
		byCluster[in.Cluster] = append(byCluster[in.Cluster], in)
	}
	out := map[privacy.Cluster]string{}
	for c, ins := range byCluster {
		slices.SortStableFunc(ins, func(a, b privacy.Insight) int { return strings.Compare(a.Key, b.Key) })
		h := sha256.New()
		fmt.Fprintf(h, "level %d\x00", lens.Level(c))
		for _, in := range ins {
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00%.3f\x00%d\x00%v\x00", in.Key, in.Title, in.Body, in.Confidence, in.Sensitivity, in.Also)
			for _, k := range in.Also {
				fmt.Fprintf(h, "level %s %d\x00", k, lens.Level(k))
			}
		}
		out[c] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

// InsightAddedPayload is the payload of events.InsightAdded (key: the
// insight's cluster). It names the insight; subscribers read it by id, so
// the event stays far below PostgreSQL's NOTIFY limit.
type InsightAddedPayload struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Topic implements events.Payload.
func (InsightAddedPayload) Topic() string { return events.InsightAdded }

// SignatureUpdated is the payload of events.SoulSignatureUpdated, which
// only this service publishes: after an analysis changed the signature
// (Reason "analysis", AnalyzedAt set) or after the owner changed what an
// audience sees (Reason "privacy").
type SignatureUpdated struct {
	Reason     string    `json:"reason"`
	AnalyzedAt time.Time `json:"analyzedAt,omitzero"`
}

// Topic implements events.Payload.
func (SignatureUpdated) Topic() string { return events.SoulSignatureUpdated }

func (s *Service) publishInsights(ctx context.Context, userID string, rows []store.Insight) {
	for _, r := range rows {
		events.Publish(context.WithoutCancel(ctx), s.bus, s.log, userID, r.Cluster, InsightAddedPayload{ID: r.ID, Key: r.Key})
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
	doc, err := decodeSignatureView(sig)
	if err != nil {
		return doc, err
	}
	for _, f := range []struct {
		src string
		v   any
	}{
		{sig.Embedding, &doc.Embedding}, {sig.Periods, &doc.Periods},
	} {
		if err := json.Unmarshal([]byte(f.src), f.v); err != nil {
			return doc, fmt.Errorf("soul: decode signature: %w", err)
		}
	}
	return doc, nil
}

// decodeSignatureView decodes what a view of the signature is built from,
// leaving out the embeddings (similar twins and periods read those).
func decodeSignatureView(sig *store.SoulSignature) (signatureDoc, error) {
	var doc signatureDoc
	for _, f := range []struct {
		src string
		v   any
	}{
		{sig.Features, &doc.Features}, {sig.Traits, &doc.Traits},
		{sig.Completeness, &doc.Completeness}, {sig.Summaries, &doc.Summaries},
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
