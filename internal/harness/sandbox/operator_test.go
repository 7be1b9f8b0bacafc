package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/ops"
	"github.com/ghr-dev/ghr/internal/queue"
)

// Operator scenario limits.
const (
	// drainTakesEffect: scale-up reads the drain switch at most every 30 s per container
	// (internal/drain's cache); a job queued sooner may still launch.
	drainTakesEffect = 31 * time.Second
	operatorTimeout  = 10 * time.Minute
	// operatorPasses: scale-down passes that must keep a protected idle runner past its
	// minimum running time before the scenario believes protection.
	operatorPasses = 2
)

// ghrCLI is the ghr command built from cmd/ghr, run as an operator runs it against the
// sandbox after `ghr local up`: AWS through the standard chain aimed at the emulator.
type ghrCLI struct {
	bin string
	env []string
}

// newGHR builds cmd/ghr into tb's temporary folder (tb: the test the sandbox lives as long as).
func newGHR(tb testing.TB, sb *Sandbox) *ghrCLI {
	tb.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		tb.Fatal(err)
	}
	bin := filepath.Join(tb.TempDir(), "ghr")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ghr")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./cmd/ghr: %v\n%s", err, out)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "GHR_") {
			env = append(env, kv)
		}
	}
	for k, v := range motoproc.Env(sb.Moto) {
		env = append(env, k+"="+v)
	}
	return &ghrCLI{bin: bin, env: append(env, "GHR_PREFIX="+sb.Opts.Prefix, "NO_COLOR=1")}
}

// output runs ghr with args and returns what it printed; safe from any goroutine.
func (g *ghrCLI) output(args ...string) (string, error) {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("ghr %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// run runs ghr with args and fails the test unless it succeeds and prints every want.
func (g *ghrCLI) run(t *testing.T, args []string, want ...string) string {
	t.Helper()
	out, err := g.output(args...)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("ghr %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

func (g *ghrCLI) status(t *testing.T) ops.Status {
	t.Helper()
	var st ops.Status
	if err := json.Unmarshal([]byte(g.run(t, []string{"status", "-json"})), &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func depth(st ops.Status, name string) int {
	for _, q := range st.Queues {
		if q.Name == name {
			return q.Visible + q.InFlight + q.Delayed
		}
	}
	return -1
}

// operatorCommands drives every operator command against the deployment and checks each
// one's effect there: a drain defers the config's jobs until undrained; a protected idle
// runner outlives scale-down passes that would remove it, and goes once unprotected; redrive
// moves a dead letter GitHub still queues back to its build queue, drops one it no longer
// queues and keeps one it cannot read. status and runners show each step.
func operatorCommands(t *testing.T, sb *Sandbox, ghr *ghrCLI) {
	ctx, cancel := context.WithTimeout(context.Background(), operatorTimeout)
	defer cancel()
	p := sb.Opts.Prefix
	start := time.Now()
	scaleDown := sb.Wiring.Hosts[p+"-scale-down"]

	ghr.run(t, []string{"status"}, p+"-build-small ", "build dlq", "persistent", "budget per container (points/min): ", "scale-up ", "last scale-down pass: ")
	if st := ghr.status(t); st.LastScaleDown == nil || st.LastScaleDown.At.Before(start.Add(-time.Minute)) || len(st.GitHub.Budgets) == 0 || len(st.Unread) != 0 {
		t.Fatalf("status of a deployment up for minutes: last pass %+v, budgets %+v, unread %v", st.LastScaleDown, st.GitHub.Budgets, st.Unread)
	}

	// Drain small; a persistent job runs meanwhile (another config launches as usual).
	ghr.run(t, []string{"drain", "small"}, "drained now: small")
	drainedAt := time.Now()
	persistent, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: simRepos[0], Labels: persistentLabels, Duration: persistentShortJob})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the persistent job", func() bool { return completed(sb, persistent.ID) })
	launched := persistentInstances(ctx, t, sb, start)
	kept := instanceOf(sb.final(persistent.ID).RunnerName, launched)
	if kept == "" {
		t.Fatalf("persistent job ran on %q, not on an instance of the scenario %v", sb.final(persistent.ID).RunnerName, launched)
	}
	ghr.run(t, []string{"protect", kept}, kept+" protected")
	if out := ghr.run(t, []string{"runners"}, kept); !strings.Contains(lineOf(out, kept), "protected") {
		t.Errorf("runners does not show %s protected:\n%s", kept, out)
	}

	time.Sleep(time.Until(drainedAt.Add(drainTakesEffect)))
	mark := markEMF(t, sb)
	job, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: simRepos[0], Labels: SmallLabels, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "scale-up to defer the drained config's job", func() bool {
		return metrics.Sum(mark.since(), "JobsDeferred", map[string]string{"config": "small", "reason": "drained"}) > 0
	})
	var st ops.Status
	waitFor(ctx, t, "status to show the waiting job", func() bool {
		st = ghr.status(t)
		return st.Waiting > 0 && st.OldestWaiting != nil
	})
	if o := st.OldestWaiting; o.Config != "small" || o.Age <= 0 || o.Age > time.Since(start) || st.Drain != "small" {
		t.Errorf("status while drained: oldest %+v, drain %q", o, st.Drain)
	}
	t.Logf("ghr status while small is drained and %s protected:\n%s", kept, ghr.run(t, []string{"status"}, "drained: small", "oldest "))
	if j := sb.final(job.ID); j.Status != ghsim.StatusQueued {
		t.Fatalf("drained config's job is %s", j.Status)
	}
	if spot, onDemand := lifecycles(t, sb, "small", drainedAt.Add(drainTakesEffect)); spot+onDemand != 0 {
		t.Fatalf("%d small instances launched while small was drained", spot+onDemand)
	}

	// Redrive, still drained: a copy of the waiting job, a finished job and an unreadable
	// message sit in small's dead-letter queue.
	sq := sqs.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	dlq, err := sq.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(p + "-build-small-dlq")})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{deadLetter(t, sb, job), deadLetter(t, sb, persistent), "not a job"} {
		if _, err := sq.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: dlq.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	api := []string{"-github-api-url", sb.Sim.URL}
	before := ghr.status(t)
	ghr.run(t, append([]string{"redrive", "-dry-run"}, api...), "would be moved", "would be dropped", "would be kept", "3 dead letters looked at")
	if after := ghr.status(t); depth(after, p+"-build-small-dlq") != 3 || after.DeadLetters != before.DeadLetters {
		t.Fatalf("a dry run changed the dead-letter queue: %d messages", depth(after, p+"-build-small-dlq"))
	}
	var moved []ops.Redriven
	if err := json.Unmarshal([]byte(ghr.run(t, append([]string{"redrive", "-json"}, api...))), &moved); err != nil {
		t.Fatal(err)
	}
	actions := map[string]int64{}
	for _, r := range moved {
		actions[r.Action] = r.JobID
	}
	if len(moved) != 3 || actions["moved"] != job.ID || actions["dropped"] != persistent.ID || actions["kept"] != 0 {
		t.Fatalf("redrive: %+v; want job %d moved, finished job %d dropped, the unreadable message kept", moved, job.ID, persistent.ID)
	}
	st = ghr.status(t)
	if n := depth(st, p+"-build-small-dlq"); n != 1 {
		t.Fatalf("dead-letter queue holds %d messages after redrive, want the unreadable one", n)
	}
	if n := depth(st, p+"-build-small"); n < 2 {
		t.Fatalf("small's build queue holds %d messages, want the waiting job and its redriven copy", n)
	}
	purgeUnreadable(ctx, t, sq, aws.ToString(dlq.QueueUrl))

	// Undrain: the job runs (its redriven copy finds it served).
	ghr.run(t, []string{"undrain", "small"}, "drained now: none")
	waitFor(ctx, t, "the undrained job", func() bool { return completed(sb, job.ID) })

	// The protected runner is idle and past its minimum running time: passes keep it.
	launch, err := launchTimes(ctx, sb, []string{kept})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(launch[kept].Add(persistentMinRunning)))
	from := scaleDown.Stats().Invocations
	waitFor(ctx, t, "scale-down passes over the protected runner", func() bool {
		states := persistentInstances(ctx, t, sb, start)
		if !alive(states[kept]) || !registrations(sb, states)[kept] {
			t.Fatalf("protected idle runner %s: %s, registered %t", kept, states[kept], registrations(sb, states)[kept])
		}
		return scaleDown.Stats().Invocations >= from+operatorPasses+1 // a pass running at `from` may predate eligibility
	})
	if st := ghr.status(t); st.LastScaleDown == nil || st.LastScaleDown.At.Before(launch[kept].Add(persistentMinRunning)) {
		t.Fatalf("last scale-down pass %+v predates the protected runner's eligibility", st.LastScaleDown)
	}
	mark = markEMF(t, sb)
	ghr.run(t, []string{"unprotect", kept}, kept+" unprotected")
	waitFor(ctx, t, "scale-down to remove the unprotected idle runner", func() bool {
		return !alive(persistentInstances(ctx, t, sb, start)[kept])
	})
	// The pass writes its metrics when it ends, after the termination the wait above saw.
	waitFor(ctx, t, "the pass's InstancesTerminated{idle}", func() bool {
		return metrics.Sum(mark.since(), "InstancesTerminated", map[string]string{"reason": "idle"}) >= 1
	})
	if left := sb.awaitQuiescence(ctx, nil); !left.Zero() {
		t.Fatalf("leftovers after the operator commands: %+v", left)
	}
	if st := ghr.status(t); st.Waiting != 0 || st.OldestWaiting != nil || st.DeadLetters != 0 || st.Drain != "" {
		t.Fatalf("status at the end: %d waiting (oldest %+v), %d dead letters, drain %q", st.Waiting, st.OldestWaiting, st.DeadLetters, st.Drain)
	}
}

// deadLetter is j's build-queue message as the webhook wrote it, for small's queue.
func deadLetter(t *testing.T, sb *Sandbox, j ghsim.Job) string {
	t.Helper()
	owner, _, _ := strings.Cut(j.Repo, "/")
	b, err := json.Marshal(queue.Job{V: queue.Version, JobID: j.ID, RunID: j.RunID, Repo: j.Repo, Owner: owner, OwnerType: "Organization",
		Level: queue.LevelOrg, InstallationID: sb.Installations[owner], Labels: SmallLabels, DeliveryID: "redrive-test",
		QueuedAt: j.QueuedAt, RunnerConfig: "small"})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// purgeUnreadable deletes what redrive kept, so later scenarios start with empty DLQs.
func purgeUnreadable(ctx context.Context, t *testing.T, sq *sqs.Client, url string) {
	t.Helper()
	for range 5 {
		out, err := sq.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			if _, err := sq.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	t.Fatal("the unreadable dead letter was not found")
}

func lineOf(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

// runWatched runs a scenario like run and shows `ghr status` once while its jobs are under
// way (some started, some still waiting for a runner), as an operator would see it.
func runWatched(t *testing.T, sb *Sandbox, sc Scenario, ghr *ghrCLI) *Report {
	t.Helper()
	queuedBefore, runningBefore, doneBefore := sb.Sim.JobCounts()
	type shown struct {
		out string
		err error
	}
	watched := make(chan shown, 1)
	stop := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
			queued, running, done := sb.Sim.JobCounts()
			if running > runningBefore && queued > queuedBefore && done < doneBefore+len(sc.Jobs) {
				out, err := ghr.output("status")
				watched <- shown{out, err}
				return
			}
		}
	}()
	rep := func() *Report { defer close(stop); return run(t, sb, sc) }()
	snapshot, ok := <-watched
	if !ok {
		t.Fatal("no moment of the scenario had jobs both running and waiting: ghr status not shown")
	}
	if snapshot.err != nil {
		t.Fatal(snapshot.err)
	}
	for _, w := range []string{"jobs waiting", "last scale-down pass: ", "github: "} {
		if !strings.Contains(snapshot.out, w) {
			t.Errorf("ghr status lacks %q:\n%s", w, snapshot.out)
		}
	}
	t.Logf("ghr status during the scenario:\n%s", snapshot.out)
	return rep
}
