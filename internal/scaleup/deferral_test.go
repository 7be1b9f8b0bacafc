package scaleup_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

// Failures that waiting fixes requeue the job with a delay instead of spending one of its
// message's receives: an outage longer than max_receive_count visibility timeouts must not
// put jobs in the dead-letter queue. Failures waiting cannot fix still spend a receive.
func TestTransientFailuresDeferInsteadOfSpendingReceives(t *testing.T) {
	allDry := func(w *world) {
		for _, ct := range []string{"spot", "on-demand"} {
			for _, it := range []string{"m7g.large", "c7g.large"} {
				for _, sn := range []string{"subnet-a", "subnet-b"} {
					w.ec2.SetDry(ec2fleet.Offering{InstanceType: it, SubnetID: sn, CapacityType: ct}, "InsufficientInstanceCapacity")
				}
			}
		}
	}
	for _, tc := range []struct {
		name      string
		fault     func(*world)
		wantRetry bool // spends a receive
	}{
		{"no capacity on spot nor on-demand", allDry, false},
		{"vCPU quota", func(w *world) { w.ec2.FailNext("CreateFleet", "VcpuLimitExceeded") }, false},
		{"EC2 throttling", func(w *world) { w.ec2.FailNext("CreateFleet", "RequestLimitExceeded") }, false},
		{"EC2 5xx", func(w *world) { w.ec2.FailNext("CreateFleet", "InternalError") }, false},
		{"DescribeInstances error", func(w *world) { w.ec2.FailNext("DescribeInstances", "Unavailable") }, false},
		{"GitHub 5xx on JIT", func(w *world) { w.gh.FailJIT("", 502) }, false},
		{"SSM throttling", func(w *world) {
			w.ssm.fail["PutParameter"] = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}
		}, false},
		{"GitHub refuses the request (422)", func(w *world) { w.gh.FailJIT("", 422) }, true},
		{"invalid launch template", func(w *world) { w.ec2.FailNext("CreateFleet", "InvalidLaunchTemplateName.NotFoundException") }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 0, config.CheckQueuedAuto)
			q := &fakeQueue{}
			w.h.Requeue = q
			tc.fault(w)
			ev := sqsEvent(t, recent(1, "linux"), recent(2, "linux"))
			retried := w.handle(ev)
			if tc.wantRetry {
				if !sameSet(retried, msgIDs(ev, 0, 1)) || len(q.sent) != 0 {
					t.Fatalf("retried %v, requeued %d: want both back through SQS", retried, len(q.sent))
				}
				return
			}
			if len(retried) != 0 || len(q.sent) != 2 {
				t.Fatalf("retried %v, requeued %+v: want both requeued, no receive spent", retried, q.sent)
			}
			for _, s := range q.sent {
				if s.job.Requeues != 1 || s.delay != scaleup.RequeueDelay(1) {
					t.Fatalf("requeued %+v", s)
				}
			}
			if n := len(w.live()); n != 0 {
				t.Fatalf("%d hosts left by a deferred launch", n)
			}
		})
	}
}

func TestDeferralIsBoundedByTheJobsAge(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	w.ec2.FailNext("CreateFleet", "VcpuLimitExceeded")
	old := recent(1, "linux")
	old.QueuedAt = time.Now().Add(-25 * time.Hour)
	if retried := w.handle(sqsEvent(t, old)); len(retried) != 0 || len(q.sent) != 0 {
		t.Fatalf("retried %v, sent %v: a job GitHub has cancelled is dropped", retried, q.sent)
	}
}

func TestLastReceiveIsLoggedAtErrorLevel(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	w.h.MaxReceives = 5
	w.ec2.FailNext("CreateFleet", "InvalidLaunchTemplateName.NotFoundException")
	ev := sqsEvent(t, recent(41, "linux"))
	ev.Records[0].Attributes["ApproximateReceiveCount"] = "4"
	w.handle(ev)
	const msg = `"level":"ERROR","msg":"message failed on its last receive`
	if strings.Contains(w.log.String(), msg) {
		t.Fatal("logged before the last receive")
	}
	ev.Records[0].Attributes["ApproximateReceiveCount"] = "5"
	w.handle(ev)
	if !strings.Contains(w.log.String(), msg) || !strings.Contains(w.log.String(), `"job_id":41`) {
		t.Fatalf("last receive not logged at error level with the job id:\n%s", w.log.String())
	}
}

func TestTransient(t *testing.T) {
	api := func(code string) error { return &smithy.GenericAPIError{Code: code} }
	status := func(n int) error {
		return &github.ErrorResponse{Response: &http.Response{StatusCode: n}}
	}
	httpErr := func(n int, inner error) error {
		return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: n}}, Err: inner}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"capacity", api("InsufficientInstanceCapacity"), true},
		{"quota", api("VcpuLimitExceeded"), true},
		{"throttling", api("ThrottlingException"), true},
		{"server code", api("InternalError"), true},
		{"HTTP 503 around an unknown code", httpErr(503, api("Whatever")), true},
		{"HTTP 400 around a throttle", httpErr(400, api("Throttling")), true},
		{"HTTP 400 around a validation error", httpErr(400, api("ValidationException")), false},
		{"invalid config", api("InvalidParameterValue"), false},
		{"GitHub 502", fmt.Errorf("generate jit config: %w", status(502)), true},
		{"GitHub 404", status(404), false},
		{"GitHub rate limit", &githubapp.RateLimitError{Wait: time.Minute}, true},
		{"paused", fmt.Errorf("%w for 3s", scaleup.ErrPaused), true},
		{"config rejected", scaleup.ErrConfigRejected, false},
		{"all joined transient", errors.Join(api("InsufficientInstanceCapacity"), status(500)), true},
		{"one joined error is not", errors.Join(api("InsufficientInstanceCapacity"), status(422)), false},
		{"unknown", errors.New("boom"), false},
	} {
		if got := scaleup.Transient(tc.err); got != tc.want {
			t.Errorf("%s: Transient(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
