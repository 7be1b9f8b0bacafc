package scaleup

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
)

// deadOnArrivalWindow: a host EC2 cannot start (Client.InternalError, e.g. a volume key the
// launcher may not use) goes pending → terminated within seconds of CreateFleet, after its
// registration was stored and its jobs acknowledged. A host of ours that leaves the live
// listing this soon after launch is suspect; later, leaving is an ephemeral runner's normal
// end.
const deadOnArrivalWindow = 3 * time.Minute

// freshHost is a host this container launched and registered, watched until it outlives
// deadOnArrivalWindow.
type freshHost struct {
	config   string
	owner    runner.Owner
	runnerID int64
	jobs     []queue.Job // the jobs its launch acknowledged, ascending by id
	launched time.Time
}

// watch remembers the registered hosts of a launch; the jobs they serve are the group's
// first len(hosts) (the ghr:job-id invariant).
func (h *Handler) watch(g Group, hosts []runner.RegisteredHost) {
	if len(hosts) == 0 {
		return
	}
	jobs := make([]queue.Job, 0, len(hosts))
	for _, m := range g.Jobs[:min(len(hosts), len(g.Jobs))] {
		jobs = append(jobs, m.Job)
	}
	l := h.Launcher
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fresh == nil {
		l.fresh = map[string]freshHost{}
	}
	for _, host := range hosts {
		l.fresh[host.ID] = freshHost{config: g.Config.Key, owner: g.Owner, runnerID: host.RunnerID, jobs: jobs, launched: now}
	}
}

// reapDead finds, in the listing the batch made anyway, hosts launched within
// deadOnArrivalWindow that are no longer live, and asks the platform why (one call, only
// when some host left): an ephemeral runner that finished a short job leaves as fast as a
// host EC2 killed at launch. Killed hosts died before running their jobs: those jobs are not
// served (MarkServed only counts live hosts), those GitHub still queues are requeued since
// their messages were acknowledged, and the hosts' registrations (the runner in GitHub, the
// token parameter) are deleted. A host still live costs nothing: the happy path of a
// long job makes no call here.
func (h *Handler) reapDead(ctx context.Context, runners map[string][]Runner) {
	gone := h.vanished(runners)
	if len(gone) == 0 {
		return
	}
	ids := slices.Sorted(maps.Keys(gone))
	killed, err := h.Launcher.Compute.Killed(ctx, ids)
	if err != nil {
		// Watched again by the next batch; the window only bounds how long a host is suspect.
		h.Logger.Warn("ask why hosts ended", "instance_ids", ids, logging.KeyError, err.Error())
		h.Launcher.mu.Lock()
		maps.Copy(h.Launcher.fresh, gone)
		h.Launcher.mu.Unlock()
		return
	}
	type launch struct {
		config string
		owner  runner.Owner
		jobs   []queue.Job
	}
	var dead []string
	launches := map[string]launch{}
	for _, id := range ids {
		if !killed[id] {
			continue // ended by its own hand after its job, or terminated by a caller
		}
		f := gone[id]
		dead = append(dead, id)
		jobIDs := make([]int64, len(f.jobs))
		for i, j := range f.jobs {
			jobIDs[i] = j.JobID
		}
		launches[f.config+"\x00"+jobKey(jobIDs)] = launch{f.config, f.owner, f.jobs}
	}
	if len(dead) == 0 {
		return
	}
	h.Logger.Error("hosts died before running their jobs", "instance_ids", dead)
	for _, id := range dead {
		h.deregister(ctx, id, gone[id])
	}
	now := h.Launcher.now()
	for _, l := range launches {
		// The jobs still served are the first c, c being the launch's live hosts.
		served := servedJobs(runners[l.config], now)
		var lost []queue.Job
		for _, j := range l.jobs {
			if !served[j.JobID] {
				lost = append(lost, j)
			}
		}
		h.Metrics.Add(metrics.JobsFailed, len(lost), l.config, "instance_died")
		for _, j := range lost {
			h.requeueLost(ctx, l.owner, j)
		}
	}
}

// vanished takes out of the watch the hosts this batch's listing looked at: those past the
// window (forgotten) and those no longer live (returned, to be asked about).
func (h *Handler) vanished(runners map[string][]Runner) map[string]freshHost {
	now := h.Launcher.now()
	gone := map[string]freshHost{}
	h.Launcher.mu.Lock()
	defer h.Launcher.mu.Unlock()
	for id, f := range h.Launcher.fresh {
		rs, listed := runners[f.config]
		expired := now.Sub(f.launched) > deadOnArrivalWindow
		switch {
		case !listed && !expired:
			continue // not looked at in this batch
		case expired:
		case slices.ContainsFunc(rs, func(r Runner) bool { return r.ID == id }):
			continue // alive: keep watching until the window ends
		default:
			gone[id] = f
		}
		delete(h.Launcher.fresh, id)
	}
	return gone
}

// deregister deletes a dead host's runner registration in GitHub and its token parameter.
// Failures are logged: scale-down removes what is left (an offline runner, a token whose
// instance is gone).
func (h *Handler) deregister(ctx context.Context, id string, f freshHost) {
	if f.runnerID > 0 {
		if err := h.Launcher.GitHub.Deregister(ctx, f.owner, f.runnerID); err != nil {
			h.Logger.Warn("delete registration of dead host", logging.KeyInstanceID, id, logging.KeyOwner, f.owner.Name, logging.KeyError, err.Error())
		}
	}
	if err := h.Launcher.Tokens.Remove(ctx, f.config, id); err != nil {
		h.Logger.Warn("delete token of dead host", logging.KeyInstanceID, id, logging.KeyRunnerConfig, f.config, logging.KeyError, err.Error())
	}
}

// requeueLost sends a dead host's job back to its queue when GitHub still queues it (a quick
// job may have run and finished within the window).
func (h *Handler) requeueLost(ctx context.Context, o runner.Owner, j queue.Job) {
	if q, err := h.Launcher.GitHub.JobQueued(ctx, o, j.Repo, j.JobID); err == nil && !q {
		return
	}
	cfg := h.Configs[j.RunnerConfig]
	if h.Requeue == nil || cfg == nil {
		h.Logger.Error("job of a dead host cannot be requeued", logging.KeyJobID, j.JobID, logging.KeyRunnerConfig, j.RunnerConfig)
		return
	}
	j.Requeues++
	body, err := json.Marshal(&j)
	if err == nil {
		err = h.Requeue.SendDelayed(ctx, cfg.QueueURL, body, RequeueDelay(j.Requeues))
	}
	if err != nil {
		h.Logger.Error("requeue job of a dead host", logging.KeyJobID, j.JobID, logging.KeyError, err.Error())
		return
	}
	h.Logger.Warn("job requeued: its host died before running it", logging.KeyJobID, j.JobID, logging.KeyRunnerConfig, j.RunnerConfig)
}
