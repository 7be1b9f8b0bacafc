package config

import (
	"time"

	"github.com/ghr-dev/ghr/internal/reconcile"
)

// Cleanup is the lifecycle-queue consumer's configuration: it terminates a finished
// ephemeral runner's instance and deletes its registration.
type Cleanup struct {
	Common
	GitHubApp
	RunnerConfigs Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER: which configs are ephemeral
	Recheck       Recheck
}

// ReadCleanup reads and validates the clean-up function's environment.
func ReadCleanup(e *Env) (Cleanup, error) {
	c := Cleanup{Common: ReadCommon(e), GitHubApp: ReadGitHubApp(e), RunnerConfigs: ReadRunnerConfigsSource(e), Recheck: ReadRecheck(e)}
	return c, e.Err()
}

// Recheck is where launches' delayed re-checks travel and when the first one runs
// (internal/reconcile); scale-up schedules them and clean-up runs them.
type Recheck struct {
	QueueURL string        // LIFECYCLE_QUEUE_URL: the lifecycle queue; "" runs no re-check
	After    time.Duration // RECHECK_AFTER: the first check's delay after registration
}

// Re-check delay bounds: SQS delays a message at most 15 minutes, and a check before any
// host could have booted only costs a second one.
const (
	minRecheckAfter = 10 * time.Second
	maxRecheckAfter = 15 * time.Minute
)

// ReadRecheck reads LIFECYCLE_QUEUE_URL and RECHECK_AFTER.
func ReadRecheck(e *Env) Recheck {
	return Recheck{
		QueueURL: e.String("LIFECYCLE_QUEUE_URL", ""),
		After:    e.Duration("RECHECK_AFTER", reconcile.DefaultFirstCheck, minRecheckAfter, maxRecheckAfter),
	}
}
