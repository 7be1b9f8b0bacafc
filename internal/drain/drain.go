// Package drain is the operators' switch that stops launches for some runner configs (or all)
// while running jobs finish: one SSM String parameter, /<prefix>/drain, holding the drained
// config keys separated by commas, or "*" for every config. `ghr drain` writes it; scale-up
// and the pool read it. No parameter, or an empty one, drains nothing.
package drain

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ghr-dev/ghr/internal/awserr"
)

// All drains every runner config.
const All = "*"

// cacheTTL: a function reads the switch at most this often, so a drain takes effect within it
// and costs one SSM call per container per half minute.
const cacheTTL = 30 * time.Second

// Path is the switch's parameter name for a deployment.
func Path(prefix string) string { return "/" + prefix + "/drain" }

// Set is the drained configs.
type Set struct {
	all  bool
	keys []string
}

// Parse reads a parameter value.
func Parse(v string) Set {
	var s Set
	for _, k := range strings.Split(v, ",") {
		switch k = strings.TrimSpace(k); k {
		case "":
		case All:
			s.all = true
		default:
			if !slices.Contains(s.keys, k) {
				s.keys = append(s.keys, k)
			}
		}
	}
	slices.Sort(s.keys)
	return s
}

// String is the parameter value of s ("" when nothing is drained).
func (s Set) String() string {
	if s.all {
		return All
	}
	return strings.Join(s.keys, ",")
}

// Drained reports whether config key is drained.
func (s Set) Drained(key string) bool { return s.all || slices.Contains(s.keys, key) }

// All reports whether every config is drained.
func (s Set) All() bool { return s.all }

// Keys returns the configs drained by name.
func (s Set) Keys() []string { return slices.Clone(s.keys) }

// Empty reports whether nothing is drained.
func (s Set) Empty() bool { return !s.all && len(s.keys) == 0 }

// With returns s with keys drained (All for every config).
func (s Set) With(keys ...string) Set { return Parse(s.String() + "," + strings.Join(keys, ",")) }

// Without returns s with keys undrained; All undrains everything.
func (s Set) Without(keys ...string) Set {
	if slices.Contains(keys, All) {
		return Set{}
	}
	out := Set{all: s.all}
	for _, k := range s.keys {
		if !slices.Contains(keys, k) {
			out.keys = append(out.keys, k)
		}
	}
	return out
}

// ParameterReader reads one parameter's value.
type ParameterReader interface {
	Parameter(ctx context.Context, name string) (string, error)
}

// Switch is the functions' cached view of the parameter.
type Switch struct {
	Params ParameterReader
	Name   string           // Path(prefix)
	Now    func() time.Time // nil means time.Now

	mu   sync.Mutex
	set  Set
	read time.Time
}

// Get returns the drained configs, read again when the cached copy is older than cacheTTL. A
// missing parameter drains nothing; another read error keeps the last known value (a switch
// the functions cannot read must not stop or start launches by itself) and is returned.
func (w *Switch) Get(ctx context.Context) (Set, error) {
	if w == nil {
		return Set{}, nil
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.read.IsZero() && now().Sub(w.read) < cacheTTL {
		return w.set, nil
	}
	v, err := w.Params.Parameter(ctx, w.Name)
	switch {
	case err == nil:
		w.set = Parse(v)
	case awserr.Classify(err) == awserr.NotFound:
		w.set = Set{}
	default:
		return w.set, err
	}
	w.read = now()
	return w.set, nil
}
