package scaleup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Launch limits.
const (
	// minLaunchTime: a launch plus registration takes seconds; starting one the invocation
	// cannot finish would leave hosts without a registration.
	minLaunchTime = 10 * time.Second
	// cleanupTimeout bounds terminating hosts whose registration failed. It runs detached
	// from the invocation's context, so a timed-out invocation still leaves no orphan.
	cleanupTimeout = 10 * time.Second
	// invalidConfigPause: after the provider rejects a runner config as invalid, launches for
	// it fail fast for this long instead of calling again per batch. Messages keep returning
	// to the queue (and reach its dead-letter queue) until an operator fixes the config.
	invalidConfigPause = time.Minute
	// maxJobsPerLaunch: a launch's job ids must fit one ghr:job-id tag value.
	maxJobsPerLaunch = 12
)

// Errors that stop a launch before anything starts.
var (
	ErrNoTime         = errors.New("too little time left to launch and register")
	ErrConfigRejected = errors.New("runner config recently rejected as invalid")
)

// Launcher starts runner hosts and registers each with GitHub. Scale-up and the warm pool
// share it.
type Launcher struct {
	Compute          Compute
	Tokens           TokenStore
	GitHub           GitHub
	RunnerNamePrefix string
	Logger           *slog.Logger
	Now              func() time.Time  // nil uses time.Now
	Metrics          *metrics.Recorder // nil records nothing

	mu      sync.Mutex
	blocked map[string]time.Time // runner config → end of its invalid-config pause
	fresh   map[string]freshHost // instance id → a host scale-up registered within deadOnArrivalWindow (dead.go)
}

// Launch starts count hosts for cfg in owner and registers them. It returns the ids of the
// hosts started and registered; hosts that started but could not be registered are
// terminated. The error explains any shortfall. The warm pool calls this.
func (l *Launcher) Launch(ctx context.Context, cfg *config.RunnerConfig, owner runner.Owner, count int, createdBy string) ([]string, error) {
	hosts, err := l.launch(ctx, runner.LaunchSpec{Config: cfg, Owner: owner, CreatedBy: createdBy, Count: count}, cfg.Labels)
	ids := make([]string, len(hosts))
	for i, h := range hosts {
		ids[i] = h.ID
	}
	return ids, err
}

func (l *Launcher) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Launcher) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.Default()
}

// ready refuses a launch that cannot succeed now, before any call is spent on it.
func (l *Launcher) ready(ctx context.Context, configKey string) error {
	if dl, ok := ctx.Deadline(); ok && dl.Sub(l.now()) < minLaunchTime {
		return ErrNoTime
	}
	if d := l.GitHub.Paused(); d > 0 {
		return fmt.Errorf("%w for %s", ErrPaused, d.Round(time.Second))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until, ok := l.blocked[configKey]; ok && l.now().Before(until) {
		return ErrConfigRejected
	}
	return nil
}

func (l *Launcher) block(configKey string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.blocked == nil {
		l.blocked = map[string]time.Time{}
	}
	l.blocked[configKey] = l.now().Add(invalidConfigPause)
}

// deadline is when this invocation ends at the latest: its context's deadline, or Lambda's
// longest timeout from now.
func (l *Launcher) deadline(ctx context.Context) time.Time {
	if dl, ok := ctx.Deadline(); ok {
		return dl
	}
	return l.now().Add(maxFunctionTimeout)
}

// launch starts spec.Count hosts, registers them, and returns the registered ids in launch
// order.
func (l *Launcher) launch(ctx context.Context, spec runner.LaunchSpec, labels []string) ([]runner.RegisteredHost, error) {
	if err := l.ready(ctx, spec.Config.Key); err != nil {
		return nil, err
	}
	spec.Deadline = l.deadline(ctx)
	ids, launchErr := l.Compute.Launch(ctx, spec)
	if launchErr != nil {
		class := awserr.Classify(launchErr)
		var short *ec2fleet.ShortfallError
		if !errors.As(launchErr, &short) {
			l.Metrics.Add(metrics.EC2Errors, 1, class.String()) // a shortfall's pools were counted as they refused
		}
		level := slog.LevelWarn
		if class == awserr.InvalidConfig {
			level = slog.LevelError // an operator must fix the runner config or its launch template
			if len(ids) == 0 {
				l.block(spec.Config.Key)
			}
		}
		l.logger().Log(ctx, level, "launch short", logging.KeyRunnerConfig, spec.Config.Key, logging.KeyOwner, spec.Owner.Name,
			"want", spec.Count, "launched", len(ids), "class", class.String(), logging.KeyError, launchErr.Error())
	}
	ids, capErr := l.enforceCap(ctx, spec, ids)
	registered, regErr := l.register(ctx, spec, ids, labels)
	return registered, errors.Join(launchErr, capErr, regErr)
}

// register registers every host concurrently (GitHub's client bounds and paces the calls)
// and terminates the hosts it could not register.
func (l *Launcher) register(ctx context.Context, spec runner.LaunchSpec, ids []string, labels []string) ([]runner.RegisteredHost, error) {
	errs := make([]error, len(ids))
	runnerIDs := make([]int64, len(ids))
	stored := make([]time.Time, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			name := tags.RunnerName(l.RunnerNamePrefix, id)
			value, runnerID, err := l.GitHub.Register(ctx, Registration{
				Owner: spec.Owner, Name: name, Labels: labels, RunnerGroup: spec.Config.RunnerGroup, Ephemeral: spec.Config.Ephemeral,
			})
			if err == nil {
				err = l.Tokens.Put(ctx, spec.Config.Key, id, value)
				stored[i] = l.now()
			}
			errs[i], runnerIDs[i] = err, runnerID
		})
	}
	wg.Wait()
	var failed []string
	var hosts []runner.RegisteredHost
	for i, id := range ids {
		if errs[i] == nil {
			hosts = append(hosts, runner.RegisteredHost{ID: id, RunnerID: runnerIDs[i], StoredAt: stored[i]})
			continue
		}
		failed = append(failed, id)
		l.logger().Warn("registration failed", logging.KeyInstanceID, id, logging.KeyRunnerConfig, spec.Config.Key,
			logging.KeyOwner, spec.Owner.Name, logging.KeyError, errs[i].Error())
	}
	l.markRegistered(ctx, spec, hosts)
	if len(failed) == 0 {
		return hosts, nil
	}
	regErr := fmt.Errorf("register %d of %d hosts: %w", len(failed), len(ids), errors.Join(errs...))
	if err := l.terminate(ctx, failed); err != nil {
		return hosts, errors.Join(regErr, err)
	}
	return hosts, regErr
}

// terminate stops hosts that never got a registration, detached from the invocation's
// context so a timed-out invocation still cleans up.
func (l *Launcher) terminate(ctx context.Context, ids []string) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := l.Compute.Terminate(cctx, ids); err != nil {
		// The hosts never got a registration, so they never take a job; scale-down reaps
		// them as orphans. Said loudly because they cost money until then.
		l.logger().Error("terminate unregistered hosts", "instance_ids", ids, logging.KeyError, err.Error())
		return err
	}
	return nil
}

// markRegistered records the registered hosts. A failure costs nothing now — the hosts run
// their jobs — so it is only logged: the hosts then count as serving their jobs while their
// launch may still be in flight (servedJobs), and a duplicate arriving later gets a spare.
func (l *Launcher) markRegistered(ctx context.Context, spec runner.LaunchSpec, hosts []runner.RegisteredHost) {
	if len(hosts) == 0 {
		return
	}
	if err := l.Compute.MarkRegistered(ctx, hosts, l.now()); err != nil {
		l.logger().Warn("mark registered", logging.KeyRunnerConfig, spec.Config.Key, "hosts", len(hosts), logging.KeyError, err.Error())
	}
}

// PoolLauncher adapts Launcher to the warm pool, which launches org-level runners it tags as
// its own.
type PoolLauncher struct{ L *Launcher }

// Launch starts and registers count runners of cfg in org.
func (p PoolLauncher) Launch(ctx context.Context, cfg *config.RunnerConfig, org string, count int) ([]string, error) {
	return p.L.Launch(ctx, cfg, runner.Owner{Name: org, Level: tags.TypeOrg}, count, tags.CreatedByPool)
}
