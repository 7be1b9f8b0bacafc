package runner

import (
	"context"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
)

// Provider starts, finds, marks and stops runner hosts on one compute platform: EC2 instances
// (ec2fleet.Provider) or ECS tasks. Scale-up, the pool, clean-up, scale-down and the status
// commands reach compute only through it.
//
// Identity: every call that lists or acts on hosts covers only hosts the platform itself
// proves are this deployment's (for EC2 the aws:ec2launchtemplate:id tag only EC2 can set;
// for ECS the task definition the task was started from), never a name or a tag alone.
// Host ids are the platform's own and distinct across providers (Owns).
type Provider interface {
	// Owns reports whether id is one of this platform's host ids (i-… for EC2), so callers
	// holding several providers route a host to the right one.
	Owns(id string) bool
	// Launch starts up to spec.Count hosts and returns the ids of those it started, even
	// when it also returns an error (a partial launch). The same spec.Token never launches
	// twice.
	Launch(ctx context.Context, spec LaunchSpec) ([]string, error)
	// List returns the deployment's live hosts of one runner config, or of every config when
	// configKey is "".
	List(ctx context.Context, configKey string) ([]Host, error)
	// Describe returns those of ids that are live hosts of the deployment; ids that no
	// longer exist are simply absent.
	Describe(ctx context.Context, ids []string) ([]Host, error)
	// Tag sets every key=value on the hosts; Untag removes key from them.
	Tag(ctx context.Context, ids []string, kv map[string]string) error
	Untag(ctx context.Context, ids []string, key string) error
	// MarkRegistered records that the hosts' registrations are stored, and each host's
	// runner id where GitHub gave one, so a later listing tells a runner from a host whose
	// launching invocation died before registering it (Host.Registered, Host.RunnerID).
	MarkRegistered(ctx context.Context, hosts []RegisteredHost, at time.Time) error
	// Stop ends hosts (terminates instances, stops tasks); a host already gone is not an
	// error.
	Stop(ctx context.Context, ids []string) error
	// Killed returns which of ids, hosts no longer live, the platform ended (a launch
	// failure, a capacity reclaim) rather than the host itself after its job or a caller.
	Killed(ctx context.Context, ids []string) (map[string]bool, error)
}

// LaunchSpec asks a provider for runner hosts.
type LaunchSpec struct {
	Config    *config.RunnerConfig
	Owner     Owner
	CreatedBy string  // tags.CreatedByScaleUp or tags.CreatedByPool
	JobIDs    []int64 // ascending; recorded on every host of the launch
	Count     int
	Token     string // idempotency key: the same key never launches twice; "" for none
	// Deadline is the launching invocation's deadline, recorded on every host in the launch
	// call itself: an unregistered host counts as its jobs' runner only until then.
	Deadline time.Time
	// Runs are the workflow runs of JobIDs: a spot config launches on-demand for the next
	// attempt of a run re-run after an interruption (CapacityGate).
	Runs []Run
}

// Run names a workflow run: a job's run id and repository ("owner/name").
type Run struct {
	Repo string
	ID   int64
}

// CapacityGate decides when a spot config launches on its on-demand capacity instead
// (interruption.Gate): while its spot breaker is open, and for a re-run of an interrupted
// job. EC2 spot → on-demand and Fargate Spot → Fargate ask it alike.
type CapacityGate interface {
	OnDemand(ctx context.Context, configKey string, runs []Run) (onDemand bool, reason string, err error)
}
