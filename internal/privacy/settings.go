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

// ErrNoSetting is returned by Settings.Level when a cluster has no level
// stored; Reveal treats it like any other error and reveals nothing.
var ErrNoSetting = errors.New("privacy: no level set")

// Settings are one user's privacy sliders: a level per cluster and optional
// per-audience overrides of it. A level is a percentage: 0 hides a cluster,
// 100 reveals everything in it.
//
// Settings is a value: the With* methods return a modified copy and never
// change the receiver's maps.
type Settings struct {
	Levels    map[Cluster]int              `json:"levels"`
	Overrides map[Audience]map[Cluster]int `json:"overrides,omitempty"`
}

// DefaultSettings returns every cluster at DefaultLevel and no overrides.
func DefaultSettings() Settings {
	s := Settings{Levels: make(map[Cluster]int, len(clusterTable))}
	for _, c := range clusterTable {
		s.Levels[c.Cluster] = DefaultLevel
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

// Level returns the level that applies to cluster c for audience a: the
// audience's override if one is set, else the cluster's level. It fails for an
// unknown cluster or audience, a cluster without a stored level, and a stored
// level outside 0–100.
func (s Settings) Level(c Cluster, a Audience) (int, error) {
	if !c.Valid() {
		return 0, apperr.Invalid("cluster", "unknown life cluster %q", c)
	}
	if !a.Valid() {
		return 0, apperr.Invalid("audience", "unknown audience %q", a)
	}
	level, ok := s.Overrides[a][c]
	if !ok {
		level, ok = s.Levels[c]
	}
	if !ok {
		return 0, fmt.Errorf("%w for cluster %q", ErrNoSetting, c)
	}
	if err := ValidateLevel(level); err != nil {
		return 0, fmt.Errorf("privacy: stored level of %q for %q: %w", c, a, err)
	}
	return level, nil
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
	return out, nil
}

// WithoutOverride returns a copy of s where audience a falls back to the
// cluster level of c.
func (s Settings) WithoutOverride(c Cluster, a Audience) Settings {
	out := s.clone()
	delete(out.Overrides[a], c)
	if len(out.Overrides[a]) == 0 {
		delete(out.Overrides, a)
	}
	return out
}

func (s Settings) clone() Settings {
	out := Settings{Levels: maps.Clone(s.Levels), Overrides: make(map[Audience]map[Cluster]int, len(s.Overrides))}
	if out.Levels == nil {
		out.Levels = make(map[Cluster]int)
	}
	for a, m := range s.Overrides {
		out.Overrides[a] = maps.Clone(m)
	}
	return out
}
