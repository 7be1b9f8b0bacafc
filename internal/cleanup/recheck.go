package cleanup

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/reconcile"
)

// JobStatuses answers GitHub's status of a job (GET /repos/{owner}/{repo}/actions/jobs/{job_id}).
type JobStatuses interface {
	// JobStatus returns StatusNotFound for GitHub's 404, and StatusUnknown with the error
	// when GitHub did not answer.
	JobStatus(ctx context.Context, j queue.Job) (reconcile.JobStatus, error)
}

// Sender sends a message to a queue after delay (queue.SQSSender).
type Sender interface {
	SendDelayed(ctx context.Context, queueURL string, body []byte, delay time.Duration) error
}

var _ Sender = queue.SQSSender{}

// Rechecks is what clean-up needs to run a launch's delayed re-checks (internal/reconcile).
type Rechecks struct {
	Jobs     JobStatuses
	Sender   Sender
	QueueURL string        // the lifecycle queue, for the next check
	After    time.Duration // the first check's delay (RECHECK_AFTER); later ones double from it
	Now      func() time.Time
}

type recheckWork struct {
	msgID string
	r     queue.Recheck
}

// recheck runs a batch's re-checks: one DescribeInstances for the live hosts of the batch's
// runner configs, one more for the jobs hosts of other launches may have taken when those
// hosts cannot settle them, then GitHub only for the jobs EC2 cannot settle. A message whose
// check could not be read or acted on is reported for retry.
func (c *Cleaner) recheck(ctx context.Context, ws []recheckWork, fail func(msgID string)) {
	if len(ws) == 0 {
		return
	}
	if c.Rechecks == nil {
		for _, w := range ws {
			c.Log.Error("re-check dropped: clean-up is not configured to run re-checks", logging.KeyRunnerConfig, w.r.RunnerConfig)
		}
		return
	}
	now := time.Now()
	if c.Rechecks.Now != nil {
		now = c.Rechecks.Now()
	}
	var configs []string
	for _, w := range ws {
		configs = append(configs, w.r.RunnerConfig)
	}
	slices.Sort(configs)
	live, err := c.Fleet.Live(ctx, slices.Compact(configs))
	if err != nil {
		c.Log.Warn("re-check: describe hosts", logging.KeyError, err.Error())
		for _, w := range ws {
			fail(w.msgID)
		}
		return
	}
	taken := map[int64]bool{}
	for _, h := range live {
		if h.Took != 0 {
			taken[h.Took] = true
		}
	}
	// Every input shares taken: the takers found below settle jobs in all of them.
	ins := make([]reconcile.Input, len(ws))
	var ask []int64
	for i, w := range ws {
		ins[i] = checkInput(w.r, live, taken, now)
		for _, o := range reconcile.Decide(ins[i]) {
			if o.Action == reconcile.Ask {
				ask = append(ask, o.JobID)
			}
		}
	}
	if len(ask) > 0 {
		// Hosts that took a job and finished are no longer live; EC2 still lists them.
		takers, err := c.Fleet.Takers(ctx, ask)
		if err != nil {
			c.Log.Warn("re-check: find the hosts that took jobs", logging.KeyError, err.Error())
		}
		for id := range takers {
			taken[id] = true
		}
	}
	used := map[[2]string]int{} // spare hosts counted on, per runner config and owner
	for i, w := range ws {
		scope := [2]string{w.r.RunnerConfig, w.r.Jobs[0].Owner}
		ins[i].Spare = max(ins[i].Spare-used[scope], 0)
		n, err := c.settle(ctx, w.r, ins[i])
		used[scope] += n
		if err != nil {
			c.Log.Warn("re-check not completed; retrying", logging.KeyRunnerConfig, w.r.RunnerConfig, "check", w.r.Check, logging.KeyError, err.Error())
			fail(w.msgID)
		}
	}
}

// checkInput is what EC2 says of r's launch: its own hosts among the live ones (any other is
// dead or gone), the jobs hosts took, and the spare hosts of its runner config and owner.
func checkInput(r queue.Recheck, live []reconcile.Host, taken map[int64]bool, now time.Time) reconcile.Input {
	in := reconcile.Input{Check: r.Check, Now: now, Taken: taken}
	jobs := slices.Clone(r.Jobs)
	slices.SortFunc(jobs, func(a, b queue.Job) int { return cmp.Compare(a.JobID, b.JobID) })
	for _, j := range jobs {
		in.Jobs = append(in.Jobs, reconcile.Job{ID: j.JobID, QueuedAt: j.QueuedAt, Relaunches: j.Relaunches})
	}
	byID := make(map[string]reconcile.Host, len(live))
	for _, l := range live {
		byID[l.ID] = l
	}
	for _, id := range r.Hosts {
		h, ok := byID[id]
		if !ok {
			h = reconcile.Host{ID: id, State: reconcile.HostMissing}
		}
		in.Hosts = append(in.Hosts, h)
	}
	in.Spare = reconcile.Spare(live, r.Hosts, r.RunnerConfig, r.Jobs[0].Owner, now)
	return in
}

// settle decides r's check on in, asking GitHub where EC2 cannot settle a job, and acts; it
// returns how many spare hosts the check counts on.
func (c *Cleaner) settle(ctx context.Context, r queue.Recheck, in reconcile.Input) (int, error) {
	rc := c.Rechecks
	byID := map[int64]queue.Job{}
	for _, j := range r.Jobs {
		byID[j.JobID] = j
	}
	outs := reconcile.Decide(in)
	for _, o := range outs {
		if o.Action != reconcile.Ask {
			continue
		}
		if in.Status == nil {
			in.Status = map[int64]reconcile.JobStatus{}
		}
		st, err := rc.Jobs.JobStatus(ctx, byID[o.JobID])
		if err != nil {
			c.Log.Warn("re-check: job status unknown", logging.KeyJobID, o.JobID, logging.KeyError, err.Error())
		}
		in.Status[o.JobID] = st
	}
	if in.Status != nil {
		outs = reconcile.Decide(in)
	}
	cfg := config.ByKey(c.Configs)[r.RunnerConfig]
	var later []queue.Job
	for _, o := range outs {
		j := byID[o.JobID]
		log := c.Log.With(logging.KeyJobID, j.JobID, logging.KeyRunnerConfig, r.RunnerConfig, logging.KeyOwner, j.Owner,
			"check", r.Check, logging.KeyDecision, o.Action.String(), "reason", o.Reason, "status", in.Status[j.JobID].String(), "instance_ids", r.Hosts)
		switch o.Action {
		case reconcile.Done:
			log.Info("re-check: job settled")
		case reconcile.CheckLater:
			later = append(later, j)
		case reconcile.LaunchAgain:
			if cfg == nil {
				log.Error("re-check: job given up: its runner config is gone")
				c.Metrics.Add(metrics.JobsAbandoned, 1, r.RunnerConfig, "unknown_config")
				continue
			}
			if err := relaunch(ctx, rc.Sender, cfg.QueueURL, j); err != nil {
				return 0, err
			}
			log.Warn("re-check: job launched again: no runner left for it")
			c.Metrics.Add(metrics.JobsRelaunched, 1, r.RunnerConfig)
		case reconcile.GiveUp:
			log.Error("re-check: job given up")
			c.Metrics.Add(metrics.JobsAbandoned, 1, r.RunnerConfig, o.Reason)
		default:
			return 0, fmt.Errorf("re-check of job %d: unexpected action %s", j.JobID, o.Action)
		}
	}
	used := reconcile.SpareUsed(outs)
	if len(later) == 0 {
		return used, nil
	}
	next := r
	next.Check++
	next.Jobs = later
	body, err := json.Marshal(&next)
	if err != nil {
		return used, err
	}
	if err := rc.Sender.SendDelayed(ctx, rc.QueueURL, body, reconcile.Delay(next.Check, rc.After)); err != nil {
		return used, fmt.Errorf("schedule check %d: %w", next.Check, err)
	}
	c.Log.Debug("re-check scheduled", logging.KeyRunnerConfig, r.RunnerConfig, "check", next.Check, "jobs", len(later))
	return used, nil
}

// relaunch sends j to its build queue as a job scale-up has not served: scale-up's whole path
// (max_runners, the spot breaker, deferrals) applies to it. Requeues moves its CreateFleet
// client token on, so EC2 does not replay the dead launch.
func relaunch(ctx context.Context, s Sender, queueURL string, j queue.Job) error {
	j.Requeues++
	j.Relaunches++
	body, err := json.Marshal(&j)
	if err != nil {
		return err
	}
	if err := s.SendDelayed(ctx, queueURL, body, 0); err != nil {
		return fmt.Errorf("launch job %d again: %w", j.JobID, err)
	}
	return nil
}

// decodeRecheck keeps a valid re-check; an invalid one can never be processed and is dropped.
func (c *Cleaner) decodeRecheck(msgID, body string) (recheckWork, bool) {
	r, err := queue.DecodeRecheck([]byte(body))
	if err != nil {
		c.Log.Error("re-check message dropped", logging.KeyError, err.Error(), "message_id", msgID)
		return recheckWork{}, false
	}
	return recheckWork{msgID: msgID, r: r}, true
}

// AppJobs reads job statuses with an installation token (Actions: read): through Apps, the
// deployment's set of GitHub Apps, or App alone.
type AppJobs struct {
	App  *githubapp.App
	Apps *githubapp.Set
}

var _ JobStatuses = AppJobs{}

// JobStatus implements JobStatuses.
func (g AppJobs) JobStatus(ctx context.Context, j queue.Job) (reconcile.JobStatus, error) {
	owner, name, ok := strings.Cut(j.Repo, "/")
	if !ok {
		return reconcile.StatusUnknown, fmt.Errorf("job %d: repository %q is not owner/name", j.JobID, j.Repo)
	}
	set := g.Apps
	if set == nil {
		set = githubapp.NewSet(g.App)
	}
	job, _, err := set.OwnerClient(j.Repo, j.InstallationID).Actions.GetWorkflowJobByID(ctx, owner, name, j.JobID)
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound {
		return reconcile.StatusNotFound, nil
	}
	if err != nil {
		return reconcile.StatusUnknown, fmt.Errorf("get job %d of %s: %w", j.JobID, j.Repo, err)
	}
	return reconcile.StatusOf(job.GetStatus()), nil
}
