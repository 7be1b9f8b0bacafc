package sandbox

import (
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
)

// The soak used to count a job that concluded in failure (its runner interrupted and the
// job never re-run) as run, and printed PASS with 4 such jobs.
func TestOnlyASuccessfulFinalAttemptCountsAsRun(t *testing.T) {
	at := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		job  ghsim.Job
		want bool
	}{
		{"succeeded", ghsim.Job{Status: ghsim.StatusCompleted, Conclusion: ghsim.ConclusionSuccess, StartedAt: at}, true},
		{"lost its runner, never re-run", ghsim.Job{Status: ghsim.StatusCompleted, Conclusion: ghsim.ConclusionFailure, StartedAt: at}, false},
		{"cancelled in the queue", ghsim.Job{Status: ghsim.StatusCompleted, Conclusion: ghsim.ConclusionCancelled}, false},
		{"still running", ghsim.Job{Status: ghsim.StatusInProgress, StartedAt: at}, false},
		{"queued", ghsim.Job{Status: ghsim.StatusQueued}, false},
	} {
		if got := succeeded(tc.job); got != tc.want {
			t.Errorf("%s: succeeded = %v, want %v", tc.name, got, tc.want)
		}
	}
}
