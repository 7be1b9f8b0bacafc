package sandbox

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Reconciliation scenario limits.
const (
	// registeredWait: scale-up launches and registers within seconds of the webhook.
	registeredWait = time.Minute
	// reconciledWait covers examples/local's 30 s first re-check, the relaunch and a second
	// real boot on a busy machine.
	reconciledWait = 4 * time.Minute
)

// hostDiesAtBoot: scale-up registered a runner for the job, then its instance died before
// the runner came online (a spot reclaim at boot, a failed bootstrap). Nothing else will
// serve the job; the launch's re-check must find the host dead and the job still queued, and
// launch it again through scale-up, on a new instance, where it succeeds.
func hostDiesAtBoot(t *testing.T, sb *Sandbox) {
	ctx := context.Background()
	mark := markEMF(t, sb)
	deniedBefore := sb.Proxy.DeniedExcept(sb.runnerRole())
	ec := ec2.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	job, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: simRepos[0], Labels: SmallLabels, Duration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The job's first instance, once its registration is stored (ghr:registered): killed
	// before its runner connects (a real boot takes 15 s or more; the poll is 100 ms).
	var first string
	deadline := time.Now().Add(registeredWait)
	for first == "" && time.Now().Before(deadline) {
		for _, in := range jobInstances(ctx, t, ec, sb.Opts.Prefix, job.ID) {
			if alive(in.State.Name) && tagOf(in, tags.Registered) != "" {
				first = aws.ToString(in.InstanceId)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if first == "" {
		t.Fatalf("no registered instance for job %d within %s", job.ID, registeredWait)
	}
	if _, err := ec.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{first}}); err != nil {
		t.Fatal(err)
	}
	if j, _ := sb.Sim.Job(job.ID); j.Status != ghsim.StatusQueued {
		t.Fatalf("job %d is %s when its host was killed: the runner took it first", job.ID, j.Status)
	}
	deadline = time.Now().Add(reconciledWait)
	for !succeeded(sb.final(job.ID)) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	j := sb.final(job.ID)
	if !succeeded(j) {
		t.Fatalf("job %d not served within %s after its host died at boot: %s %s", job.ID, reconciledWait, j.Status, j.Conclusion)
	}
	if id, _ := tags.InstanceIDFromRunnerName(sb.runnerNamePrefix(), j.RunnerName); id == "" || id == first {
		t.Fatalf("job %d ran on %q, want a new instance of ours (the dead one was %s)", job.ID, j.RunnerName, first)
	}
	pts := mark.since()
	if n := metrics.Sum(pts, "JobsRelaunched", map[string]string{"config": "small"}); n != 1 {
		t.Errorf("JobsRelaunched{small} = %v, want 1", n)
	}
	if n := metrics.Sum(pts, "JobsAbandoned", nil); n != 0 {
		t.Errorf("JobsAbandoned = %v, want 0", n)
	}
	if denied := diff(sb.Proxy.DeniedExcept(sb.runnerRole()), deniedBefore); len(denied) > 0 {
		t.Errorf("IAM refused the module's own functions: %v", denied)
	}
	// The dead host never read its token; scale-down's grace for stale tokens is 15 minutes.
	staleTokenRemoved(t, sb, first, time.Time{})
	if left := sb.awaitQuiescence(ctx, nil); !left.Zero() {
		t.Fatalf("leftovers: %+v", left)
	}
}

// jobInstances lists the deployment's instances launched for jobID, in any state.
func jobInstances(ctx context.Context, t *testing.T, ec *ec2.Client, prefix string, jobID int64) []ec2types.Instance {
	t.Helper()
	// Every page: moto, like EC2, pages reservations (100 by default), and the scenarios before
	// this one leave hundreds of terminated instances listed (the first page missed the job's).
	p := ec2.NewDescribeInstancesPaginator(ec, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + tags.Environment), Values: []string{prefix}},
	}})
	var ins []ec2types.Instance
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if slices.Contains(ec2fleet.ParseJobIDs(tagOf(in, tags.JobID)), jobID) {
					ins = append(ins, in)
				}
			}
		}
	}
	return ins
}

func tagOf(in ec2types.Instance, key string) string { return tagValue(in.Tags, key) }
