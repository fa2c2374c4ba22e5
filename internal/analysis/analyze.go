package analysis

import (
	"maps"
	"slices"
	"time"

	"github.com/twinme/twinme/internal/privacy"
)

// Result is a user's soul signature as the local analyser sees it.
type Result struct {
	AnalyzedAt   time.Time
	Features     Features
	Insights     []Insight
	Traits       []Trait
	Embedding    []float32
	Completeness []ClusterCompleteness
}

// ClusterCompleteness says how much of a cluster the data covers and what is
// missing, so an empty signature can tell the user what to connect.
type ClusterCompleteness struct {
	Cluster privacy.Cluster
	// Score is the share of this cluster's sources with enough data, 0–1.
	Score   float64
	Sources []SourceStatus
	// Missing names the sources without enough data ("spotify", …).
	Missing []string
}

// SourceStatus is one data source's state for completeness.
type SourceStatus struct {
	Source string
	Items  int // how many usable items the input had
	Needed int // how many the first insight needs
	Ready  bool
	// Hint tells the user how to supply this data, when it is not ready.
	Hint string
}

// Data sources, as named in completeness.
const (
	SourceSpotify   = "spotify"
	SourceYouTube   = "youtube"
	SourceGitHub    = "github"
	SourceGmail     = "gmail"
	SourceDiscord   = "discord"
	SourceLinkedIn  = "linkedin"
	SourceExtension = "extension"
)

// sourceClusters says which clusters each source feeds, in the order
// completeness lists them.
var sourceClusters = []struct {
	source   string
	clusters []privacy.Cluster
	needed   int
	hint     string
}{
	{SourceSpotify, []privacy.Cluster{privacy.Creative, privacy.Personal}, MinPlays, "Connect Spotify or import your Spotify streaming history."},
	{SourceYouTube, []privacy.Cluster{privacy.Personal, privacy.Creative}, minCategorised, "Connect YouTube or import your Google Takeout watch history."},
	{SourceDiscord, []privacy.Cluster{privacy.Personal}, minGuilds, "Connect Discord."},
	{SourceExtension, []privacy.Cluster{privacy.Personal, privacy.Professional}, minDomainEvents, "Install the Twin Me browser extension."},
	{SourceGitHub, []privacy.Cluster{privacy.Professional}, minCodeEvents, "Connect GitHub."},
	{SourceGmail, []privacy.Cluster{privacy.Professional}, minMails, "Connect Gmail (metadata only)."},
	{SourceLinkedIn, []privacy.Cluster{privacy.Professional}, 1, "Connect LinkedIn."},
}

// alsoFeeds are clusters a source's insights can be filed under beyond
// those completeness counts it for: YouTube's Education and Science &
// Technology categories are professional.
var alsoFeeds = map[string][]privacy.Cluster{SourceYouTube: {privacy.Professional}}

// SourceClusters names, per data source, every cluster its data can reach
// through any detector: data of a source is hidden from an audience only
// when every one of them is. (Insights drawing on two sources name the
// other's cluster in Also, so they do not add to this.)
func SourceClusters() map[string][]privacy.Cluster {
	out := make(map[string][]privacy.Cluster, len(sourceClusters))
	for _, s := range sourceClusters {
		out[s.source] = slices.Clone(s.clusters)
		for _, c := range alsoFeeds[s.source] {
			if !slices.Contains(out[s.source], c) {
				out[s.source] = append(out[s.source], c)
			}
		}
	}
	return out
}

// Analyze runs every detector on one user's data, in the user's time zone,
// as of now. It is pure: the same input gives the same result.
func Analyze(in Input, loc *time.Location, now time.Time) Result {
	loc = orUTC(loc)
	res := Result{AnalyzedAt: now, Features: Features{}}
	for _, d := range []Detection{
		Music(in.Plays, loc, now),
		Videos(in.Videos, loc),
		Coding(in.CodeEvents, in.Repos, loc, now),
		Communication(in.Mails, in.Guilds, loc, now),
		Professional(in.LinkedIn),
		Browsing(in.Observer, loc),
		Correlations(in, loc, now),
		Changes(in, loc, now),
	} {
		maps.Copy(res.Features, d.Features)
		res.Insights = append(res.Insights, d.Insights...)
	}
	res.Traits = Personality(res.Features)
	res.Embedding = Embed(res.Features)
	res.Completeness = completeness(in)
	return res
}

func sourceItems(in Input) map[string]int {
	videos := 0
	for _, v := range in.Videos {
		if _, ok := youtubeCategories[v.CategoryID]; ok || v.Source == VideoWatch {
			videos++
		}
	}
	code := len(in.CodeEvents)
	linkedin := 0
	if in.LinkedIn != nil && in.LinkedIn.Sub != "" {
		linkedin = 1
	}
	return map[string]int{
		SourceSpotify:   len(in.Plays),
		SourceYouTube:   videos,
		SourceGitHub:    code,
		SourceGmail:     len(in.Mails),
		SourceDiscord:   len(in.Guilds),
		SourceLinkedIn:  linkedin,
		SourceExtension: len(in.Observer),
	}
}

func completeness(in Input) []ClusterCompleteness {
	items := sourceItems(in)
	var out []ClusterCompleteness
	for _, ci := range privacy.Clusters() {
		cc := ClusterCompleteness{Cluster: ci.Cluster}
		ready := 0
		for _, s := range sourceClusters {
			if !slices.Contains(s.clusters, ci.Cluster) {
				continue
			}
			st := SourceStatus{Source: s.source, Items: items[s.source], Needed: s.needed}
			st.Ready = st.Items >= st.Needed
			if st.Ready {
				ready++
			} else {
				st.Hint = s.hint
				cc.Missing = append(cc.Missing, s.source)
			}
			cc.Sources = append(cc.Sources, st)
		}
		if len(cc.Sources) > 0 {
			cc.Score = float64(ready) / float64(len(cc.Sources))
		}
		out = append(out, cc)
	}
	return out
}

// View converts the result into the owner's view. Anyone else sees
// privacy.Reveal of its insights and RevealedTraits of its features, never
// these traits.
func (r Result) View() privacy.View {
	var v privacy.View
	for _, in := range r.Insights {
		pi := privacy.Insight{
			Key: in.Key, Cluster: in.Cluster, Subcluster: in.Subcluster, Title: in.Title, Body: in.Body,
			Source: in.Source, Sensitivity: in.Sensitivity, Confidence: in.Confidence,
			Also: slices.Clone(in.Also),
		}
		for _, e := range in.Evidence {
			pi.Evidence = append(pi.Evidence, privacy.Evidence{Label: e.Label, Value: e.Value, Weight: e.Weight})
		}
		v.Insights = append(v.Insights, pi)
	}
	v.Traits = PrivacyTraits(r.Traits)
	return v
}

// PrivacyTraits converts traits into the shape views carry.
func PrivacyTraits(ts []Trait) []privacy.Trait {
	var out []privacy.Trait
	for _, t := range ts {
		pt := privacy.Trait{Name: t.Name, Score: t.Score, Confidence: t.Confidence, Sensitivity: t.Sensitivity,
			Clusters: append([]privacy.Cluster(nil), t.Clusters...)}
		for _, e := range t.Evidence {
			pt.Evidence = append(pt.Evidence, privacy.TraitEvidence{Cluster: e.Cluster, Label: e.Label, Value: e.Value, Weight: e.Weight})
		}
		out = append(out, pt)
	}
	return out
}
