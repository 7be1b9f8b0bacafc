package interruption

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/scaledown"
)

// Fleet finds this deployment's instance by id.
type Fleet interface {
	Instance(ctx context.Context, id string) (scaledown.Instance, bool, error)
}

// Registrations deletes runner registrations.
type Registrations interface {
	RemoveRunner(ctx context.Context, owner scaledown.Owner, runnerID int64) (scaledown.RemoveResult, error)
}

var _ Registrations = (*scaledown.GitHub)(nil)

// Plan is what one event calls for.
type Plan struct {
	Record     bool   // write the interruption record
	Deregister bool   // delete the runner's registration
	Reason     string // logged as the decision
}

// Decisions, logged.
const (
	decisionRecord     = "record_and_deregister"
	decisionDeregister = "deregister"
	decisionNotOurs    = "not_ours"
	decisionNotSpot    = "not_interrupted" // a stop of an instance that had no spot warning
	decisionDuplicate  = "already_recorded"
)

// Decide is the pure rule. A warning records the interruption once (EventBridge may deliver
// an event twice) and asks to deregister; a stop deregisters only an interrupted instance:
// ghr's own terminations already removed their runner, and a stop without a warning is not
// a spot interruption.
func Decide(ev Event, in scaledown.Instance, ours bool, rec Record, recorded bool) Plan {
	canDeregister := in.RunnerID > 0 && in.Owner.Valid()
	switch {
	case !ours:
		return Plan{Reason: decisionNotOurs}
	case ev.Kind == Warning && recorded:
		return Plan{Deregister: canDeregister, Reason: decisionDuplicate}
	case ev.Kind == Warning:
		return Plan{Record: true, Deregister: canDeregister, Reason: decisionRecord}
	case !recorded:
		return Plan{Reason: decisionNotSpot}
	}
	return Plan{Deregister: rec.RunnerID > 0 && canDeregister, Reason: decisionDeregister}
}

// Handler is the spot-interruption function.
type Handler struct {
	Fleet   Fleet
	GitHub  Registrations
	Store   Store
	Breaker Breaker
	Log     *slog.Logger
	Metrics *metrics.Recorder // nil records nothing
	Now     func() time.Time  // nil uses time.Now
}

// Handle acts on one EventBridge event. An error makes Lambda retry the asynchronous
// invocation (twice, EventBridge's target retry policy beyond): only I/O failures return one.
func (h *Handler) Handle(ctx context.Context, raw events.EventBridgeEvent) error {
	ev, err := ParseEvent(raw)
	if errors.Is(err, ErrIgnored) {
		h.Log.Debug("event ignored", "detail_type", raw.DetailType, logging.KeyError, err.Error())
		return nil
	}
	if err != nil {
		h.Log.Error("event dropped", "detail_type", raw.DetailType, logging.KeyError, err.Error())
		return nil
	}
	log := h.Log.With(logging.KeyInstanceID, ev.InstanceID, "event", raw.DetailType)
	rec, recorded, err := h.Store.Get(ctx, ev.InstanceID)
	if err != nil {
		return err
	}
	if ev.Kind == Stopped && !recorded {
		// Every instance of the account changes state; only an interrupted one of ours
		// matters, and the record answers that without an EC2 call.
		log.Debug("stop of an instance without interruption record")
		return nil
	}
	in, ours, err := h.Fleet.Instance(ctx, ev.InstanceID)
	if err != nil {
		return err
	}
	plan := Decide(ev, in, ours, rec, recorded)
	log = log.With(logging.KeyDecision, plan.Reason, logging.KeyRunnerConfig, in.RunnerConfig, logging.KeyOwner, in.Owner.Name)
	if plan.Record {
		now := h.now()
		if err := h.Store.Put(ctx, Record{InstanceID: in.ID, Config: in.RunnerConfig, OwnerLevel: in.Owner.Level,
			Owner: in.Owner.Name, RunnerID: in.RunnerID, At: now}); err != nil {
			return err
		}
		h.Metrics.Add(metrics.SpotInterruptions, 1, in.RunnerConfig)
		h.prune(ctx, log, in.RunnerConfig, now)
	}
	if plan.Deregister {
		res, err := h.GitHub.RemoveRunner(ctx, in.Owner, in.RunnerID)
		if err != nil {
			return err
		}
		// Busy: the runner still runs its job until the reclaim; the stop event that follows
		// deletes it once it is offline.
		log = log.With("deregistration", res.String())
	}
	log.Info("spot interruption")
	return nil
}

// prune deletes records no rule needs (a failure only leaves them for the next write) and
// logs when config's breaker is open, which is what an operator looks for.
func (h *Handler) prune(ctx context.Context, log *slog.Logger, config string, now time.Time) {
	recs, err := h.Store.List(ctx)
	if err == nil {
		if old := Expired(recs, h.Breaker, now); len(old) > 0 {
			err = h.Store.Delete(ctx, old)
		}
	}
	if err != nil {
		log.Warn("old interruption records left for the next interruption", logging.KeyError, err.Error())
		return
	}
	if until := h.Breaker.OpenUntil(recs, config, now); !until.IsZero() {
		log.Warn("spot circuit breaker open: launching on-demand", "until", until.UTC().Format(time.RFC3339))
	}
}

func (h *Handler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}
