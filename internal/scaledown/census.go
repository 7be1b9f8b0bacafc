package scaledown

import (
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Count is one runner config's runners as a pass saw them.
type Count struct {
	Live int // pending or running instances
	Idle int // registered, online, not busy
	Busy int // registered and running a job
}

// Census counts each runner config's instances and, where their owner was listed, how many
// of their runners are idle or busy. A pass's state is its only input.
func Census(s State) map[string]Count {
	byName := map[string]Runner{}
	for _, rs := range s.Runners {
		for _, r := range rs {
			byName[r.Name] = r
		}
	}
	out := map[string]Count{}
	for k := range s.Configs {
		out[k] = Count{}
	}
	for _, in := range s.Instances {
		c := out[in.RunnerConfig]
		c.Live++
		if r, ok := byName[tags.RunnerName(s.RunnerNamePrefix, in.ID)]; ok {
			switch {
			case r.Busy:
				c.Busy++
			case r.Online:
				c.Idle++
			}
		}
		out[in.RunnerConfig] = c
	}
	return out
}

// record publishes a pass's census and what it terminated, by reason.
func (r *Reconciler) record(s State, terminated []string, reasons map[string]string) {
	for k, c := range Census(s) {
		r.Metrics.Observe(metrics.RunnersLive, float64(c.Live), k)
		r.Metrics.Observe(metrics.RunnersIdle, float64(c.Idle), k)
		r.Metrics.Observe(metrics.RunnersBusy, float64(c.Busy), k)
	}
	for _, id := range terminated {
		reason, ok := reasons[id]
		if !ok {
			reason = ReasonOrphan
		}
		r.Metrics.Add(metrics.InstancesTerminated, 1, reason)
	}
}
