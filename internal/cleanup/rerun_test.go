package cleanup

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/ghr-dev/ghr/internal/queue"
)

// reruns records failed jobs handed over and fails those listed.
type reruns struct {
	got  []int64
	fail map[int64]bool
}

func (r *reruns) JobFailed(_ context.Context, ev queue.Lifecycle, _ string) error {
	r.got = append(r.got, ev.JobID)
	if r.fail[ev.JobID] {
		return errors.New("ssm throttled")
	}
	return nil
}

// An interrupted runner's instance is already gone: its failed job still reaches the
// re-runner, and a re-run that could not be decided is retried, alone.
func TestCleanupHandsFailedJobsToReruns(t *testing.T) {
	c, fleet, _ := setup(t)
	fleet.registered("i-0e000001", 41)
	fleet.registered("i-0e000002", 42)
	r := &reruns{fail: map[int64]bool{2: true}}
	c.Reruns = r
	resp, err := c.HandleSQS(context.Background(), batch(
		completed(1, prefix+"i-0e000001", 41),
		completed(2, prefix+"i-0e000002", 42),
		completed(3, prefix+"i-0dead0001", 43), // the interrupted instance: terminated already
	))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.got, []int64{1, 2, 3}) {
		t.Errorf("handed over %v, want every completed job of ours", r.got)
	}
	if got := failed(resp); !slices.Equal(got, []string{"b"}) {
		t.Errorf("retried %v, want only the message whose re-run failed", got)
	}
	if fleet.isAlive("i-0e000001") {
		t.Error("the other jobs' clean-up must go on")
	}
}
