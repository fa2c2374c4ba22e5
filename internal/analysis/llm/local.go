package llm

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/twinme/twinme/internal/privacy"
)

// LocalPrefix starts every reply of the local twin, so nobody mistakes it for
// a language model.
const LocalPrefix = "(local twin) "

// localChunkWords is how many words the local twin streams per chunk.
const localChunkWords = 6

// localMaxFacts is how many insights one local answer quotes.
const localMaxFacts = 3

// Local is a Model that needs no network and no key: it answers from the
// revealed view in Request.Grounding, deterministically. It quotes the
// insights whose words overlap the last user message; when none do, the top
// insights of the cluster with the most revealed insights. With nothing
// revealed it says which kinds of data are missing instead of inventing a
// personality. It ignores System: it never makes anything up, so it needs no
// instructions.
type Local struct{}

var _ Model = Local{}

// Stream streams the local answer in chunks of a few words.
func (Local) Stream(ctx context.Context, req Request) (<-chan Chunk, error) {
	if err := validateRequest(req); err != nil {
		return nil, err
	}
	var v privacy.View
	if req.Grounding != nil {
		v = *req.Grounding
	}
	question := ""
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == RoleUser {
			question = req.Messages[i].Text
			break
		}
	}
	answer := LocalAnswer(v, question)
	ch := make(chan Chunk)
	go func() {
		defer close(ch)
		words := strings.SplitAfter(answer, " ")
		for i := 0; i < len(words); i += localChunkWords {
			if !send(ctx, ch, Chunk{Text: strings.Join(words[i:min(i+localChunkWords, len(words))], "")}) {
				return
			}
		}
		send(ctx, ch, Chunk{Done: true, StopReason: "end_turn"})
	}()
	return ch, nil
}

// LocalAnswer is the local twin's whole answer to question from v. It always
// starts with LocalPrefix.
func LocalAnswer(v privacy.View, question string) string {
	var b strings.Builder
	b.WriteString(LocalPrefix)
	shown := revealedClusters(v)
	if len(shown) == 0 {
		b.WriteString("I can't tell you anything about myself yet: nothing about my personal, professional or creative life is shared here. ")
		b.WriteString(missingDataHint)
		return b.String()
	}

	if facts := matchFacts(v, question); len(facts) > 0 {
		b.WriteString("From what I share here: ")
		b.WriteString(strings.Join(facts, " "))
	} else {
		c := mostRevealed(v)
		name := clusterName(c)
		fmt.Fprintf(&b, "I don't have anything on that in what I share here. What I can tell you is about my %s life: ", strings.ToLower(name))
		b.WriteString(strings.Join(clusterFacts(v, c), " "))
	}
	var hidden []string
	for _, ci := range privacy.Clusters() {
		if !shown[ci.Cluster] {
			hidden = append(hidden, strings.ToLower(ci.Name))
		}
	}
	if len(hidden) > 0 {
		fmt.Fprintf(&b, " Nothing about my %s life is shared here.", joinAnd(hidden))
	}
	return b.String()
}

// missingDataHint says where a twin's picture comes from, without saying
// which source this user lacks: a visitor must not learn more from an empty
// twin than from a full one.
const missingDataHint = "My picture fills in from connected data (music from Spotify, videos from YouTube, code from GitHub, " +
	"mail rhythm from Gmail metadata, communities from Discord, the LinkedIn profile, and browsing patterns from the Twin Me extension), " +
	"and only as far as my privacy settings let this visitor see."

// revealedClusters reports which clusters have any insight, summary or trait
// evidence in v. A trait's cluster list is not enough: Reveal keeps a trait
// listing a hidden cluster when another of its clusters shows, but drops the
// hidden cluster's evidence.
func revealedClusters(v privacy.View) map[privacy.Cluster]bool {
	out := map[privacy.Cluster]bool{}
	for _, in := range v.Insights {
		out[in.Cluster] = true
	}
	for _, s := range v.Summaries {
		out[s.Cluster] = true
	}
	for _, t := range v.Traits {
		for _, e := range t.Evidence {
			out[e.Cluster] = true
		}
	}
	return out
}

// candidate is one quotable fact and the words it can be found by.
type candidate struct {
	text       string
	words      map[string]bool
	confidence float64
	key        string
}

func candidates(v privacy.View) []candidate {
	var out []candidate
	for _, in := range v.Insights {
		c := candidate{text: insightSentence(in), confidence: in.Confidence, key: "i:" + in.Key, words: map[string]bool{}}
		addWords(c.words, in.Title, in.Body, string(in.Cluster), strings.ReplaceAll(string(in.Subcluster), "-", " "))
		for _, e := range in.Evidence {
			addWords(c.words, e.Label, e.Value)
		}
		out = append(out, c)
	}
	for _, t := range v.Traits {
		c := candidate{text: traitSentence(t), confidence: t.Confidence, key: "t:" + t.Name, words: map[string]bool{}}
		addWords(c.words, t.Name, "personality trait character big five")
		for _, e := range t.Evidence {
			addWords(c.words, e.Label)
		}
		out = append(out, c)
	}
	return out
}

// matchFacts returns the sentences of the facts sharing the most words with
// question, best first.
func matchFacts(v privacy.View, question string) []string {
	q := map[string]bool{}
	addWords(q, question)
	if len(q) == 0 {
		return nil
	}
	type scored struct {
		candidate
		score int
	}
	var hits []scored
	for _, c := range candidates(v) {
		n := 0
		for w := range q {
			if c.words[w] {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, scored{c, n})
		}
	}
	slices.SortFunc(hits, func(a, b scored) int {
		switch {
		case a.score != b.score:
			return b.score - a.score
		case a.confidence > b.confidence:
			return -1
		case a.confidence < b.confidence:
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	var out []string
	for _, h := range hits[:min(len(hits), localMaxFacts)] {
		out = append(out, h.text)
	}
	return out
}

// mostRevealed is the cluster with the most revealed insights (traits when
// there are none), ties going to the one listed first.
func mostRevealed(v privacy.View) privacy.Cluster {
	count := map[privacy.Cluster]int{}
	for _, in := range v.Insights {
		count[in.Cluster] += 2 // an insight outweighs a summary or trait
	}
	for _, s := range v.Summaries {
		count[s.Cluster]++
	}
	for _, t := range v.Traits {
		for _, e := range t.Evidence {
			count[e.Cluster]++
		}
	}
	var best privacy.Cluster
	for _, ci := range privacy.Clusters() {
		if count[ci.Cluster] > count[best] {
			best = ci.Cluster
		}
	}
	return best
}

// clusterFacts is the summary and top insights of cluster c, or its traits
// when it has neither.
func clusterFacts(v privacy.View, c privacy.Cluster) []string {
	var out []string
	for _, s := range v.Summaries {
		if s.Cluster == c && strings.TrimSpace(s.Text) != "" {
			out = append(out, sentence(FirstPerson(clean(s.Text))))
			break
		}
	}
	var ins []privacy.Insight
	for _, in := range v.Insights {
		if in.Cluster == c {
			ins = append(ins, in)
		}
	}
	rankInsights(ins)
	for _, in := range ins[:min(len(ins), localMaxFacts)] {
		out = append(out, insightSentence(in))
	}
	if len(out) == 0 {
		for _, t := range v.Traits {
			if slices.ContainsFunc(t.Evidence, func(e privacy.TraitEvidence) bool { return e.Cluster == c }) && len(out) < localMaxFacts {
				out = append(out, traitSentence(t))
			}
		}
	}
	return out
}

func insightSentence(in privacy.Insight) string {
	title, body := FirstPerson(clean(in.Title)), FirstPerson(clean(in.Body))
	switch {
	case title == "":
		return sentence(body)
	case body == "":
		return sentence(title)
	}
	return strings.TrimRight(title, ".:") + ": " + sentence(body)
}

func traitSentence(t privacy.Trait) string {
	lean := "in the middle"
	switch {
	case t.Score >= 0.6:
		lean = "on the high side"
	case t.Score <= 0.4:
		lean = "on the low side"
	}
	return fmt.Sprintf("My %s estimate is %s (%.0f/100, confidence %.0f%%).", strings.ToLower(clean(t.Name)), lean, t.Score*100, t.Confidence*100)
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

func clusterName(c privacy.Cluster) string {
	for _, ci := range privacy.Clusters() {
		if ci.Cluster == c {
			return ci.Name
		}
	}
	return string(c)
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// stopWords are left out of word matching: they would match everything.
var stopWords = map[string]bool{
	"the": true, "and": true, "you": true, "your": true, "are": true, "what": true, "how": true, "who": true,
	"why": true, "when": true, "where": true, "which": true, "does": true, "did": true, "have": true, "has": true,
	"with": true, "that": true, "this": true, "for": true, "from": true, "about": true, "tell": true, "like": true,
	"any": true, "can": true, "could": true, "would": true, "should": true, "there": true, "their": true, "they": true,
	"was": true, "were": true, "been": true, "into": true, "out": true, "more": true, "most": true, "much": true,
	"many": true, "some": true, "very": true, "just": true, "also": true, "but": true, "not": true, "all": true,
	"yourself": true, "yours": true, "myself": true, "mine": true, "our": true, "its": true, "than": true, "then": true,
	"them": true, "these": true, "those": true, "know": true, "think": true, "get": true, "got": true, "really": true,
	"per": true, "of": true, "on": true, "in": true, "at": true, "to": true, "is": true, "do": true, "me": true, "my": true,
}

// addWords adds the lower-cased, crudely singularised words of texts
// (three letters or more, stop words left out) to set.
func addWords(set map[string]bool, texts ...string) {
	for _, t := range texts {
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len([]rune(w)) < 3 || stopWords[w] {
				continue
			}
			set[stem(w)] = true
		}
	}
}

// stem folds the commonest English plural and verb endings, so "songs"
// finds "song" and "coding" finds "code".
func stem(w string) string {
	switch {
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = strings.TrimSuffix(w, "ing")
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = strings.TrimSuffix(w, "ies") + "y"
	case len(w) > 4 && strings.HasSuffix(w, "es") && strings.ContainsAny(w[len(w)-3:len(w)-2], "sxz"):
		w = strings.TrimSuffix(w, "es")
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss"):
		w = strings.TrimSuffix(w, "s")
	}
	return strings.TrimSuffix(w, "e")
}

var secondPerson = regexp.MustCompile(`(?i)\b(you(?:'|’)re|you are|you were|you(?:'|’)ve|you(?:'|’)ll|you(?:'|’)d|yourself|yours|your|you)\b`)

// objectBefore are words after which "you" is an object ("with you" → "with me").
var objectBefore = map[string]bool{
	"to": true, "with": true, "for": true, "at": true, "about": true, "of": true, "from": true, "than": true,
	"like": true, "by": true, "on": true, "into": true, "around": true, "behind": true, "near": true,
	"without": true, "between": true, "among": true, "toward": true, "towards": true, "against": true, "upon": true,
}

// FirstPerson rewrites a detector's second-person sentence ("You listen
// mostly at night; your top artist…") as the twin's own ("I listen mostly at
// night; my top artist…").
func FirstPerson(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range secondPerson.FindAllStringIndex(s, -1) {
		word := s[m[0]:m[1]]
		b.WriteString(s[last:m[0]])
		last = m[1]
		lower := strings.ToLower(strings.ReplaceAll(word, "’", "'"))
		var repl string
		switch lower {
		case "you're", "you are":
			repl = "I'm"
			if lower == "you are" {
				repl = "I am"
			}
		case "you were":
			repl = "I was"
		case "you've":
			repl = "I've"
		case "you'll":
			repl = "I'll"
		case "you'd":
			repl = "I'd"
		case "yourself":
			repl = "myself"
		case "yours":
			repl = "mine"
		case "your":
			repl = "my"
		default: // you
			repl = "I"
			if objectBefore[strings.ToLower(previousWord(s[:m[0]]))] {
				repl = "me"
			}
		}
		if strings.Contains(word, "’") {
			repl = strings.ReplaceAll(repl, "'", "’")
		}
		if unicode.IsUpper([]rune(word)[0]) {
			r := []rune(repl)
			r[0] = unicode.ToUpper(r[0])
			repl = string(r)
		}
		b.WriteString(repl)
	}
	b.WriteString(s[last:])
	return b.String()
}

func previousWord(s string) string {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	i := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	return s[i+1:]
}
