package cleanup

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/tags"
)

func started(jobID int64, runnerName string, runnerID int64) string {
	b, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionInProgress, JobID: jobID, Repo: "octo/app", Owner: "octo",
		RunnerID: runnerID, RunnerName: runnerName, DeliveryID: "d", At: time.Now()})
	return string(b)
}

// An in_progress event records on the instance which job its runner took, only when the
// event's runner id is the instance's own (an ephemeral scale-up runner): a runner named like
// our instance but registered by someone else marks nothing. Nothing is terminated.
func TestStartedJobIsRecordedOnItsInstance(t *testing.T) {
	c, fleet, _ := setup(t)
	fleet.registered("i-0e000001", 501)
	fleet.registered("i-0e000002", 502)
	fleet.registered("i-0b000001", 503)
	resp, err := c.HandleSQS(context.Background(), batch(
		started(11, prefix+"i-0e000001", 501), // ours: recorded
		started(12, prefix+"i-0e000002", 999), // another registration named like ours
		started(13, prefix+"i-0b000001", 503), // persistent runners take many jobs
		started(14, prefix+"i-0d000001", 504), // not an instance of ours
	))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleSQS: %v %v", err, resp.BatchItemFailures)
	}
	want := map[string]string{"i-0e000001": "11", "i-0e000002": "", "i-0b000001": ""}
	for id, v := range want {
		i, _ := fleet.fake.Instance(id)
		if i.Tags[tags.TookJob] != v {
			t.Errorf("%s: %s=%q, want %q", id, tags.TookJob, i.Tags[tags.TookJob], v)
		}
	}
	if n := fleet.calls("CreateTags"); n != 1 {
		t.Errorf("%d CreateTags calls, want 1", n)
	}
	if n := fleet.calls("DescribeInstances"); n != 1 {
		t.Errorf("%d DescribeInstances calls, want 1 for the batch", n)
	}
	if len(fleet.alive()) != 4 {
		t.Errorf("alive %v: an in_progress event must terminate nothing", fleet.alive())
	}
}
