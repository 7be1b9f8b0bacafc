package scaleup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/tags"
)

// clientTokenLen keeps "<token>-on-demand" within EC2's 64-character client token.
const clientTokenLen = 40

// Handler consumes build-queue batches.
type Handler struct {
	Launcher       *Launcher
	Configs        map[string]*config.RunnerConfig
	CheckJobQueued string // config.CheckQueued*
	// Requeue sends jobs that cannot be served yet back to their queue with a delay; nil
	// leaves them to the queue's visibility timeout.
	Requeue Requeuer
	// Recheck schedules each ephemeral launch's delayed re-check; nil schedules none.
	Recheck *Rechecker
	// MaxReceives is the build queues' max_receive_count: a message retried on that receive
	// goes to the dead-letter queue, which is logged at error level. 0 does not log it.
	MaxReceives int
	Logger      *slog.Logger
	Metrics     *metrics.Recorder // nil records nothing
	Drain       *drain.Switch     // operators' drain switch; nil drains nothing
}

// Handle processes one SQS batch and reports the messages to retry. It never fails the whole
// batch: each message's fate is decided on its own.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	received := h.Launcher.now()
	verdicts := make(map[string]Verdict, len(ev.Records))
	hosts := map[string]runner.RegisteredHost{} // message id → the host launched for its job
	msgs := h.decode(ev.Records, verdicts)
	keep := Triage(msgs, h.Configs, verdicts)
	drained := h.drained(ctx)
	keep = DeferDrained(keep, drained, verdicts)

	runners, listErrs := h.runners(ctx, keep)
	var listed []Message
	for _, m := range keep {
		if _, ok := runners[m.Job.RunnerConfig]; ok {
			listed = append(listed, m)
		} else {
			verdicts[m.ID] = retryVerdict(listErrs[m.Job.RunnerConfig]) // could not count runners: wait rather than overshoot
			h.Metrics.Add(metrics.JobsFailed, 1, m.Job.RunnerConfig, "list_runners")
		}
	}
	h.reapDead(ctx, runners)
	keep = MarkServed(listed, runners, h.Launcher.now(), verdicts)
	keep = h.authorize(ctx, keep, verdicts)
	keep = h.dropNotQueued(ctx, keep, verdicts)
	live := make(map[string]int, len(runners))
	for k, rs := range runners {
		live[k] = len(rs)
	}
	groups := Allocate(keep, h.Configs, live, verdicts)
	h.launch(ctx, groups, verdicts, hosts)
	h.requeue(ctx, msgs, verdicts)
	return h.respond(msgs, ev.Records, verdicts, hosts, received, drained), nil
}

// drained reads the operators' drain switch; unreadable, it drains what it drained before.
func (h *Handler) drained(ctx context.Context) drain.Set {
	set, err := h.Drain.Get(ctx)
	if err != nil {
		h.Logger.Warn("drain switch unreadable; last value kept", logging.KeyError, err.Error())
	}
	return set
}

// DeferDrained defers the jobs of drained configs (they return to the queue and expire as
// deferred jobs do) and returns the others.
func DeferDrained(msgs []Message, drained drain.Set, verdicts map[string]Verdict) []Message {
	if drained.Empty() {
		return msgs
	}
	var keep []Message
	for _, m := range msgs {
		if drained.Drained(m.Job.RunnerConfig) {
			verdicts[m.ID] = Deferred
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

func (h *Handler) decode(records []events.SQSMessage, verdicts map[string]Verdict) []Message {
	msgs := make([]Message, 0, len(records))
	for _, r := range records {
		job, err := queue.DecodeJob([]byte(r.Body))
		if err != nil {
			verdicts[r.MessageId] = Invalid
			h.Logger.Error("invalid message dropped", "message_id", r.MessageId, logging.KeyError, err.Error())
			continue
		}
		rc, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
		msgs = append(msgs, Message{ID: r.MessageId, Job: job, ReceiveCount: rc})
	}
	return msgs
}

// runners lists live runners once per runner config in the batch, concurrently. A config
// whose listing failed is absent from the result and has its error in the second map.
func (h *Handler) runners(ctx context.Context, msgs []Message) (map[string][]Runner, map[string]error) {
	keys := map[string]bool{}
	for _, m := range msgs {
		keys[m.Job.RunnerConfig] = true
	}
	out := make(map[string][]Runner, len(keys))
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for key := range keys {
		wg.Go(func() {
			rs, err := h.Launcher.Compute.Runners(ctx, key)
			if err != nil {
				h.Logger.Warn("count runners", logging.KeyRunnerConfig, key, logging.KeyError, err.Error())
				mu.Lock()
				errs[key] = err
				mu.Unlock()
				return
			}
			mu.Lock()
			out[key] = rs
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, errs
}

// retryVerdict is the fate of a job that could not be served now: requeued with a delay
// (Deferred) when waiting fixes err, else returned to the queue at the cost of a receive.
func retryVerdict(err error) Verdict {
	if Transient(err) {
		return Deferred
	}
	return Failed
}

// authorize drops jobs their installation can never serve, before any host is launched for
// them: each distinct (installation, owner, repository) is checked once, concurrently, and
// the answers are cached (AppGitHub.Authorize). A job that cannot be checked now is not
// launched either: it waits (GitHub paused or down) or is retried.
func (h *Handler) authorize(ctx context.Context, msgs []Message, verdicts map[string]Verdict) []Message {
	type subject struct {
		owner runner.Owner
		repo  string
	}
	of := func(m Message) subject { return subject{m.Job.RunnerOwner(), m.Job.Repo} }
	index := map[subject]int{}
	var subjects []subject
	for _, m := range msgs {
		if _, ok := index[of(m)]; !ok {
			index[of(m)] = len(subjects)
			subjects = append(subjects, of(m))
		}
	}
	results := make([]error, len(subjects))
	var wg sync.WaitGroup
	for i, s := range subjects {
		wg.Go(func() { results[i] = h.Launcher.GitHub.Authorize(ctx, s.owner, s.repo) })
	}
	wg.Wait()
	var keep []Message
	for _, m := range msgs {
		err := results[index[of(m)]]
		switch {
		case err == nil:
			keep = append(keep, m)
		case errors.Is(err, ErrUnauthorized):
			verdicts[m.ID] = Unauthorized
			h.Logger.Error("job dropped: its installation cannot serve it", logging.KeyJobID, m.Job.JobID,
				logging.KeyDeliveryID, m.Job.DeliveryID, logging.KeyOwner, m.Job.Owner, "repo", m.Job.Repo,
				"installation_id", m.Job.InstallationID, logging.KeyError, err.Error())
		default:
			verdicts[m.ID] = retryVerdict(err) // waits when GitHub asked us to, or is down
			h.Metrics.Add(metrics.JobsFailed, 1, m.Job.RunnerConfig, FailureClass(err))
			h.Logger.Warn("job not authorized yet", logging.KeyJobID, m.Job.JobID, logging.KeyOwner, m.Job.Owner,
				"repo", m.Job.Repo, logging.KeyDecision, verdicts[m.ID].String(), logging.KeyError, err.Error())
		}
	}
	return keep
}

// dropNotQueued asks GitHub whether each job still waits, where the check is on. Any error
// counts as queued: launching a spare runner is cheaper than losing a job.
func (h *Handler) dropNotQueued(ctx context.Context, msgs []Message, verdicts map[string]Verdict) []Message {
	check := func(m Message) bool {
		switch h.CheckJobQueued {
		case config.CheckQueuedAlways:
			return true
		case config.CheckQueuedNever:
			return false
		default:
			return !h.Configs[m.Job.RunnerConfig].Ephemeral
		}
	}
	queued := make([]bool, len(msgs))
	var wg sync.WaitGroup
	for i, m := range msgs {
		queued[i] = true
		if !check(m) {
			continue
		}
		wg.Go(func() {
			q, err := h.Launcher.GitHub.JobQueued(ctx, m.Job.RunnerOwner(), m.Job.Repo, m.Job.JobID)
			if err != nil {
				h.Logger.Warn("job status unknown, assuming queued", logging.KeyJobID, m.Job.JobID, logging.KeyError, err.Error())
				return
			}
			queued[i] = q
		})
	}
	wg.Wait()
	var keep []Message
	for i, m := range msgs {
		if !queued[i] {
			verdicts[m.ID] = NotQueued
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

// launch runs every group's launch concurrently. In a group that got fewer registered
// runners than jobs, the first jobs (ascending ids) are the launched ones, which keeps the
// ghr:job-id invariant, and the rest are retried.
func (h *Handler) launch(ctx context.Context, groups []Group, verdicts map[string]Verdict, launched map[string]runner.RegisteredHost) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Go(func() {
			spec := runner.LaunchSpec{
				Config: g.Config, Owner: g.Owner, CreatedBy: tags.CreatedByScaleUp,
				JobIDs: g.JobIDs(), Runs: g.Runs(), Count: len(g.Jobs), Token: ClientToken(g),
			}
			hosts, err := h.Launcher.launch(ctx, spec, g.Labels)
			ids := make([]string, len(hosts))
			for i, host := range hosts {
				ids[i] = host.ID
			}
			h.watch(g, hosts)
			h.schedule(ctx, g, hosts)
			if err != nil {
				h.Logger.Warn("launch incomplete", logging.KeyRunnerConfig, g.Config.Key, logging.KeyOwner, g.Owner.Name,
					"jobs", len(g.Jobs), "registered", len(ids), logging.KeyError, err.Error())
			}
			if len(ids) > 0 {
				h.Logger.Info("runners launched", logging.KeyRunnerConfig, g.Config.Key, logging.KeyOwner, g.Owner.Name, "instance_ids", ids)
			}
			notTried := len(ids) == 0 && (errors.Is(err, ErrPaused) || errors.Is(err, ErrNoTime))
			if !notTried {
				h.Metrics.Add(metrics.JobsFailed, len(g.Jobs)-len(ids), g.Config.Key, FailureClass(err))
			}
			rest := retryVerdict(err)
			mu.Lock()
			defer mu.Unlock()
			for i, m := range g.Jobs {
				if i < len(ids) {
					verdicts[m.ID], launched[m.ID] = Launched, hosts[i]
				} else {
					verdicts[m.ID] = rest
				}
			}
		})
	}
	wg.Wait()
}

// ClientToken is the CreateFleet idempotency key of a group: a hash of its runner config,
// owner and sorted job ids, so a request repeated while its first attempt is in doubt never
// starts a second fleet. Each job's receive count and requeue count are part of it, so a job
// the queue delivers again after its hosts were terminated gets fresh hosts rather than EC2
// replaying the terminated fleet.
func ClientToken(g Group) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s", g.Config.Key, g.Owner.Name, g.Owner.Level)
	for _, m := range g.Jobs {
		fmt.Fprintf(h, "\x00%d:%d:%d", m.Job.JobID, m.ReceiveCount, m.Job.Requeues)
	}
	return hex.EncodeToString(h.Sum(nil))[:clientTokenLen]
}

// respond logs each job's fate — with the milestones of its path when a host was launched for
// it (logging.KeyBatchReceivedAt, KeyTokenStoredAt) — and reports the messages to retry.
func (h *Handler) respond(msgs []Message, records []events.SQSMessage, verdicts map[string]Verdict, hosts map[string]runner.RegisteredHost,
	received time.Time, drained drain.Set) events.SQSEventResponse {
	var resp events.SQSEventResponse
	jobs := make(map[string]Message, len(msgs))
	for _, m := range msgs {
		jobs[m.ID] = m
	}
	for _, r := range records {
		v := verdicts[r.MessageId]
		m, ok := jobs[r.MessageId]
		h.record(m.Job, v, drained)
		if ok {
			attrs := []any{logging.KeyJobID, m.Job.JobID, logging.KeyDeliveryID, m.Job.DeliveryID,
				logging.KeyRunnerConfig, m.Job.RunnerConfig, logging.KeyOwner, m.Job.Owner, logging.KeyDecision, v.String(),
				logging.KeyBatchReceivedAt, received}
			if host, launched := hosts[r.MessageId]; launched {
				attrs = append(attrs, logging.KeyInstanceID, host.ID, logging.KeyTokenStoredAt, host.StoredAt)
			}
			h.Logger.Info("job", attrs...)
		}
		if m, ok := jobs[r.MessageId]; ok && v.Retry() && h.MaxReceives > 0 && m.ReceiveCount >= h.MaxReceives {
			h.Logger.Error("message failed on its last receive: it goes to the dead-letter queue", logging.KeyJobID, m.Job.JobID,
				logging.KeyDeliveryID, m.Job.DeliveryID, logging.KeyRunnerConfig, m.Job.RunnerConfig, "receive_count", m.ReceiveCount,
				logging.KeyDecision, v.String())
		}
		if v.Retry() {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
		}
	}
	return resp
}

// record counts a message's fate. Failures are counted where their error is known (launch).
func (h *Handler) record(job queue.Job, v Verdict, drained drain.Set) {
	cfg := job.RunnerConfig
	switch v {
	case Launched:
		h.Metrics.Add(metrics.JobsLaunched, 1, cfg)
		if !job.QueuedAt.IsZero() {
			h.Metrics.Duration(metrics.LaunchLatency, h.Launcher.now().Sub(job.QueuedAt), cfg)
		}
	case OverCap, Deferred, Requeued, Launch:
		reason := v.String()
		if drained.Drained(cfg) {
			reason = "drained"
		}
		h.Metrics.Add(metrics.JobsDeferred, 1, cfg, reason)
		if !job.QueuedAt.IsZero() {
			h.Metrics.Duration(metrics.WaitingJobAge, h.Launcher.now().Sub(job.QueuedAt), cfg)
		}
	case Expired:
		h.Metrics.Add(metrics.JobsExpired, 1, cfg)
	case Invalid, UnknownConfig, Duplicate, Served, NotQueued, Unauthorized:
		h.Metrics.Add(metrics.JobsDropped, 1, cfg, v.String())
	}
}
