package queue

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/ghr-dev/ghr/internal/tags"
)

// KindRecheck is the kind of a Recheck message. Jobs and lifecycle events carry no kind.
const KindRecheck = "recheck"

// MaxRecheckHosts bounds a re-check's hosts and jobs: one launch registers at most 12 hosts
// (scale-up's maxJobsPerLaunch), and a message must stay far below SQS's 256 KiB.
const MaxRecheckHosts = 16

// Recheck is a delayed re-check of one launch's jobs (internal/reconcile), sent by scale-up
// after it registered runners for them and again by clean-up while the check is not settled.
// It travels on the lifecycle queue. It has no top-level job_id and no action, so a consumer
// that predates it (DecodeJob, DecodeLifecycle) rejects it as invalid and drops it: an older
// release loses the re-check, never launches or cleans up because of it.
type Recheck struct {
	V    int    `json:"v"`
	Kind string `json:"kind"` // KindRecheck
	// Check numbers the checks of this launch, from 1.
	Check        int    `json:"check"`
	RunnerConfig string `json:"runner_config"`
	// Hosts are the instance ids the launch registered; Jobs the jobs it acknowledged that no
	// check has settled yet, ascending by id. Any host of a launch may take any of its jobs.
	Hosts        []string  `json:"hosts"`
	Jobs         []Job     `json:"jobs"`
	RegisteredAt time.Time `json:"registered_at"`
}

// Validate reports why r cannot be processed, wrapping ErrInvalid.
func (r *Recheck) Validate() error {
	switch {
	case r.V != Version:
		return fmt.Errorf("%w: version %d, want %d", ErrInvalid, r.V, Version)
	case r.Kind != KindRecheck:
		return fmt.Errorf("%w: kind %q", ErrInvalid, r.Kind)
	case r.Check < 1:
		return fmt.Errorf("%w: check %d", ErrInvalid, r.Check)
	case r.RunnerConfig == "":
		return fmt.Errorf("%w: runner_config missing", ErrInvalid)
	case len(r.Hosts) == 0 || len(r.Hosts) > MaxRecheckHosts:
		return fmt.Errorf("%w: %d hosts", ErrInvalid, len(r.Hosts))
	case len(r.Jobs) == 0 || len(r.Jobs) > MaxRecheckHosts:
		return fmt.Errorf("%w: %d jobs", ErrInvalid, len(r.Jobs))
	}
	for _, h := range r.Hosts {
		if !tags.IsInstanceID(h) {
			return fmt.Errorf("%w: host %q", ErrInvalid, h)
		}
	}
	seen := map[int64]bool{}
	for i := range r.Jobs {
		j := &r.Jobs[i]
		if err := j.Validate(); err != nil {
			return fmt.Errorf("re-check job: %w", err)
		}
		if j.RunnerConfig != r.RunnerConfig || seen[j.JobID] {
			return fmt.Errorf("%w: job %d repeated or of another runner config", ErrInvalid, j.JobID)
		}
		seen[j.JobID] = true
	}
	return nil
}

// DecodeRecheck parses and validates a re-check message body.
func DecodeRecheck(body []byte) (Recheck, error) {
	var r Recheck
	if err := decodeVersioned(body, &r); err != nil {
		return Recheck{}, err
	}
	return r, r.Validate()
}

// KindOf returns a message body's kind: KindRecheck, or "" for jobs, lifecycle events and
// anything undecodable (whose own decoder then says why).
func KindOf(body []byte) string {
	var k struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(body, &k) != nil {
		return ""
	}
	return k.Kind
}
