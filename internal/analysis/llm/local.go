package llm

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/twinme/twinme/internal/analysis"
	"github.com/twinme/twinme/internal/privacy"
)

// LocalPrefix starts every reply of the local twin, so nobody mistakes it for
// a language model.
const LocalPrefix = "(local twin) "

// localChunkWords is how many words the local twin streams per chunk.
const localChunkWords = 6

// localMaxFacts is how many facts one local answer quotes.
const localMaxFacts = 3

// Local is a Model that needs no network and no key: it answers from the
// revealed view in Request.Grounding, deterministically, in the first
// person. It retrieves the revealed insights (correlations and changes
// among them) and trait estimates relevant to the last user message: each
// fact is indexed by its words and by topics (music, time of day, work,
// mail, social life, focus, videos, personality, change, relations), and a
// question's words reach a topic through its synonyms. It quotes the best
// facts with their specifics (artists, hours, streaks, ρ and q), says
// plainly when the audience cannot see a topic or when nothing shared
// speaks to the question, and never invents: every sentence comes from the
// view or says that the view holds nothing. It ignores System.
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

// topic is one thing people ask a twin about: the words that name it, the
// insights that speak to it (by key prefix or infix), and the life clusters
// its facts live in (to say when the audience cannot see it).
type topic struct {
	name     string
	noun     string // "my music"
	words    []string
	keys     []string // an insight matches when its key starts with or contains one
	lead     []string // keys that answer the topic first
	clusters []privacy.Cluster
	traits   bool // trait estimates answer it
}

var topics = []topic{
	{name: "music", noun: "music", clusters: []privacy.Cluster{privacy.Creative, privacy.Personal},
		words: []string{"music", "song", "songs", "listen", "listening", "listener", "artist", "artists", "band", "bands", "spotify",
			"playlist", "genre", "genres", "album", "albums", "track", "tracks", "tune", "tunes", "singer", "sing"},
		keys: []string{"music.", "video.interest.music", ".music.", "change.music"},
		lead: []string{"music.top-artists", "music.top-genres"}},
	{name: "time", noun: "daily rhythm", clusters: []privacy.Cluster{privacy.Personal, privacy.Professional},
		words: []string{"when", "time", "hour", "hours", "night", "nights", "late", "morning", "mornings", "evening", "evenings",
			"early", "sleep", "bed", "bedtime", "owl", "lark", "weekend", "weekends", "weekday", "weekdays", "schedule", "routine", "rhythm", "day", "days"},
		keys: []string{"music.chronotype", "coding.rhythm", "video.rhythm", "mail.after-hours", "change.music.time", "change.coding.weekend",
			"change.mail", ".late", ".morning", ".after"},
		lead: []string{"music.chronotype", "change.music.time", "coding.rhythm"}},
	{name: "work", noun: "work", clusters: []privacy.Cluster{privacy.Professional},
		words: []string{"work", "working", "job", "jobs", "career", "office", "colleague", "colleagues", "professional", "productive",
			"busy", "living", "profession"},
		keys: []string{"coding.", "mail.", "change.coding", "change.mail", "correlation.coding", ".coding.", "correlation.mail", ".mail.", "browsing.typing"},
		lead: []string{"coding.languages", "coding.rhythm", "mail.volume"}},
	{name: "coding", noun: "coding", clusters: []privacy.Cluster{privacy.Professional},
		words: []string{"code", "coding", "coder", "program", "programming", "programmer", "developer", "develop", "github", "project",
			"projects", "language", "languages", "commit", "commits", "repository", "repositories", "repo", "engineer", "software", "streak", "streaks"},
		keys: []string{"coding.", "change.coding", ".coding."},
		lead: []string{"coding.languages", "coding.rhythm", "coding.streaks"}},
	{name: "mail", noun: "email", clusters: []privacy.Cluster{privacy.Professional},
		words: []string{"email", "emails", "mail", "mails", "inbox", "gmail", "message", "messages", "reply", "write"},
		keys:  []string{"mail.", ".mail.", "change.mail"},
		lead:  []string{"mail.volume", "mail.after-hours"}},
	{name: "social", noun: "social life", clusters: []privacy.Cluster{privacy.Personal},
		words: []string{"friend", "friends", "social", "community", "communities", "discord", "server", "servers", "people", "group", "groups", "hang", "introvert", "extrovert"},
		keys:  []string{"discord.", "mail.volume"},
		lead:  []string{"discord.communities"}},
	{name: "focus", noun: "focus", clusters: []privacy.Cluster{privacy.Personal, privacy.Professional},
		words: []string{"focus", "focused", "attention", "concentrate", "concentration", "distracted", "distraction", "tab", "tabs",
			"browse", "browsing", "browser", "internet", "web", "website", "websites", "read", "reading", "type", "typing", "typist", "multitask", "multitasking"},
		keys: []string{"browsing.", ".browse.", "correlation.browse"},
		lead: []string{"browsing.attention"}},
	{name: "video", noun: "videos", clusters: []privacy.Cluster{privacy.Personal, privacy.Creative},
		words: []string{"youtube", "video", "videos", "watch", "watching", "channel", "channels", "film", "films", "movie", "movies", "show", "shows"},
		keys:  []string{"video.", ".video.", "change.video"},
		lead:  []string{"video.channels", "video.rhythm"}},
	{name: "personality", noun: "personality", clusters: []privacy.Cluster{privacy.Personal, privacy.Professional, privacy.Creative}, traits: true,
		words: []string{"personality", "trait", "traits", "openness", "open", "conscientious", "conscientiousness", "organised", "organized",
			"extravert", "extraverted", "extraversion", "extrovert", "introvert", "introverted", "agreeable", "agreeableness", "neurotic",
			"neuroticism", "anxious", "character", "five", "temperament"}},
	{name: "change", noun: "changes over time", clusters: []privacy.Cluster{privacy.Personal, privacy.Professional, privacy.Creative},
		words: []string{"change", "changed", "changes", "changing", "lately", "recently", "recent", "moved", "shift", "shifted", "different", "since", "trend", "evolve", "evolved"},
		keys:  []string{"change.", "music.evolution", "music.discovery"}},
	{name: "relation", noun: "patterns across my days", clusters: []privacy.Cluster{privacy.Personal, privacy.Professional, privacy.Creative},
		words: []string{"correlation", "correlations", "correlate", "related", "relate", "relation", "relationship", "connection", "connected",
			"affect", "affects", "together", "pattern", "patterns", "linked", "link", "influence"},
		keys: []string{"correlation."}},
}

// identityQuestions are asked as "who are you": the answer is an overview,
// one fact per revealed cluster.
var identityPhrases = []string{"who are you", "about yourself", "describe yourself", "introduce yourself", "what are you like",
	"tell me about you", "who r u", "what kind of person"}

// overviewFirst are the insights that introduce a cluster best, in order
// of preference; without any of them, the most confident one does.
var overviewFirst = []string{"music.chronotype", "music.top-artists", "coding.languages", "coding.rhythm", "discord.communities", "video.channels"}

// namedEvidence are insights whose evidence labels are names worth listing
// (artists, genres, channels, languages, servers, sites).
var namedEvidence = map[string]bool{
	"music.top-artists": true, "music.top-genres": true, "video.channels": true, "coding.languages": true,
	"discord.communities": true, "browsing.domains": true,
}

// LocalAnswer is the local twin's whole answer to question from v. It always
// starts with LocalPrefix and is a function of v and question only.
func LocalAnswer(v privacy.View, question string) string {
	var b strings.Builder
	b.WriteString(LocalPrefix)
	shown := revealedClusters(v)
	if len(shown) == 0 {
		b.WriteString("I can't tell you anything about myself yet: nothing about my personal, professional or creative life is shared here. ")
		b.WriteString(missingDataHint)
		return b.String()
	}
	// Whole words only: "who are your friends" is not "who are you".
	q := " " + strings.Join(strings.FieldsFunc(strings.ToLower(question), func(r rune) bool { return !unicode.IsLetter(r) }), " ") + " "
	if slices.ContainsFunc(identityPhrases, func(p string) bool { return strings.Contains(q, " "+p+" ") }) {
		b.WriteString(overview(v, shown))
		return b.String()
	}

	words := map[string]bool{}
	addWords(words, question)
	asked := askedTopics(question)
	facts, together := retrieve(v, words, asked)
	parts := facts
	if len(facts) > 0 && len(asked) > 1 && !together {
		var nouns []string
		for _, t := range asked {
			nouns = append(nouns, t.noun)
		}
		parts = append(parts, fmt.Sprintf("That is as close as I can get: nothing I share with you here speaks to my %s together.", joinAnd(nouns, "and")))
	}
	// Say what the audience cannot see: a topic asked about whose clusters
	// show nothing at all, or that nothing shared speaks to.
	var unseen, silent []string
	for _, t := range asked {
		if !slices.ContainsFunc(t.clusters, func(c privacy.Cluster) bool { return shown[c] }) {
			unseen = append(unseen, t.noun)
		} else if !topicAnswered(v, t) {
			silent = append(silent, t.noun)
		}
	}
	if len(unseen) > 0 {
		parts = append(parts, fmt.Sprintf("Nothing about my %s is shared with you here (it is private, or I have no data on it yet), so I can't tell you about it.", joinAnd(unseen, "or")))
	}
	if len(silent) > 0 && len(facts) == 0 {
		parts = append(parts, fmt.Sprintf("Nothing I share here says anything about my %s, and I won't guess.", joinAnd(silent, "or")))
	}
	if len(facts) == 0 && len(asked) == 0 {
		parts = append(parts, fmt.Sprintf("I don't know that: nothing I share here speaks to it, and I won't guess. You can ask me about my %s.", joinAnd(askable(v, shown), "or")))
	}
	b.WriteString(strings.Join(parts, " "))
	return strings.TrimSpace(b.String())
}

// missingDataHint says where a twin's picture comes from, without saying
// which source this user lacks: a visitor must not learn more from an empty
// twin than from a full one.
const missingDataHint = "My picture fills in from connected data (music from Spotify, videos from YouTube, code from GitHub, " +
	"mail rhythm from Gmail metadata, communities from Discord, and browsing patterns from the Twin Me extension), " +
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

// askedTopics are the topics whose words the question uses.
func askedTopics(question string) []topic {
	raw := map[string]bool{}
	for _, w := range strings.FieldsFunc(strings.ToLower(question), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		raw[w] = true
	}
	var out []topic
	for _, t := range topics {
		if slices.ContainsFunc(t.words, func(w string) bool { return raw[w] }) {
			out = append(out, t)
		}
	}
	return out
}

func (t topic) matches(key string) bool { return t.score(key) > 0 }

// score says how well an insight key answers t: 6 for the first lead key,
// 5 for another, 3 for a
// key of the topic's own detectors, 2 for a relation or change that
// involves it, else 0.
func (t topic) score(key string) int {
	switch {
	case len(t.lead) > 0 && t.lead[0] == key:
		return 6
	case slices.Contains(t.lead, key):
		return 5
	case slices.ContainsFunc(t.keys, func(k string) bool { return strings.HasPrefix(key, k) }):
		return 3
	case slices.ContainsFunc(t.keys, func(k string) bool { return strings.Contains(key, k) }):
		return 2
	}
	return 0
}

// topicAnswered reports whether anything in v speaks to t.
func topicAnswered(v privacy.View, t topic) bool {
	if t.traits && len(v.Traits) > 0 {
		return true
	}
	return slices.ContainsFunc(v.Insights, func(in privacy.Insight) bool { return t.matches(in.Key) })
}

// candidate is one quotable fact and what it can be found by.
type candidate struct {
	text       string
	words      map[string]bool
	confidence float64
	key        string
	topics     map[string]int // topic name → how well the fact answers it
}

func candidates(v privacy.View) []candidate {
	var out []candidate
	for _, in := range v.Insights {
		c := candidate{text: insightSentence(in), confidence: in.Confidence, key: "i:" + in.Key, words: map[string]bool{}, topics: map[string]int{}}
		addWords(c.words, in.Title, in.Body, strings.ReplaceAll(string(in.Subcluster), "-", " "))
		for _, e := range in.Evidence {
			addWords(c.words, e.Label, e.Value)
		}
		for _, t := range topics {
			if sc := t.score(in.Key); sc > 0 {
				c.topics[t.name] = sc
			}
		}
		out = append(out, c)
	}
	for _, t := range v.Traits {
		c := candidate{text: traitSentence(t), confidence: t.Confidence, key: "t:" + t.Name, words: map[string]bool{}, topics: map[string]int{"personality": 3}}
		addWords(c.words, t.Name)
		out = append(out, c)
	}
	return out
}

// retrieve returns the sentences of the facts that best answer the
// question, and whether one of them speaks to every topic asked. A fact
// scores per topic asked (see topic.score) plus one per word it shares with
// the question; a fact that speaks to no topic asked needs two shared
// words ("your favourite food" is not about "loyal to your favourites").
func retrieve(v privacy.View, words map[string]bool, asked []topic) ([]string, bool) {
	type scored struct {
		candidate
		score int
		all   bool
	}
	var hits []scored
	for _, c := range candidates(v) {
		n, lexical, all := 0, 0, true
		for w := range words {
			if c.words[w] {
				lexical++
			}
		}
		for _, t := range asked {
			if sc := c.topics[t.name]; sc > 0 {
				n += sc
			} else {
				all = false
			}
		}
		// A fact must speak to a topic asked, or share two words with the
		// question: one shared word is chance (a listening rhythm's "other"
		// does not answer "do you work with others").
		if n == 0 && lexical < 2 {
			continue
		}
		n += lexical
		// A trait is only quoted when personality is asked about or its
		// name is used: "open" in "open source" is not a question about it.
		if strings.HasPrefix(c.key, "t:") && !slices.ContainsFunc(asked, func(t topic) bool { return t.traits }) {
			continue
		}
		if n > 0 {
			hits = append(hits, scored{c, n, all && len(asked) > 0})
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
	limit := localMaxFacts
	if slices.ContainsFunc(asked, func(t topic) bool { return t.traits }) {
		limit = 5 // all five traits when personality is asked about
	}
	var out []string
	anyAll := false
	for _, h := range hits[:min(len(hits), limit)] {
		out = append(out, h.text)
		anyAll = anyAll || h.all
	}
	return out, anyAll
}

// overview answers "who are you": one fact from each revealed cluster, the
// most confident, and what else can be asked.
func overview(v privacy.View, shown map[privacy.Cluster]bool) string {
	var parts []string
	for _, ci := range privacy.Clusters() {
		if !shown[ci.Cluster] {
			continue
		}
		var ins []privacy.Insight
		for _, in := range v.Insights {
			if in.Cluster == ci.Cluster && in.Source != SourceLLM {
				ins = append(ins, in)
			}
		}
		rankInsights(ins)
		for _, key := range overviewFirst {
			if i := slices.IndexFunc(ins, func(in privacy.Insight) bool { return in.Key == key }); i > 0 {
				ins[0], ins[i] = ins[i], ins[0]
				break
			} else if i == 0 {
				break
			}
		}
		if len(ins) > 0 {
			parts = append(parts, insightSentence(ins[0]))
		}
	}
	out := "Here is who I am, from what I share with you: " + strings.Join(parts, " ")
	if len(parts) == 0 {
		out = "I share little with you here beyond a personality estimate."
	}
	var hidden []string
	for _, ci := range privacy.Clusters() {
		if !shown[ci.Cluster] {
			hidden = append(hidden, strings.ToLower(ci.Name))
		}
	}
	if len(hidden) > 0 {
		out += fmt.Sprintf(" Nothing about my %s life is shared with you here.", joinAnd(hidden, "or"))
	}
	if a := askable(v, shown); len(a) > 0 {
		out += fmt.Sprintf(" Ask me about my %s.", joinAnd(a, "or"))
	}
	return out
}

// askable lists the topics something in v answers.
func askable(v privacy.View, shown map[privacy.Cluster]bool) []string {
	var out []string
	for _, t := range topics {
		if topicAnswered(v, t) {
			out = append(out, t.noun)
		}
	}
	return out
}

func insightSentence(in privacy.Insight) string {
	title, body := FirstPerson(clean(in.Title)), FirstPerson(clean(in.Body))
	var s string
	switch {
	case title == "":
		s = sentence(body)
	case body == "":
		s = sentence(title)
	default:
		s = strings.TrimRight(title, ".:") + ": " + sentence(body)
	}
	if namedEvidence[in.Key] && len(in.Evidence) > 1 {
		var names []string
		for _, e := range in.Evidence[1:min(len(in.Evidence), 4)] {
			names = append(names, clean(e.Label)+" ("+clean(e.Value)+")")
		}
		s += " Then " + joinAnd(names, "and") + "."
	}
	return s
}

func traitSentence(t privacy.Trait) string {
	tt := t
	tt.Name = strings.ToLower(clean(t.Name))
	return "My " + strings.TrimPrefix(FirstPerson(lowerFirst(analysis.TraitStatement(tt))), "")
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// sentence ends s with a full stop unless it already ends a sentence.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

func joinAnd(items []string, conj string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + conj + " " + items[len(items)-1]
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
