package interruption

import (
	"context"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/runner"
)

// Lister reads every record.
type Lister interface {
	List(ctx context.Context) ([]Record, error)
}

// Reasons Gate gives for on-demand.
const (
	ReasonBreakerOpen = "spot_breaker_open"
	ReasonRerun       = "interrupted_job_rerun"
)

// Gate tells scale-up and the pool when a spot config must launch on-demand: while its
// breaker is open, and for the next attempt of a run re-run after an interruption (RunsOn's
// "retry once on on-demand"). One GetParametersByPath per spot launch, uncached: a re-run's
// queued event reaches scale-up within a second of the marker being written, and a cached
// read would send it to spot again.
type Gate struct {
	Store   Lister
	Breaker Breaker
	Now     func() time.Time // nil uses time.Now
}

// OnDemand reports whether a launch of config for jobs of runs must use on-demand, and why.
func (g *Gate) OnDemand(ctx context.Context, config string, runs []runner.Run) (bool, string, error) {
	recs, err := g.Store.List(ctx)
	if err != nil {
		return false, "", err
	}
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	onDemand, reason := Decision(recs, g.Breaker, config, runs, now)
	return onDemand, reason, nil
}

// Decision is Gate's pure rule.
func Decision(recs []Record, b Breaker, config string, runs []runner.Run, now time.Time) (bool, string) {
	if !b.OpenUntil(recs, config, now).IsZero() {
		return true, ReasonBreakerOpen
	}
	for _, r := range recs {
		if r.Rerun == nil || now.Sub(r.Rerun.At) > rerunOnDemandFor {
			continue
		}
		for _, run := range runs {
			if run.ID == r.Rerun.RunID && strings.EqualFold(run.Repo, r.Rerun.Repo) {
				return true, ReasonRerun
			}
		}
	}
	return false, ""
}
