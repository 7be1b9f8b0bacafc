package scaleup_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/cleanup"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/reconcile"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// bus is SQS for the whole flow: every send, by queue URL, in order.
type bus struct {
	mu   sync.Mutex
	msgs map[string][]busMsg
}

type busMsg struct {
	body  string
	delay time.Duration
}

func (b *bus) SendDelayed(_ context.Context, url string, body []byte, delay time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.msgs == nil {
		b.msgs = map[string][]busMsg{}
	}
	b.msgs[url] = append(b.msgs[url], busMsg{string(body), delay})
	return nil
}

// take removes and returns the messages sent to url.
func (b *bus) take(url string) []busMsg {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.msgs[url]
	delete(b.msgs, url)
	return out
}

func (b *bus) event(t testing.TB, ms []busMsg) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	for i, m := range ms {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprintf("b%d", i), Body: m.body,
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	return ev
}

// countingJobs counts the re-check's GitHub job lookups.
type countingJobs struct {
	cleanup.JobStatuses
	mu    sync.Mutex
	calls int
}

func (c *countingJobs) JobStatus(ctx context.Context, j queue.Job) (reconcile.JobStatus, error) {
	c.mu.Lock()
	c.calls++
	c.mu.Unlock()
	return c.JobStatuses.JobStatus(ctx, j)
}

const lifecycleURL = "q-life"

// flow is scale-up and clean-up on one EC2, one GitHub and one SQS.
type flow struct {
	*world
	bus  *bus
	jobs *countingJobs
	c    *cleanup.Cleaner
}

func newFlow(t *testing.T) *flow {
	w := newWorld(t, 0, config.CheckQueuedAuto)
	b := &bus{}
	w.h.Requeue = b
	w.h.Recheck = &scaleup.Rechecker{Sender: b, QueueURL: lifecycleURL}
	cfgs, err := config.ParseRunnerConfigs([]byte(baseConfigs))
	if err != nil {
		t.Fatal(err)
	}
	jobs := &countingJobs{JobStatuses: cleanup.AppJobs{App: w.app}}
	c := &cleanup.Cleaner{
		Fleet:   cleanup.EC2{API: w.ec2, Prefix: "ghr", LaunchTemplates: []string{ec2fleettest.TemplateID}},
		GitHub:  &scaledown.GitHub{App: w.app},
		Configs: cfgs, RunnerNamePrefix: "ghr-", Log: discardLogger(),
		Rechecks: &cleanup.Rechecks{Jobs: jobs, Sender: b, QueueURL: lifecycleURL},
	}
	return &flow{world: w, bus: b, jobs: jobs, c: c}
}

// lifecycle hands clean-up a batch and fails the test on any retry.
func (f *flow) lifecycle(ev events.SQSEvent) {
	f.t.Helper()
	resp, err := f.c.HandleSQS(context.Background(), ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		f.t.Fatalf("clean-up: %v, retried %v", err, resp.BatchItemFailures)
	}
}

// started is GitHub's in_progress event: the runner on instance id took jobID.
func (f *flow) started(jobID int64, id string) {
	f.t.Helper()
	inst, _ := f.ec2.Instance(id)
	rid, _ := strconv.ParseInt(inst.Tags[tags.RunnerIDKey(id)], 10, 64)
	b, _ := json.Marshal(queue.Lifecycle{V: queue.Version, Action: queue.ActionInProgress, JobID: jobID, Repo: "octo/app", Owner: "octo",
		RunnerID: rid, RunnerName: tags.RunnerName("ghr-", id), DeliveryID: "d", At: time.Now()})
	f.lifecycle(events.SQSEvent{Records: []events.SQSMessage{{MessageId: "l", Body: string(b)}}})
}

// launch runs job id through scale-up and returns its one host and its re-check.
func (f *flow) launch(id int64) (string, []busMsg) {
	f.t.Helper()
	if retried := f.handle(sqsEvent(f.t, recent(id, "linux"))); len(retried) != 0 {
		f.t.Fatalf("retried %v", retried)
	}
	live := f.live()
	if len(live) != 1 {
		f.t.Fatalf("%d live hosts, want 1", len(live))
	}
	checks := f.bus.take(lifecycleURL)
	if len(checks) != 1 || checks[0].delay != reconcile.DefaultFirstCheck {
		f.t.Fatalf("re-checks scheduled: %+v; want one after %s", checks, reconcile.DefaultFirstCheck)
	}
	return live[0].ID, checks
}

// relaunched returns the jobs clean-up sent back to the linux build queue.
func (f *flow) relaunched() []queue.Job {
	var out []queue.Job
	for _, m := range f.bus.take("q1") {
		j, err := queue.DecodeJob([]byte(m.body))
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, j)
	}
	return out
}

// The job started on its runner: the check settles it from EC2 alone, with no GitHub call
// and no further message.
func TestRecheckNormalPathAsksNoGitHub(t *testing.T) {
	f := newFlow(t)
	id, checks := f.launch(7)
	f.started(7, id)
	f.lifecycle(f.bus.event(t, checks))
	if f.jobs.calls != 0 || len(f.relaunched()) != 0 || len(f.bus.take(lifecycleURL)) != 0 {
		t.Fatalf("normal path: %d GitHub calls, further messages %v", f.jobs.calls, f.bus.msgs)
	}
}

// Why (1): the registered runner's instance dies before taking its job. The re-check asks
// GitHub (still queued), sends the job again, and scale-up launches a new host for it.
func TestRecheckRelaunchesJobOfHostDeadAtBoot(t *testing.T) {
	f := newFlow(t)
	id, checks := f.launch(7)
	f.ec2.Kill(id, "Server.SpotInstanceTermination")
	f.lifecycle(f.bus.event(t, checks))
	again := f.relaunched()
	if len(again) != 1 || again[0].JobID != 7 || again[0].Relaunches != 1 || again[0].Requeues != 1 || f.jobs.calls != 1 {
		t.Fatalf("relaunched %+v after %d GitHub calls; want job 7 once, after one", again, f.jobs.calls)
	}
	body, _ := json.Marshal(again[0])
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "r", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
	if retried := f.handle(ev); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	if live := f.live(); len(live) != 1 || live[0].ID == id {
		t.Fatalf("live hosts %v: want one new host for job 7", live)
	}
	if next := f.bus.take(lifecycleURL); len(next) != 1 {
		t.Fatalf("the new launch scheduled %d re-checks, want 1", len(next))
	}
}

// Why (2): another job takes the runner. Still queued, the job is launched again, and
// scale-up does not count the busy runner as its; served by another runner, it is settled.
func TestRecheckAfterAnotherJobTookTheRunner(t *testing.T) {
	for _, tc := range []struct {
		status    string
		relaunch  bool
		wantHosts int
	}{{"queued", true, 2}, {"in_progress", false, 1}} {
		t.Run(tc.status, func(t *testing.T) {
			f := newFlow(t)
			id, checks := f.launch(7)
			f.started(99, id) // job 99, of another launch, took job 7's runner
			f.gh.SetJobStatus(7, tc.status)
			f.lifecycle(f.bus.event(t, checks))
			again := f.relaunched()
			if (len(again) == 1) != tc.relaunch || f.jobs.calls != 1 {
				t.Fatalf("relaunched %+v after %d GitHub calls", again, f.jobs.calls)
			}
			if !tc.relaunch {
				return
			}
			body, _ := json.Marshal(again[0])
			ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "r", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
			if retried := f.handle(ev); len(retried) != 0 {
				t.Fatalf("retried %v", retried)
			}
			if n := len(f.live()); n != tc.wantHosts {
				t.Fatalf("%d live hosts, want %d: the busy runner must not count as job 7's", n, tc.wantHosts)
			}
		})
	}
}

// A runner still booting: the check is repeated later, doubling, without a GitHub call.
func TestRecheckWaitsForABootingRunner(t *testing.T) {
	f := newFlow(t)
	_, checks := f.launch(7)
	f.lifecycle(f.bus.event(t, checks))
	next := f.bus.take(lifecycleURL)
	if len(next) != 1 || next[0].delay != reconcile.Delay(2, 0) || f.jobs.calls != 0 {
		t.Fatalf("next checks %+v after %d GitHub calls", next, f.jobs.calls)
	}
	r, err := queue.DecodeRecheck([]byte(next[0].body))
	if err != nil || r.Check != 2 || len(r.Jobs) != 1 || r.Jobs[0].JobID != 7 {
		t.Fatalf("next check %+v, %v", r, err)
	}
}

// Runners of one config and owner are interchangeable across launches: when job 8's host
// took job 7 while job 7's host is still booting, job 7's check counts on that host (it will
// take job 8... or 7) instead of launching again, and asks GitHub nothing. Once the hosts
// have swapped jobs and finished, both checks settle from EC2 alone.
func TestRecheckAcrossLaunchesSwappedHosts(t *testing.T) {
	f := newFlow(t)
	a, checks7 := f.launch(7)
	if retried := f.handle(sqsEvent(f.t, recent(8, "linux"))); len(retried) != 0 {
		t.Fatalf("retried %v", retried)
	}
	var b string
	for _, h := range f.live() {
		if h.ID != a {
			b = h.ID
		}
	}
	checks8 := f.bus.take(lifecycleURL)
	if b == "" || len(checks8) != 1 {
		t.Fatalf("second launch: host %q, re-checks %+v", b, checks8)
	}
	f.started(8, a) // job 7's host took job 8; job 8's host is still booting
	f.gh.SetJobStatus(7, "queued")
	f.lifecycle(f.bus.event(t, checks7))
	if again := f.relaunched(); len(again) != 0 || f.jobs.calls != 0 {
		t.Fatalf("relaunched %+v after %d GitHub calls; want none: job 8's host may take job 7", again, f.jobs.calls)
	}
	next7 := f.bus.take(lifecycleURL)
	if len(next7) != 1 {
		t.Fatalf("job 7's next checks: %+v", next7)
	}
	f.started(7, b)
	f.ec2.Kill(a, "Client.InstanceInitiatedShutdown") // ephemeral runners end with their job
	f.ec2.Kill(b, "Client.InstanceInitiatedShutdown")
	f.lifecycle(f.bus.event(t, append(next7, checks8...)))
	if again := f.relaunched(); len(again) != 0 || f.jobs.calls != 0 || len(f.bus.take(lifecycleURL)) != 0 {
		t.Fatalf("relaunched %+v after %d GitHub calls; want both jobs settled from EC2", again, f.jobs.calls)
	}
}

// lostBus is SQS with the lifecycle queue unreachable.
type lostBus struct{ bus }

func (b *lostBus) SendDelayed(ctx context.Context, url string, body []byte, delay time.Duration) error {
	if url == lifecycleURL {
		return errors.New("sqs: service unavailable")
	}
	return b.bus.SendDelayed(ctx, url, body, delay)
}

// A re-check that cannot be sent leaves the launch standing (failing the message would launch
// it again) and is counted, so the jobs-given-up alarm sees a job nothing will re-check.
func TestRecheckNotScheduledIsCounted(t *testing.T) {
	f := newFlow(t)
	f.h.Recheck = &scaleup.Rechecker{Sender: &lostBus{}, QueueURL: lifecycleURL}
	if retried := f.handle(sqsEvent(t, recent(7, "linux"), recent(8, "linux"))); len(retried) != 0 {
		t.Fatalf("retried %v: a lost re-check must not relaunch", retried)
	}
	if live := f.live(); len(live) != 2 {
		t.Fatalf("%d live hosts, want 2", len(live))
	}
	if n := f.metric("RechecksUnscheduled", map[string]string{"config": "linux"}); n != 2 {
		t.Fatalf("RechecksUnscheduled = %v, want 2", n)
	}
}
