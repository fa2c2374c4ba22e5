package privacy

import (
	"errors"
	"fmt"
	"maps"

	"github.com/twinme/twinme/internal/apperr"
)

// Slider bounds and the level every cluster starts at.
const (
	MinLevel     = 0
	MaxLevel     = 100
	DefaultLevel = 50
)

// ErrNoSetting is returned by Settings.Level when a cluster or an audience
// has no level stored; Reveal treats it like any other error and reveals
// nothing.
var ErrNoSetting = errors.New("privacy: no level set")

// ErrDamaged is returned by Settings.Level for a cluster whose stored
// settings are damaged (see Settings.Damaged).
var ErrDamaged = errors.New("privacy: settings damaged")

// Settings are one user's privacy sliders, every one stored explicitly: a
// level per cluster, and for every (cluster, audience) either an override
// (Overrides) or the mark that the audience follows (Follows) — the
// cluster's level, or for the assistant the everyone audience's level. A
// level is a percentage: 0 hides a cluster, 100 reveals everything in it.
//
// The absence of a setting is never read as a default: Level fails for it,
// and so the cluster reveals nothing to that audience. Damaged names
// clusters whose stored rows are unreadable (an unknown audience, a level
// outside 0–100, …); they reveal nothing to anyone.
//
// Settings is a value: the With* methods return a modified copy and never
// change the receiver's maps.
type Settings struct {
	Levels    map[Cluster]int               `json:"levels"`
	Overrides map[Audience]map[Cluster]int  `json:"overrides,omitempty"`
	Follows   map[Audience]map[Cluster]bool `json:"follows,omitempty"`
	// Damaged maps a cluster to why its stored settings cannot be trusted.
	Damaged map[Cluster]string `json:"damaged,omitempty"`
	// Unknown lists stored rows naming no known cluster, for the log.
	Unknown []string `json:"unknown,omitempty"`
}

// DefaultSettings returns what a new account stores: every cluster at
// DefaultLevel and every audience following it (the assistant following
// everyone).
func DefaultSettings() Settings {
	s := Settings{
		Levels:  make(map[Cluster]int, len(clusterTable)),
		Follows: make(map[Audience]map[Cluster]bool, len(Audiences())),
	}
	for _, c := range clusterTable {
		s.Levels[c.Cluster] = DefaultLevel
	}
	for _, a := range Audiences() {
		s.Follows[a] = make(map[Cluster]bool, len(clusterTable))
		for _, c := range clusterTable {
			s.Follows[a][c.Cluster] = true
		}
	}
	return s
}

// ValidateLevel reports a BAD_USER_INPUT error unless 0 ≤ level ≤ 100.
func ValidateLevel(level int) error {
	if level < MinLevel || level > MaxLevel {
		return apperr.Invalid("level", "privacy level must be between %d and %d, got %d", MinLevel, MaxLevel, level)
	}
	return nil
}

// Level is the one function that decides the level of cluster c for a
// non-owner audience a: a's override if one is set, the level a follows if
// it follows, and an error otherwise. It fails — and the caller must reveal
// nothing of c to a — for an unknown cluster or audience, a damaged
// cluster, a missing setting anywhere along the way, an audience both set
// and following, and a level outside 0–100.
func (s Settings) Level(c Cluster, a Audience) (int, error) {
	if !c.Valid() {
		return 0, apperr.Invalid("cluster", "unknown life cluster %q", c)
	}
	if !a.Valid() {
		return 0, apperr.Invalid("audience", "unknown audience %q", a)
	}
	if why, bad := s.Damaged[c]; bad {
		return 0, fmt.Errorf("%w: cluster %q: %s", ErrDamaged, c, why)
	}
	level, set := s.Overrides[a][c]
	follows := s.Follows[a][c]
	switch {
	case set && follows:
		return 0, fmt.Errorf("%w: cluster %q for %q is both set and following", ErrDamaged, c, a)
	case follows:
		if up := a.Follows(); up != "" {
			return s.Level(c, up)
		}
		var ok bool
		if level, ok = s.Levels[c]; !ok {
			return 0, fmt.Errorf("%w for cluster %q", ErrNoSetting, c)
		}
	case !set:
		return 0, fmt.Errorf("%w for cluster %q and audience %q", ErrNoSetting, c, a)
	}
	if err := ValidateLevel(level); err != nil {
		return 0, fmt.Errorf("privacy: stored level of %q for %q: %w", c, a, err)
	}
	return level, nil
}

// Lens is what one audience may see, cluster by cluster: the level Level
// resolved for each cluster it could resolve. A cluster not in a Lens
// reveals nothing.
type Lens map[Cluster]int

// Lens resolves every cluster's level for a (Level); clusters that fail are
// left out.
func (s Settings) Lens(a Audience) Lens {
	out := make(Lens, len(clusterTable))
	for _, ci := range clusterTable {
		if level, err := s.Level(ci.Cluster, a); err == nil {
			out[ci.Cluster] = level
		}
	}
	return out
}

// Level is c's level in l: 0 (nothing) for a cluster l does not hold or
// holds out of range.
func (l Lens) Level(c Cluster) int {
	level, ok := l[c]
	if !ok || ValidateLevel(level) != nil {
		return 0
	}
	return level
}

// Meet is what both l and o may see: per cluster the lower level, and
// nothing of a cluster either of them cannot see.
func (l Lens) Meet(o Lens) Lens {
	out := make(Lens, len(l))
	for c, level := range l {
		if other, ok := o[c]; ok {
			out[c] = min(level, other)
		}
	}
	return out
}

// WithLevel returns a copy of s with cluster c's level set.
func (s Settings) WithLevel(c Cluster, level int) (Settings, error) {
	if !c.Valid() {
		return s, apperr.Invalid("cluster", "unknown life cluster %q", c)
	}
	if err := ValidateLevel(level); err != nil {
		return s, err
	}
	out := s.clone()
	out.Levels[c] = level
	return out, nil
}

// WithOverride returns a copy of s where audience a sees cluster c at level.
func (s Settings) WithOverride(c Cluster, a Audience, level int) (Settings, error) {
	if !c.Valid() {
		return s, apperr.Invalid("cluster", "unknown life cluster %q", c)
	}
	if !a.Valid() {
		return s, apperr.Invalid("audience", "unknown audience %q", a)
	}
	if err := ValidateLevel(level); err != nil {
		return s, err
	}
	out := s.clone()
	if out.Overrides[a] == nil {
		out.Overrides[a] = make(map[Cluster]int)
	}
	out.Overrides[a][c] = level
	delete(out.Follows[a], c)
	return out, nil
}

// WithoutOverride returns a copy of s where audience a follows again (the
// cluster's level; the everyone audience's for the assistant).
func (s Settings) WithoutOverride(c Cluster, a Audience) Settings {
	out := s.clone()
	delete(out.Overrides[a], c)
	if len(out.Overrides[a]) == 0 {
		delete(out.Overrides, a)
	}
	if c.Valid() && a.Valid() {
		if out.Follows[a] == nil {
			out.Follows[a] = make(map[Cluster]bool)
		}
		out.Follows[a][c] = true
	}
	return out
}

func (s Settings) clone() Settings {
	out := Settings{
		Levels:    maps.Clone(s.Levels),
		Overrides: make(map[Audience]map[Cluster]int, len(s.Overrides)),
		Follows:   make(map[Audience]map[Cluster]bool, len(s.Follows)),
		Damaged:   maps.Clone(s.Damaged),
		Unknown:   append([]string(nil), s.Unknown...),
	}
	if out.Levels == nil {
		out.Levels = make(map[Cluster]int)
	}
	for a, m := range s.Overrides {
		out.Overrides[a] = maps.Clone(m)
	}
	for a, m := range s.Follows {
		out.Follows[a] = maps.Clone(m)
	}
	return out
}
