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

// recheck runs a batch's re-checks: one DescribeInstances for every host of the batch, then
// GitHub only for the jobs the EC2 state cannot settle. A message whose check could not be
// read or acted on is reported for retry.
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
	var ids []string
	for _, w := range ws {
		ids = append(ids, w.r.Hosts...)
	}
	slices.Sort(ids)
	hosts, err := c.Fleet.Hosts(ctx, slices.Compact(ids))
	if err != nil {
		c.Log.Warn("re-check: describe hosts", logging.KeyError, err.Error())
		for _, w := range ws {
			fail(w.msgID)
		}
		return
	}
	for _, w := range ws {
		if err := c.settle(ctx, w.r, hosts); err != nil {
			c.Log.Warn("re-check not completed; retrying", logging.KeyRunnerConfig, w.r.RunnerConfig, "check", w.r.Check, logging.KeyError, err.Error())
			fail(w.msgID)
		}
	}
}

func (c *Cleaner) settle(ctx context.Context, r queue.Recheck, hosts map[string]reconcile.Host) error {
	rc := c.Rechecks
	now := time.Now()
	if rc.Now != nil {
		now = rc.Now()
	}
	jobs := slices.Clone(r.Jobs)
	slices.SortFunc(jobs, func(a, b queue.Job) int { return cmp.Compare(a.JobID, b.JobID) })
	in := reconcile.Input{Check: r.Check, Now: now}
	byID := map[int64]queue.Job{}
	for _, j := range jobs {
		byID[j.JobID] = j
		in.Jobs = append(in.Jobs, reconcile.Job{ID: j.JobID, QueuedAt: j.QueuedAt, Relaunches: j.Relaunches})
	}
	for _, id := range r.Hosts {
		h, ok := hosts[id]
		if !ok {
			h = reconcile.Host{ID: id, State: reconcile.HostMissing}
		}
		in.Hosts = append(in.Hosts, h)
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
				return err
			}
			log.Warn("re-check: job launched again: no runner left for it")
			c.Metrics.Add(metrics.JobsRelaunched, 1, r.RunnerConfig)
		case reconcile.GiveUp:
			log.Error("re-check: job given up")
			c.Metrics.Add(metrics.JobsAbandoned, 1, r.RunnerConfig, o.Reason)
		default:
			return fmt.Errorf("re-check of job %d: unexpected action %s", j.JobID, o.Action)
		}
	}
	if len(later) == 0 {
		return nil
	}
	next := r
	next.Check++
	next.Jobs = later
	body, err := json.Marshal(&next)
	if err != nil {
		return err
	}
	if err := rc.Sender.SendDelayed(ctx, rc.QueueURL, body, reconcile.Delay(next.Check, rc.After)); err != nil {
		return fmt.Errorf("schedule check %d: %w", next.Check, err)
	}
	c.Log.Debug("re-check scheduled", logging.KeyRunnerConfig, r.RunnerConfig, "check", next.Check, "jobs", len(later))
	return nil
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
