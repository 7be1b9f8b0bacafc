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

// New returns a JSON logger at level writing to w (stdout when nil).
func New(w io.Writer, level slog.Level) *slog.Logger {
	if w == nil {
		w = os.Stdout
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
