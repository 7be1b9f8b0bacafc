package interruption

import (
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
)

// RunsOn's defaults: two interruptions within 15 minutes send a config to on-demand for 30.
const (
	DefaultThreshold = 2
	DefaultWindow    = 15 * time.Minute
	DefaultCooldown  = 30 * time.Minute
)

// Breaker is the per-config spot circuit breaker's rule. A zero Threshold disables it.
type Breaker struct {
	Threshold int           // interruptions that trip it
	Window    time.Duration // within this span
	Cooldown  time.Duration // on-demand only for this long after the tripping interruption
}

// DefaultBreaker is RunsOn's rule.
var DefaultBreaker = Breaker{Threshold: DefaultThreshold, Window: DefaultWindow, Cooldown: DefaultCooldown}

// Retention is how long a record matters to the breaker: a record older than this can no
// longer be part of an open breaker.
func (b Breaker) Retention() time.Duration { return b.Window + b.Cooldown }

// OpenUntil returns when config may use spot again: a time after now while the breaker is
// open, zero when it is closed.
func (b Breaker) OpenUntil(recs []Record, config string, now time.Time) time.Time {
	if b.Threshold <= 0 {
		return time.Time{}
	}
	var at []time.Time
	for _, r := range recs {
		if r.Config == config && !r.At.After(now) {
			at = append(at, r.At)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	var until time.Time
	for i := b.Threshold - 1; i < len(at); i++ {
		if at[i].Sub(at[i-b.Threshold+1]) <= b.Window {
			until = at[i].Add(b.Cooldown) // the latest trip sets the end
		}
	}
	if !until.After(now) {
		return time.Time{}
	}
	return until
}

// BreakerFrom is the breaker a deployment configured (config.ReadSpotBreaker).
func BreakerFrom(c config.SpotBreaker) Breaker {
	return Breaker{Threshold: c.Interruptions, Window: c.Window, Cooldown: c.Cooldown}
}
