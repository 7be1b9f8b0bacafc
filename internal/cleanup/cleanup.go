// Package cleanup consumes the lifecycle queue: when a job finishes on an ephemeral runner of
// this deployment, its instance is terminated at once and its GitHub registration deleted if
// it still exists, so cost stops within seconds of the job rather than at the next reconcile.
//
// Identity: a runner name is chosen by whoever registers the runner, so a completed event
// naming one of our instances proves nothing. Clean-up acts only when the event's runner id
// is the one scale-up stored on the instance (tags.RunnerIDKey) and the event's repository
// belongs to the instance's owner; anything else is logged and ignored. Without that, an
// admin of any repository the App is installed on could register a runner named after a
// victim instance, run a trivial job on it and have the victim terminated mid-job.
//
// Terminate comes first: it is what stops the cost, and GitHub removes an ephemeral
// registration by itself when its runner ends the job. After a successful job the runner
// certainly ran to the end, so no DELETE is spent (real boots showed one per job, nearly
// always a 404). Any other conclusion may be a runner lost mid-job, whose registration stays:
// the DELETE that follows is best effort. A
// registration it misses (a 5xx, a rate limit, an instance already gone so its owner is
// unknown) is offline without an instance, and the scheduled reconcile deletes it as a ghost.
//
// Clean-up also records, from each in_progress event of a runner proven the instance's own,
// which job the runner took (tags.TookJob), and runs launches' delayed re-checks
// (recheck.go, internal/reconcile), which travel on the same queue.
package cleanup

import (
	"context"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/reconcile"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Fleet finds, tags and terminates this deployment's instances.
type Fleet interface {
	// Describe returns those of ids that are pending or running in this deployment.
	Describe(ctx context.Context, ids []string) ([]scaledown.Instance, error)
	Terminate(ctx context.Context, ids []string) error
	// MarkTook records the job an instance's runner took (tags.TookJob).
	MarkTook(ctx context.Context, id string, jobID int64) error
	// Live returns this deployment's pending or running instances launched for configs, with
	// the job each runner took.
	Live(ctx context.Context, configs []string) ([]reconcile.Host, error)
	// Takers returns which of jobIDs a runner of this deployment took, and its instance, in
	// any state the instance is still listed in.
	Takers(ctx context.Context, jobIDs []int64) (map[int64]string, error)
}

// Registrations deletes runner registrations.
type Registrations interface {
	RemoveRunner(ctx context.Context, owner scaledown.Owner, runnerID int64) (scaledown.RemoveResult, error)
}

var _ Registrations = (*scaledown.GitHub)(nil)

// FailedJobs re-runs a job that failed because its spot instance was interrupted
// (interruption.Rerunner): the lifecycle queue is the only place that knows which job a
// runner ran.
type FailedJobs interface {
	JobFailed(ctx context.Context, ev queue.Lifecycle, instanceID string) error
}

// Cleaner handles lifecycle-queue batches.
type Cleaner struct {
	Fleet            Fleet
	GitHub           Registrations
	Configs          []config.RunnerConfig
	RunnerNamePrefix string
	Log              *slog.Logger
	Metrics          *metrics.Recorder // nil records nothing
	Reruns           FailedJobs        // nil re-runs nothing
	Rechecks         *Rechecks         // nil drops re-checks, logged at error level
}

// work is one message that names an instance of ours.
type work struct {
	msgID      string
	ev         queue.Lifecycle
	instanceID string
}

// conclusionSuccess is GitHub's workflow_job conclusion of a job its runner ran to the end.
const conclusionSuccess = "success"

// TerminateReason is the InstancesTerminated reason of an instance whose job completed.
const TerminateReason = "completed"

// Outcomes of one message, logged as the decision.
const (
	decisionTerminate    = "terminate"
	decisionGone         = "instance_gone"
	decisionNotEphemeral = "not_ephemeral"
	decisionProtected    = "protected"
	// decisionNotProven: the event's runner id or owner is not the instance's, or the
	// instance carries no runner id to compare with. Reconcile handles the instance.
	decisionNotProven = "identity_not_proven"
)

// HandleSQS processes a batch and reports the messages to retry (ReportBatchItemFailures):
// only those whose AWS calls failed. Messages that can never succeed are dropped with a log.
// The batch holds completed and in_progress events of our runners and launches' re-checks
// (recheck.go).
func (c *Cleaner) HandleSQS(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var pending, started []work
	var rechecks []recheckWork
	for _, m := range ev.Records {
		if queue.KindOf([]byte(m.Body)) == queue.KindRecheck {
			if w, ok := c.decodeRecheck(m.MessageId, m.Body); ok {
				rechecks = append(rechecks, w)
			}
			continue
		}
		w, ok := c.accept(m)
		switch {
		case !ok:
		case w.ev.Action == queue.ActionInProgress:
			started = append(started, w)
		default:
			pending = append(pending, w)
		}
	}
	var resp events.SQSEventResponse
	fail := func(ws []work) {
		for _, w := range ws {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: w.msgID})
		}
	}
	c.recheck(ctx, rechecks, func(id string) { fail([]work{{msgID: id}}) })
	pending = c.rerun(ctx, pending, fail)
	if len(pending) == 0 && len(started) == 0 {
		return resp, nil
	}
	ids := make([]string, 0, len(pending)+len(started))
	for _, w := range append(slices.Clone(pending), started...) {
		ids = append(ids, w.instanceID)
	}
	insts, err := c.Fleet.Describe(ctx, ids)
	if err != nil {
		c.Log.Error("describe instances", logging.KeyError, err.Error())
		fail(pending) // an in_progress mark is a saving, not a duty: a re-check then asks GitHub
		return resp, nil
	}
	alive := make(map[string]scaledown.Instance, len(insts))
	for _, in := range insts {
		alive[in.ID] = in
	}
	configs := config.ByKey(c.Configs)
	c.markTook(ctx, started, alive, configs)

	var kill []work
	var killIDs []string
	seen := map[string]bool{}
	for _, w := range pending {
		in, ok := alive[w.instanceID]
		decision := decisionTerminate
		switch {
		case !ok:
			decision = decisionGone
		case !sameRunner(w.ev, in):
			decision = decisionNotProven
		case in.Protected:
			decision = decisionProtected
		case configs[in.RunnerConfig] == nil || !configs[in.RunnerConfig].Ephemeral:
			decision = decisionNotEphemeral
		}
		lvl := slog.LevelInfo
		if decision == decisionNotProven {
			lvl = slog.LevelWarn // someone may be steering clean-up at an instance not theirs
		}
		c.log(w).Log(ctx, lvl, "job completed", logging.KeyDecision, decision, logging.KeyRunnerConfig, in.RunnerConfig)
		c.Metrics.Add(metrics.JobsCompleted, 1, in.RunnerConfig)
		if decision != decisionTerminate {
			continue
		}
		kill = append(kill, w)
		if !seen[w.instanceID] {
			seen[w.instanceID] = true
			killIDs = append(killIDs, w.instanceID)
		}
	}
	if len(killIDs) == 0 {
		return resp, nil
	}
	if err := c.Fleet.Terminate(ctx, killIDs); err != nil {
		c.Log.Error("terminate finished runners", logging.KeyError, err.Error(), "instances", len(killIDs))
		fail(kill)
		return resp, nil
	}
	c.Metrics.Add(metrics.InstancesTerminated, len(killIDs), TerminateReason)
	for _, w := range kill {
		c.deregister(ctx, w, alive[w.instanceID].Owner)
	}
	return resp, nil
}

// rerun hands failed jobs to Reruns and returns the work left; a message whose re-run
// failed is reported for retry as a whole (terminating again is harmless).
func (c *Cleaner) rerun(ctx context.Context, pending []work, fail func([]work)) []work {
	if c.Reruns == nil {
		return pending
	}
	keep := pending[:0]
	for _, w := range pending {
		if err := c.Reruns.JobFailed(ctx, w.ev, w.instanceID); err != nil {
			c.log(w).Error("re-run of an interrupted job failed; retrying", logging.KeyError, err.Error())
			fail([]work{w})
			continue
		}
		keep = append(keep, w)
	}
	return keep
}

// accept decodes a message and keeps it when it reports a completed job on a runner named
// like ours.
func (c *Cleaner) accept(m events.SQSMessage) (work, bool) {
	ev, err := queue.DecodeLifecycle([]byte(m.Body))
	if err != nil {
		// Never processable (bad JSON, unknown version): retrying would loop forever.
		c.Log.Error("lifecycle message dropped", logging.KeyError, err.Error(), "message_id", m.MessageId)
		return work{}, false
	}
	if ev.RunnerName == "" {
		return work{}, false
	}
	id, ours := tags.InstanceIDFromRunnerName(c.RunnerNamePrefix, ev.RunnerName)
	if !ours {
		return work{}, false // GitHub-hosted, or another deployment's runner
	}
	return work{msgID: m.MessageId, ev: ev, instanceID: id}, true
}

// markTook records on each started job's instance the job its runner took, when the event's
// runner id proves the runner is the instance's own (an ephemeral scale-up runner): the
// launch's re-check then knows, with no GitHub call, that the job started on its runner, or
// that the runner took another launch's job (internal/reconcile). One CreateTags per job.
// A failure is logged: the re-check then asks GitHub instead.
func (c *Cleaner) markTook(ctx context.Context, started []work, alive map[string]scaledown.Instance, configs map[string]*config.RunnerConfig) {
	for _, w := range started {
		in, ok := alive[w.instanceID]
		switch {
		case !ok, in.CreatedBy != tags.CreatedByScaleUp, configs[in.RunnerConfig] == nil, !configs[in.RunnerConfig].Ephemeral:
			continue
		case !sameRunner(w.ev, in):
			c.log(w).Warn("job started", logging.KeyDecision, decisionNotProven, logging.KeyRunnerConfig, in.RunnerConfig)
			continue
		}
		if err := c.Fleet.MarkTook(ctx, w.instanceID, w.ev.JobID); err != nil {
			c.log(w).Warn("job started; runner's job not recorded", logging.KeyError, err.Error())
			continue
		}
		c.log(w).Debug("job started", logging.KeyRunnerConfig, in.RunnerConfig)
	}
}

// sameRunner reports whether ev is about in's own registration: the runner id scale-up
// stored on the instance and a repository of the instance's owner.
func sameRunner(ev queue.Lifecycle, in scaledown.Instance) bool {
	if in.RunnerID <= 0 || ev.RunnerID != in.RunnerID {
		return false
	}
	switch in.Owner.Level {
	case tags.TypeOrg:
		org, _, _ := strings.Cut(ev.Repo, "/")
		return strings.EqualFold(org, in.Owner.Name) && strings.EqualFold(ev.Owner, in.Owner.Name)
	case tags.TypeRepo:
		return strings.EqualFold(ev.Repo, in.Owner.Name)
	}
	return false
}

// deregister deletes the registration if it still exists; see the package comment for why a
// failure here is logged, not retried.
func (c *Cleaner) deregister(ctx context.Context, w work, owner scaledown.Owner) {
	log := c.log(w)
	if w.ev.RunnerID <= 0 || !owner.Valid() {
		log.Info("registration left to reconcile: runner id or owner unknown")
		return
	}
	if w.ev.Conclusion == conclusionSuccess {
		log.Debug("registration left to GitHub: the runner ran its job to the end")
		return
	}
	ans, err := c.GitHub.RemoveRunner(ctx, owner, w.ev.RunnerID)
	switch {
	case err != nil:
		log.Warn("registration not deleted; reconcile will", logging.KeyError, err.Error())
	case ans == scaledown.Busy:
		// An ephemeral runner takes one job; busy again means GitHub has not caught up.
		// The instance is gone, so the registration goes offline and reconcile deletes it.
		log.Warn("registration busy after its job completed; left to reconcile")
	default:
		log.Info("registration deleted", "answer", ans.String())
	}
}

func (c *Cleaner) log(w work) *slog.Logger {
	return c.Log.With(logging.KeyJobID, w.ev.JobID, logging.KeyRunner, w.ev.RunnerName,
		logging.KeyInstanceID, w.instanceID, logging.KeyOwner, w.ev.Owner, logging.KeyDeliveryID, w.ev.DeliveryID)
}
