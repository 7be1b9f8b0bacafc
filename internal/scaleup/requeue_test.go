package scaleup_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// fakeQueue records delayed sends, or refuses them all.
type fakeQueue struct {
	mu   sync.Mutex
	sent []sent
	fail bool
}

type sent struct {
	url   string
	job   queue.Job
	delay time.Duration
}

var _ scaleup.Requeuer = (*fakeQueue)(nil)

func (q *fakeQueue) SendDelayed(_ context.Context, url string, body []byte, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail {
		return errors.New("send refused")
	}
	j, err := queue.DecodeJob(body)
	if err != nil {
		return err
	}
	q.sent = append(q.sent, sent{url: url, job: j, delay: delay})
	return nil
}

func recent(id int64, cfg string) queue.Job {
	j := job(id, cfg, "octo")
	j.QueuedAt = time.Now().Add(-time.Minute)
	return j
}

// A scale-up that died between CreateFleet and registration left a host tagged with the job.
// When SQS redelivers the job, that host must not count as its runner.
func TestHostOfADeadLaunchServesNoJob(t *testing.T) {
	for _, tc := range []struct {
		name      string
		age       time.Duration // of the dead launch's host
		left      time.Duration // the launching invocation's time left; 0 recorded no deadline
		wantLive  int
		wantFleet int
	}{
		{"launch may still be registering", 10 * time.Second, time.Minute, 1, 1},
		{"launching invocation is over", time.Hour, 0, 2, 2},
		// Measured from the redelivery, the window (this invocation's minute) would still
		// cover a launch 30 s old: the host's own deadline says its invocation is over.
		{"launch deadline passed before the redelivery", 30 * time.Second, 12 * time.Second, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 0, config.CheckQueuedAuto)
			cfg := w.h.Configs["linux"]
			ids, err := w.h.Launcher.Compute.Launch(context.Background(), runner.LaunchSpec{
				Config: cfg, Owner: runner.Owner{Name: "octo", Level: queue.LevelOrg}, CreatedBy: tags.CreatedByScaleUp,
				JobIDs: []int64{7}, Count: 1, Token: "died-before-registering",
				Deadline: deadlineOf(time.Now().Add(-tc.age), tc.left),
			})
			if err != nil || len(ids) != 1 {
				t.Fatalf("launch: %v %v", ids, err)
			}
			w.ec2.SetLaunchTime(ids[0], time.Now().Add(-tc.age))
			ev := sqsEvent(t, job(7, "linux", "octo"))
			ev.Records[0].Attributes["ApproximateReceiveCount"] = "2"
			if retried := w.handle(ev); len(retried) != 0 {
				t.Fatalf("retried %v", retried)
			}
			if n := len(w.live()); n != tc.wantLive {
				t.Fatalf("%d live hosts, want %d", n, tc.wantLive)
			}
			if n := w.ec2.Calls()["CreateFleet"]; n != tc.wantFleet {
				t.Fatalf("%d fleets, want %d", n, tc.wantFleet)
			}
		})
	}
}

func deadlineOf(launched time.Time, left time.Duration) time.Time {
	if left == 0 {
		return time.Time{}
	}
	return launched.Add(left)
}

// The launch deadline rides on the CreateFleet call: no call is added for it.
func TestLaunchRecordsItsDeadline(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dl, _ := ctx.Deadline()
	if _, err := w.h.Handle(ctx, sqsEvent(t, job(1, "linux", "octo"))); err != nil {
		t.Fatal(err)
	}
	live := w.live()
	if len(live) != 1 {
		t.Fatalf("%d live hosts", len(live))
	}
	got, err := time.Parse(time.RFC3339, live[0].Tags[tags.LaunchDeadline])
	if err != nil || got.Before(dl) || got.Sub(dl) >= time.Second {
		t.Fatalf("launch deadline tag %q (%v), want the invocation's deadline %s rounded up", live[0].Tags[tags.LaunchDeadline], err, dl)
	}
	if c := w.ec2.Calls(); c["CreateTags"] != 1 || c["CreateFleet"] != 1 {
		t.Fatalf("calls %v: want one CreateFleet and only the registration's CreateTags", c)
	}
}

func TestOverCapJobsAreRequeuedWithADelay(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	if retried := w.handle(sqsEvent(t, recent(1, "capped"), recent(2, "capped"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	again := recent(4, "capped")
	again.Requeues = 2
	if retried := w.handle(sqsEvent(t, recent(3, "capped"), again)); len(retried) != 0 {
		t.Fatalf("retried %v: requeued messages are acknowledged", retried)
	}
	if len(q.sent) != 2 {
		t.Fatalf("sent %+v, want jobs 3 and 4 requeued", q.sent)
	}
	for _, s := range q.sent {
		want := map[int64]struct {
			requeues int
			delay    time.Duration
		}{3: {1, 5 * time.Second}, 4: {3, 20 * time.Second}}[s.job.JobID]
		if s.url != "q2" || s.job.Requeues != want.requeues || s.delay != want.delay {
			t.Errorf("job %d sent to %s with requeues %d after %s; want q2, %d, %s", s.job.JobID, s.url, s.job.Requeues, s.delay, want.requeues, want.delay)
		}
	}
	if n := w.metric("JobsDeferred", map[string]string{"reason": "requeued", "config": "capped"}); n != 2 {
		t.Fatalf("%v jobs deferred as requeued, want 2", n)
	}

	q.fail = true
	ev := sqsEvent(t, recent(5, "capped"))
	if retried := w.handle(ev); !sameSet(retried, msgIDs(ev, 0)) {
		t.Fatalf("requeue failed: retried %v, want the message back", retried)
	}
}

func TestJobPastGitHubsQueueLimitIsDropped(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	w.handle(sqsEvent(t, recent(1, "capped"), recent(2, "capped")))
	old := recent(3, "capped")
	old.QueuedAt = time.Now().Add(-25 * time.Hour)
	if retried := w.handle(sqsEvent(t, old)); len(retried) != 0 || len(q.sent) != 0 {
		t.Fatalf("retried %v, sent %v: a job GitHub has cancelled must be dropped", retried, q.sent)
	}
	if !strings.Contains(w.log.String(), `"level":"ERROR","msg":"job dropped: queued longer than GitHub keeps a job"`) {
		t.Fatal("the dropped job is not logged at error level")
	}
}

func TestJobsDeferredByARateLimitAreRequeued(t *testing.T) {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	q := &fakeQueue{}
	w.h.Requeue = q
	w.gh.LimitJIT(100)
	ev := sqsEvent(t, recent(1, "linux"))
	if retried := w.handle(ev); len(retried) != 0 || len(q.sent) != 1 {
		t.Fatalf("registration rate-limited: retried %v sent %v, want it requeued (no receive spent)", retried, q.sent)
	}
	fleets := w.ec2.Calls()["CreateFleet"]
	if retried := w.handle(ev); len(retried) != 0 || len(q.sent) != 2 || w.ec2.Calls()["CreateFleet"] != fleets {
		t.Fatalf("paused: retried %v sent %v, want it requeued without a launch", retried, q.sent)
	}
}

func TestRequeueDelay(t *testing.T) {
	for n, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 4: 40 * time.Second, 5: time.Minute, 50: time.Minute} {
		if got := scaleup.RequeueDelay(n); got != want {
			t.Errorf("RequeueDelay(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestRequeuedJobRoundTrips(t *testing.T) {
	j := recent(9, "linux")
	j.Requeues = 4
	b, _ := json.Marshal(&j)
	got, err := queue.DecodeJob(b)
	if err != nil || got.Requeues != 4 {
		t.Fatalf("decoded %+v, %v", got, err)
	}
}
