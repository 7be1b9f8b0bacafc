// Package tags is the single source of the EC2 tag keys and runner naming rules that every ghr
// component, the bootstrap script and the Terraform IAM conditions agree on. Changing a value
// here is a breaking change for running deployments: keep it in step with terraform/.
package tags

import (
	"regexp"
	"strings"
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
)

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
