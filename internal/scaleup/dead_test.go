package scaleup_test

import (
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// TestHostDeadBeforeRunningItsJob: EC2 terminates a host right after CreateFleet
// (Client.InternalError: pending → terminated), after scale-up registered it and acknowledged
// its job. The next batch of that runner config sees, in the listing it makes anyway, that the
// host is gone: the job is not served, it is requeued, and the host's registration (its runner
// in GitHub, its token parameter) is deleted. The requeued job then gets a new host.
func TestHostDeadBeforeRunningItsJob(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	if retried := w.handle(sqsEvent(t, job(1, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	dead := w.live()[0].ID
	if _, ok := w.ssm.snapshot()[runnertoken.Path("ghr", "linux", dead)]; !ok {
		t.Fatal("no token stored for the launched host")
	}
	w.ec2.Kill(dead, "Client.InternalError")

	if retried := w.handle(sqsEvent(t, job(2, "linux", "octo"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if len(q.sent) != 1 || q.sent[0].job.JobID != 1 || q.sent[0].job.Requeues != 1 {
		t.Fatalf("requeued %+v, want job 1 once", q.sent)
	}
	if _, ok := w.ssm.snapshot()[runnertoken.Path("ghr", "linux", dead)]; ok {
		t.Error("the dead host's token parameter is still there")
	}
	for _, r := range w.gh.Runners("orgs/octo") {
		if r.Name == "ghr-"+dead {
			t.Errorf("the dead host's runner %+v is still registered in GitHub", r)
		}
	}
	if n := w.metric("JobsFailed", map[string]string{"class": "instance_died"}); n != 1 {
		t.Errorf("JobsFailed{class=instance_died} = %v, want 1", n)
	}

	// The requeued job is not served by the dead host: it gets a new one.
	if retried := w.handle(sqsEvent(t, q.sent[0].job)); len(retried) != 0 {
		t.Fatalf("requeued job retried %v", retried)
	}
	if n := len(w.live()); n != 2 {
		t.Fatalf("%d live hosts, want 2 (jobs 2 and 1 again)", n)
	}
}

// TestHostThatFinishedItsJobIsNotDead: an ephemeral runner whose job took seconds powers
// off well inside the window. It left the listing as a killed host does, but EC2's state
// reason says the host ended itself: nothing is requeued, deregistered or counted as failed
// (the demo once counted 7 such hosts as JobsFailed under load).
func TestHostThatFinishedItsJobIsNotDead(t *testing.T) {
	for _, reason := range []string{"Client.InstanceInitiatedShutdown", "Client.UserInitiatedShutdown"} {
		t.Run(reason, func(t *testing.T) {
			w := newWorld(t, 0, config.CheckQueuedAuto)
			q := &fakeQueue{}
			w.h.Requeue = q
			w.handle(sqsEvent(t, job(1, "linux", "octo")))
			done := w.live()[0].ID
			w.ec2.Kill(done, reason)
			runners := len(w.gh.Runners("orgs/octo"))

			w.handle(sqsEvent(t, job(2, "linux", "octo")))
			if len(q.sent) != 0 {
				t.Errorf("requeued %+v: the host ran its job", q.sent)
			}
			if got := len(w.gh.Runners("orgs/octo")); got != runners+1 {
				t.Errorf("%d runners registered, want %d (a registration was deleted)", got, runners+1)
			}
			if n := w.metric("JobsFailed", nil); n != 0 {
				t.Errorf("JobsFailed = %v, want 0", n)
			}
		})
	}
}

// TestLiveHostsCostNoCheck: in the happy path the watch makes no call of its own.
func TestLiveHostsCostNoCheck(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	w.handle(sqsEvent(t, job(1, "linux", "octo")))
	ec2Before, ssmBefore := w.ec2.TotalCalls(), w.ssm.totalCalls()
	w.handle(sqsEvent(t, job(2, "linux", "octo")))
	// One listing, one launch, one tag call; one token write.
	if ec2, ssm := w.ec2.TotalCalls()-ec2Before, w.ssm.totalCalls()-ssmBefore; ec2 != 3 || ssm != 1 {
		t.Fatalf("second batch: %d EC2 and %d SSM calls, want 3 and 1 (%v)", ec2, ssm, w.ec2.Calls())
	}
	if len(q.sent) != 0 || len(w.gh.Runners("orgs/octo")) != 2 {
		t.Fatalf("requeued %v, runners %v: nothing died", q.sent, w.gh.Runners("orgs/octo"))
	}
}
