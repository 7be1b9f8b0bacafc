// Package queue defines the versioned messages that travel on ghr's SQS queues: build jobs
// from the webhook to scale-up, job lifecycle events from the webhook to clean-up, and a
// launch's delayed re-checks from scale-up to clean-up (recheck.go).
// Decoders reject unknown versions instead of guessing, so a producer and a consumer of
// different releases fail loudly rather than launching the wrong runner.
package queue

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ghr-dev/ghr/internal/runner"
)

// Version is the only message version this release produces and accepts.
const Version = 1

// Runner levels: where the runner is registered in GitHub.
const (
	LevelOrg  = "org"
	LevelRepo = "repo"
)

// ErrInvalid marks a message that can never be processed (bad JSON, wrong version, missing
// fields). Consumers drop such messages with an error log instead of retrying them forever.
var ErrInvalid = errors.New("invalid queue message")

// Job is one accepted `workflow_job` `queued` event on a build queue.
type Job struct {
	V              int       `json:"v"`
	JobID          int64     `json:"job_id"`
	RunID          int64     `json:"run_id"`
	Repo           string    `json:"repo"`            // "owner/name"
	Owner          string    `json:"owner"`           // runner owner: "org" for org level, "org/repo" for repo level
	OwnerType      string    `json:"owner_type"`      // GitHub's repository owner type: Organization or User
	Level          string    `json:"level"`           // LevelOrg or LevelRepo
	InstallationID int64     `json:"installation_id"` // 0: not in the event; resolve from Owner
	Labels         []string  `json:"labels"`
	DeliveryID     string    `json:"delivery_id"`
	QueuedAt       time.Time `json:"queued_at"`
	RunnerConfig   string    `json:"runner_config"`
	// Requeues counts how often scale-up put the job back on its queue because it could not
	// be served yet (over max_runners, GitHub paused); 0 from the webhook.
	Requeues int `json:"requeues,omitempty"`
	// Relaunches counts how often a re-check found the job still queued with no runner left
	// for it and sent it again (internal/reconcile); 0 from the webhook.
	Relaunches int `json:"relaunches,omitempty"`
}

// Validate reports why j cannot be processed, wrapping ErrInvalid.
func (j *Job) Validate() error {
	switch {
	case j.V != Version:
		return fmt.Errorf("%w: version %d, want %d", ErrInvalid, j.V, Version)
	case j.JobID <= 0:
		return fmt.Errorf("%w: job_id missing", ErrInvalid)
	case j.Repo == "" || j.Owner == "":
		return fmt.Errorf("%w: repo or owner missing", ErrInvalid)
	case j.Level != LevelOrg && j.Level != LevelRepo:
		return fmt.Errorf("%w: level %q", ErrInvalid, j.Level)
	case j.InstallationID < 0:
		return fmt.Errorf("%w: installation_id %d", ErrInvalid, j.InstallationID)
	case j.RunnerConfig == "":
		return fmt.Errorf("%w: runner_config missing", ErrInvalid)
	case j.Requeues < 0:
		return fmt.Errorf("%w: requeues %d", ErrInvalid, j.Requeues)
	case j.Relaunches < 0:
		return fmt.Errorf("%w: relaunches %d", ErrInvalid, j.Relaunches)
	}
	return nil
}

// DecodeJob parses and validates a build-queue message body.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := decodeVersioned(body, &j); err != nil {
		return Job{}, err
	}
	return j, j.Validate()
}

// Lifecycle actions carried on the lifecycle queue.
const (
	ActionInProgress = "in_progress"
	ActionCompleted  = "completed"
)

// Lifecycle is a `workflow_job` `in_progress` or `completed` event on the lifecycle queue.
// RunnerName identifies the runner that took the job, so clean-up can find its instance
// (runner name = prefix + instance id) without a GitHub call.
type Lifecycle struct {
	V              int       `json:"v"`
	Action         string    `json:"action"`
	JobID          int64     `json:"job_id"`
	RunID          int64     `json:"run_id"`
	Repo           string    `json:"repo"`
	Owner          string    `json:"owner"` // the org or user owning the repository
	OwnerType      string    `json:"owner_type"`
	InstallationID int64     `json:"installation_id"`
	Labels         []string  `json:"labels"`
	RunnerID       int64     `json:"runner_id,omitempty"`
	RunnerName     string    `json:"runner_name,omitempty"`
	RunnerGroupID  int64     `json:"runner_group_id,omitempty"`
	Conclusion     string    `json:"conclusion,omitempty"`
	DeliveryID     string    `json:"delivery_id"`
	At             time.Time `json:"at"`
}

// Validate reports why l cannot be processed, wrapping ErrInvalid.
func (l *Lifecycle) Validate() error {
	switch {
	case l.V != Version:
		return fmt.Errorf("%w: version %d, want %d", ErrInvalid, l.V, Version)
	case l.Action != ActionInProgress && l.Action != ActionCompleted:
		return fmt.Errorf("%w: action %q", ErrInvalid, l.Action)
	case l.JobID <= 0:
		return fmt.Errorf("%w: job_id missing", ErrInvalid)
	case l.Repo == "" || l.Owner == "":
		return fmt.Errorf("%w: repo or owner missing", ErrInvalid)
	}
	return nil
}

// DecodeLifecycle parses and validates a lifecycle-queue message body.
func DecodeLifecycle(body []byte) (Lifecycle, error) {
	var l Lifecycle
	if err := decodeVersioned(body, &l); err != nil {
		return Lifecycle{}, err
	}
	return l, l.Validate()
}

func decodeVersioned(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// RunnerOwner is where the job's runner registers.
func (j Job) RunnerOwner() runner.Owner {
	return runner.Owner{Name: j.Owner, Level: j.Level, InstallationID: j.InstallationID}
}
