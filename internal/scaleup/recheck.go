package scaleup

import (
	"context"
	"encoding/json"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/reconcile"
	"github.com/ghr-dev/ghr/internal/runner"
)

// Rechecker schedules the delayed re-check of each ephemeral launch (internal/reconcile):
// one message per launch, not per job, on the lifecycle queue, which clean-up consumes.
type Rechecker struct {
	Sender   Requeuer
	QueueURL string        // the lifecycle queue
	After    time.Duration // the first check's delay (RECHECK_AFTER); 0 is reconcile.DefaultFirstCheck
}

// schedule sends the re-check of a launch whose registered hosts serve the group's first
// len(hosts) jobs. A failed send (after the SDK's retries) loses only the safety net: the jobs
// are launched, and failing their messages would launch them again. It is logged and counted
// (RechecksUnscheduled) so an operator can see jobs nothing will re-check.
func (h *Handler) schedule(ctx context.Context, g Group, hosts []runner.RegisteredHost) {
	rc := h.Recheck
	if rc == nil || rc.QueueURL == "" || !g.Config.Ephemeral || len(hosts) == 0 {
		return
	}
	r := queue.Recheck{V: queue.Version, Kind: queue.KindRecheck, Check: 1, RunnerConfig: g.Config.Key, RegisteredAt: h.Launcher.now().UTC()}
	for _, host := range hosts[:min(len(hosts), queue.MaxRecheckHosts)] {
		r.Hosts = append(r.Hosts, host.ID)
	}
	for _, m := range g.Jobs[:min(len(hosts), len(g.Jobs), queue.MaxRecheckHosts)] {
		r.Jobs = append(r.Jobs, m.Job)
	}
	body, err := json.Marshal(&r)
	if err == nil {
		err = rc.Sender.SendDelayed(ctx, rc.QueueURL, body, reconcile.Delay(1, rc.After))
	}
	if err != nil {
		h.Logger.Warn("re-check not scheduled", logging.KeyRunnerConfig, g.Config.Key, "instance_ids", r.Hosts, logging.KeyError, err.Error())
		h.Metrics.Add(metrics.RechecksUnscheduled, len(r.Jobs), g.Config.Key)
	}
}
