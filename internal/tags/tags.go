// Package tags is the single source of the EC2 tag keys and runner naming rules that every ghr
// component, the bootstrap script and the Terraform IAM conditions agree on. Changing a value
// here is a breaking change for running deployments: keep it in step with terraform/.
package tags

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Tag keys on instances, volumes and SSM token parameters.
const (
	Environment  = "ghr:environment"   // deployment prefix; every filter starts here
	RunnerConfig = "ghr:runner-config" // key of the runner config that launched it
	Type         = "ghr:type"          // "org" or "repo"
	Owner        = "ghr:owner"         // "org" or "org/repo"
	JobID        = "ghr:job-id"        // jobs of the launch, sorted and comma-separated (ec2fleet.FormatJobIDs)
	CreatedBy    = "ghr:created-by"    // "scale-up" or "pool"
	Orphan       = "ghr:orphan"        // first phase of orphan removal (RFC 3339 time)
	Protect      = "ghr:protect"       // operators' opt-out from any removal
	InstanceID   = "ghr:instance-id"   // on SSM token parameters, to find stale ones
	Registered   = "ghr:registered"    // set (RFC 3339 time) once the host's registration is stored
	// LaunchDeadline is the deadline (RFC 3339) of the invocation that launched the host: until
	// then an unregistered host may still be registered, after it never will be.
	LaunchDeadline = "ghr:launch-deadline"
	// RunnerIDPrefix + instance id holds the GitHub runner id of that instance's
	// registration (RunnerIDKey). It is set with Registered when GitHub returned an id (JIT
	// configs do; registration tokens do not). A CreateTags call gives every resource the
	// same tags, so the key names the instance: one call tags a whole launch, each instance
	// also carrying its siblings' ids, which nobody reads. Clean-up and scale-down act on a
	// registration only when its id and owner match the instance's.
	RunnerIDPrefix = "ghr:runner-id/"
	// TookJob is the id of the job an ephemeral runner took, set by clean-up from the job's
	// in_progress event once its runner id proves the runner is the instance's own. A launch's
	// delayed re-check reads it with the host's state: the proof that a job started on its
	// runner, or that the runner took a job outside its launch (internal/reconcile).
	TookJob = "ghr:took-job"
)

// LaunchTemplateID is the tag EC2 itself puts on every instance launched from a launch
// template (RunInstances and fleets alike). Keys starting with "aws:" cannot be created or
// deleted by anyone, so unlike the ghr: tags it proves an instance came from one of this
// deployment's templates: every listing and the IAM conditions of terminations and tag
// changes require it to be one of the deployment's template ids.
const LaunchTemplateID = "aws:ec2launchtemplate:id"

// RunnerIDKey is the tag key holding instanceID's runner id.
func RunnerIDKey(instanceID string) string { return RunnerIDPrefix + instanceID }

// RunnerIDOf reads instanceID's runner id from its tags: 0 when absent or not a positive
// number.
func RunnerIDOf(instanceID string, kv map[string]string) int64 {
	id, err := strconv.ParseInt(kv[RunnerIDKey(instanceID)], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// Values of the Type tag.
const (
	TypeOrg  = "org"
	TypeRepo = "repo"
)

// Values of the CreatedBy tag.
const (
	CreatedByScaleUp = "scale-up"
	CreatedByPool    = "pool"
)

// CreatedByValues are every value ghr's launches put in CreatedBy. Every listing requires
// one of them besides Environment: terraform-aws-github-runner tags its instances
// ghr:environment=<prefix> too (with ghr:created_by, ghr:Type, ghr:Owner: other keys), so
// with the same prefix in one account the environment tag alone would hand ghr that tool's
// instances.
var CreatedByValues = []string{CreatedByScaleUp, CreatedByPool}

// RunnerName is the GitHub runner name of an instance: every part maps a runner to its
// instance by this rule instead of an extra lookup.
func RunnerName(prefix, instanceID string) string { return prefix + instanceID }

// instanceIDPattern is EC2's instance id: "i-" and 8 (older) or 17 lower-case hex digits.
// Anything looser lets prefixes overlap: with prefixes "ci-" and "ci-i-", the name
// "ci-i-i-0abc…" would belong to both deployments.
var instanceIDPattern = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)

// IsInstanceID reports whether id has the shape of an EC2 instance id.
func IsInstanceID(id string) bool { return instanceIDPattern.MatchString(id) }

// InstanceIDFromRunnerName reverses RunnerName. ok is false when the name was not made by
// this deployment (wrong prefix or not followed by exactly an EC2 instance id).
func InstanceIDFromRunnerName(prefix, name string) (string, bool) {
	id, found := strings.CutPrefix(name, prefix)
	if !found || !IsInstanceID(id) {
		return "", false
	}
	return id, true
}

// LaunchDeadlineOf reads LaunchDeadline from an instance's tags; zero when absent or malformed
// (not recorded).
func LaunchDeadlineOf(kv map[string]string) time.Time {
	t, err := time.Parse(time.RFC3339, kv[LaunchDeadline])
	if err != nil {
		return time.Time{}
	}
	return t
}
