package scaleup

import (
	"context"
	"time"

	"github.com/ghr-dev/ghr/internal/runner"
)

// Runner is one live runner host as the compute provider reports it.
type Runner struct {
	ID         string
	Owner      string
	JobIDs     []int64 // ascending ids of the jobs its launch was for; nil for pool runners
	LaunchTime time.Time
	Registered bool      // its registration was stored (Compute.MarkRegistered)
	Deadline   time.Time // of the invocation that launched it (zero: not recorded)
	// Took is the job its runner took (tags.TookJob); 0 when none yet or not known.
	Took int64
}

// Compute starts and stops runner hosts. EC2 is the provider today (EC2Compute); an
// ECS/Fargate provider would implement the same calls.
type Compute interface {
	// Runners lists the live (booting or running) hosts of a runner config.
	Runners(ctx context.Context, configKey string) ([]Runner, error)
	// Launch starts up to spec.Count hosts and returns the ids of those it started, even
	// when it also returns an error (a partial launch).
	Launch(ctx context.Context, spec runner.LaunchSpec) ([]string, error)
	// Terminate stops hosts.
	Terminate(ctx context.Context, ids []string) error
	// MarkRegistered records that the hosts' registrations are stored, so a later listing
	// tells a runner from a host whose launching invocation died before registering it, and
	// each host's runner id where GitHub gave one, so removals can prove a registration is
	// the host's own.
	MarkRegistered(ctx context.Context, hosts []runner.RegisteredHost, at time.Time) error
	// Killed returns which of ids, hosts no longer live, the platform ended (a launch
	// failure, a capacity reclaim) rather than the host itself after its job or a caller.
	Killed(ctx context.Context, ids []string) (map[string]bool, error)
}

// TokenStore keeps each host's registration where its bootstrap reads it.
type TokenStore interface {
	Put(ctx context.Context, configKey, instanceID, value string) error
	// Remove deletes a host's token; one already gone is not an error.
	Remove(ctx context.Context, configKey, instanceID string) error
}
