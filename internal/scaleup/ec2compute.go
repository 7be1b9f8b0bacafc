package scaleup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/ghr-dev/ghr/internal/awserr"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/interruption"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/tags"
)

// A launch's job ids must fit one ghr:job-id tag value.
const _ = uint(ec2fleet.MaxJobsPerTag - maxJobsPerLaunch)

// EC2Compute runs runner hosts as EC2 instances launched by instant fleets and found by the
// deployment's tags.
type EC2Compute struct {
	API         ec2fleet.API
	Fleet       *ec2fleet.Fleet
	Environment string // deployment prefix (ghr:environment)
	// LaunchTemplates are the deployment's launch template ids: an instance counts towards a
	// config's runners only when EC2 launched it from one of them (ec2fleet.Filter).
	LaunchTemplates []string
	Metrics         *metrics.Recorder // nil records nothing
	// Capacity sends a spot config's launch to on-demand while its circuit breaker is open
	// or for a re-run of an interrupted job; nil keeps every config's own capacity type.
	Capacity runner.CapacityGate
	Log      *slog.Logger // nil logs nothing
}

var _ runner.CapacityGate = (*interruption.Gate)(nil)

// capacity returns the config to launch with: cfg, or a copy on on-demand when the gate says
// so. A gate that cannot answer (SSM down) keeps spot: the breaker protects jobs from repeated
// reclaims, and launching nothing would protect none.
func (c *EC2Compute) capacity(ctx context.Context, spec runner.LaunchSpec) *config.RunnerConfig {
	cfg := spec.Config
	if c.Capacity == nil || cfg.CapacityType != config.CapacitySpot {
		return cfg
	}
	onDemand, reason, err := c.Capacity.OnDemand(ctx, cfg.Key, spec.Runs)
	if err != nil {
		if c.Log != nil {
			c.Log.Warn("spot breaker unknown: launching spot", logging.KeyRunnerConfig, cfg.Key, logging.KeyError, err.Error())
		}
		return cfg
	}
	if !onDemand {
		return cfg
	}
	if c.Log != nil {
		c.Log.Info("launching on-demand instead of spot", logging.KeyRunnerConfig, cfg.Key, "reason", reason)
	}
	od := *cfg
	od.CapacityType = config.CapacityOnDemand
	return &od
}

var (
	_ Compute    = (*EC2Compute)(nil)
	_ TokenStore = runnertoken.Store{}
)

// Runners implements Compute with one paged, tag-filtered DescribeInstances.
func (c *EC2Compute) Runners(ctx context.Context, configKey string) ([]Runner, error) {
	is, err := ec2fleet.List(ctx, c.API, ec2fleet.Filter{Environment: c.Environment, LaunchTemplates: c.LaunchTemplates, RunnerConfig: configKey})
	if err != nil {
		return nil, err
	}
	out := make([]Runner, 0, len(is))
	for _, i := range is {
		out = append(out, Runner{ID: i.ID, Owner: i.Tags[tags.Owner], JobIDs: ec2fleet.ParseJobIDs(i.Tags[tags.JobID]),
			LaunchTime: i.LaunchTime, Registered: i.Tags[tags.Registered] != "", Deadline: tags.LaunchDeadlineOf(i.Tags),
			Took: parseJobID(i.Tags[tags.TookJob])})
	}
	return out, nil
}

// Launch implements Compute with one instant fleet (plus one on-demand fleet on failover).
func (c *EC2Compute) Launch(ctx context.Context, spec runner.LaunchSpec) ([]string, error) {
	kv := map[string]string{
		tags.Environment:  c.Environment,
		tags.RunnerConfig: spec.Config.Key,
		tags.Type:         spec.Owner.Level,
		tags.Owner:        spec.Owner.Name,
		tags.CreatedBy:    spec.CreatedBy,
	}
	if len(spec.JobIDs) > 0 {
		kv[tags.JobID] = ec2fleet.FormatJobIDs(spec.JobIDs)
	}
	if !spec.Deadline.IsZero() {
		// Rounded up to the tag's whole seconds: never shorter than the invocation's life.
		kv[tags.LaunchDeadline] = spec.Deadline.UTC().Add(time.Second - time.Nanosecond).Truncate(time.Second).Format(time.RFC3339)
	}
	res, err := c.Fleet.Launch(ctx, ec2fleet.SpecFor(c.capacity(ctx, spec), spec.Count, kv, spec.Token))
	// Every pool's refusal counts, even when on-demand failover then filled the launch: a
	// spot outage is what an operator needs to see before it becomes a shortfall.
	for _, pe := range res.Errors {
		c.Metrics.Add(metrics.EC2Errors, 1, awserr.ClassifyCode(pe.Code).String())
	}
	ids := make([]string, 0, len(res.Instances))
	for _, i := range res.Instances {
		ids = append(ids, i.ID)
	}
	if err != nil {
		return ids, fmt.Errorf("launch %s for %s: %w", spec.Config.Key, spec.Owner.Name, err)
	}
	return ids, nil
}

// Killed implements Compute from EC2's state reasons, in one call.
func (c *EC2Compute) Killed(ctx context.Context, ids []string) (map[string]bool, error) {
	return ec2fleet.Killed(ctx, c.API, ids)
}

// Terminate implements Compute.
func (c *EC2Compute) Terminate(ctx context.Context, ids []string) error {
	return ec2fleet.Terminate(ctx, c.API, ids)
}

// runnerIDsPerTagCall bounds the hosts one MarkRegistered CreateTags call covers: every host
// of the call carries every host's runner-id key, and EC2 allows 50 tags per resource, of
// which launch tags and the operator's own take up to about 30. A scale-up launch
// (maxJobsPerLaunch) always fits one call.
const runnerIDsPerTagCall = 16

var _ = uint(runnerIDsPerTagCall - maxJobsPerLaunch)

// MarkRegistered implements Compute: one CreateTags call per runnerIDsPerTagCall hosts sets
// ghr:registered and each host's runner id (tags.RunnerIDKey).
func (c *EC2Compute) MarkRegistered(ctx context.Context, hosts []runner.RegisteredHost, at time.Time) error {
	stamp := at.UTC().Format(time.RFC3339)
	var errs []error
	for chunk := range slices.Chunk(hosts, runnerIDsPerTagCall) {
		kv := map[string]string{tags.Registered: stamp}
		ids := make([]string, len(chunk))
		for i, h := range chunk {
			ids[i] = h.ID
			if h.RunnerID > 0 {
				kv[tags.RunnerIDKey(h.ID)] = strconv.FormatInt(h.RunnerID, 10)
			}
		}
		if err := ec2fleet.Tag(ctx, c.API, ids, kv); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// parseJobID reads a job id tag value; anything but a positive number is 0 (not recorded).
func parseJobID(v string) int64 {
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}
