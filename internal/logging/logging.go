// Package logging builds the JSON slog logger every ghr function uses. Keys are stable so
// dashboards and log scans can rely on them.
package logging

import (
	"io"
	"log/slog"
	"os"
)

// Stable log keys.
const (
	KeyJobID        = "job_id"
	KeyInstanceID   = "instance_id"
	KeyRunner       = "runner"
	KeyOwner        = "owner"
	KeyDeliveryID   = "delivery_id"
	KeyRequestID    = "request_id"
	KeyRunnerConfig = "runner_config"
	KeyDecision     = "decision"
	KeyError        = "error"
)

// Stable keys of the job path's milestones, each an RFC 3339 time with nanoseconds: the
// per-hop latency report (internal/harness/sandbox, docs/metrics.md) pairs them by job id and
// instance id, so renaming one breaks it.
const (
	// KeyReceivedAt: the webhook delivery reached API Gateway (its requestContext.timeEpoch,
	// in milliseconds), or the webhook handler when the event carries no time.
	KeyReceivedAt = "received_at"
	// KeyEnqueuedAt: SQS accepted the job's build-queue message.
	KeyEnqueuedAt = "enqueued_at"
	// KeyBatchReceivedAt: scale-up's handler got the SQS batch holding the job.
	KeyBatchReceivedAt = "batch_received_at"
	// KeyFleetRequestedAt and KeyFleetReturnedAt: one CreateFleet request sent and answered.
	KeyFleetRequestedAt = "fleet_requested_at"
	KeyFleetReturnedAt  = "fleet_returned_at"
	// KeyTokenStoredAt: the runner's JIT config (or registration token) was stored in SSM.
	KeyTokenStoredAt = "token_stored_at"
)

// New returns a JSON logger at level writing to w (stdout when nil).
func New(w io.Writer, level slog.Level) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
