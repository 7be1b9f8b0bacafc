package sandbox

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Sandbox burst (issue 8): every job queued at once, with a maximum that is never reached,
// so what is measured is launching and registering, not the cap.
const (
	benchBurstJobs = 500
	// benchMaxRunners equals the burst: the cap must not be what is measured.
	benchMaxRunners = benchBurstJobs
	// benchBootDelay and benchJobDuration are short so the run is about launching.
	benchBootDelay   = 500 * time.Millisecond
	benchJobDuration = time.Second
	// benchBurstTimeout: GitHub pacing alone needs ~3.5 minutes for 500 JIT configs; twice
	// that leaves room for a slow emulator without hiding a stuck run for long.
	benchBurstTimeout = 8 * time.Minute
	// describeChunk bounds the instance ids per DescribeInstances call (EC2 allows 1000).
	describeChunk = 200
	// launchTimeResolution: moto reports LaunchTime in whole seconds, truncated.
	launchTimeResolution = time.Second
)

// launchPathEndpoints mark the GitHub calls made to launch runners (githubapp.Endpoint
// names): JIT configs, registration tokens, runner groups, the queued-job check, and
// installation tokens (minted by every function; counted here, which only overstates).
// The rest are scheduled passes (scale-down, redelivery, syncer) that the sandbox runs 60
// times faster than production, so their share per job is an artefact of the speed-up.
var launchPathEndpoints = []string{"generate-jitconfig", "registration-token", "runner-groups", "/actions/jobs/", "/access_tokens"}

// burstFigures are one burst's results; larger is worse for each.
type burstFigures struct {
	requested     float64        // s from the first job queued to the last launch that served a job
	allOnline     float64        // s from the first job queued to the last serving runner online
	githubPerJob  float64        // every GitHub request during the burst, any function
	launchPerJob  float64        // launchPathEndpoints only
	jitPoints     map[string]int // secondary-limit points of the JIT configs, by endpoint (bench_apps_test.go)
	awsPerJob     float64
	secondaryHits float64
	unserved      float64 // jobs that never ran
	overhead      Percentiles
	instances     float64
}

func (f burstFigures) worst(g burstFigures) burstFigures {
	return burstFigures{
		requested: max(f.requested, g.requested), allOnline: max(f.allOnline, g.allOnline),
		githubPerJob: max(f.githubPerJob, g.githubPerJob), launchPerJob: max(f.launchPerJob, g.launchPerJob), awsPerJob: max(f.awsPerJob, g.awsPerJob),
		secondaryHits: max(f.secondaryHits, g.secondaryHits), unserved: max(f.unserved, g.unserved),
		overhead: Percentiles{P50: max(f.overhead.P50, g.overhead.P50), P95: max(f.overhead.P95, g.overhead.P95),
			P99: max(f.overhead.P99, g.overhead.P99), Max: max(f.overhead.Max, g.overhead.Max)},
		instances: max(f.instances, g.instances), jitPoints: g.jitPoints,
	}
}

// BenchmarkSandboxBurst deploys examples/local into moto_server, queues benchBurstJobs jobs
// at once and reports how fast the whole system serves them. Building the functions and
// applying Terraform are set-up, outside the timed loop. One iteration takes minutes, so the
// default -benchtime runs it once; with -benchtime Nx each iteration is another burst on the
// same deployment and the worst figure of each kind is reported. It needs moto_server and
// terraform (`make tools`) and fails without them: `make bench` runs on a prepared machine.
//
// "requested-s" is EC2's own record: the LaunchTime, read back with DescribeInstances, of
// the instance whose runner ran each job (after a re-run, the attempt that settled it),
// minus the earliest queued time the simulator recorded. moto stamps LaunchTime when it
// creates the instance, i.e. when CreateFleet is answered, and reports whole seconds; the
// figure rounds each up, so it is an upper bound within a second.
func BenchmarkSandboxBurst(b *testing.B) {
	ctx := context.Background()
	var worst burstFigures
	sb := deploy(b, benchBootDelay, 0, map[string]any{"small_max_runners": benchMaxRunners},
		func() bool { return b.Failed() || worst.unserved > 0 || worst.secondaryHits > 0 }, "burst")

	for b.Loop() {
		f, err := burst(ctx, b, sb)
		if err != nil {
			b.Fatal(err)
		}
		worst = worst.worst(f)
	}
	shortfall, err := ceilingShortfall(sb, worst)
	if err != nil {
		b.Log(err)
	}
	worst.report(b, shortfall, err == nil)
}

// report reports the burst's figures; shortfall (ceiling-shortfall-%) only when known.
func (f burstFigures) report(b *testing.B, shortfall float64, known bool) {
	b.ReportMetric(f.githubPerJob, "github_calls/job")
	b.ReportMetric(f.launchPerJob, "launch-github_calls/job")
	b.ReportMetric(f.awsPerJob, "aws_calls/job")
	b.ReportMetric(f.secondaryHits, "secondary-limited")
	b.ReportMetric(f.unserved, "unserved-jobs")
	b.ReportMetric(f.instances, "instances")
	if f.unserved > 0 {
		// "Until every instance is requested" and the percentiles of served jobs alone would
		// flatter a burst that did not finish: left absent, so their targets count as missed.
		b.Logf("%.0f jobs never ran within %s: timing figures not reported", f.unserved, benchBurstTimeout)
		return
	}
	b.ReportMetric(f.requested, "requested-s")
	b.ReportMetric(f.allOnline, "all-online-s")
	if known {
		b.ReportMetric(shortfall, "ceiling-shortfall-%")
	}
	b.ReportMetric(f.overhead.P50, "overhead-p50-s")
	b.ReportMetric(f.overhead.P95, "overhead-p95-s")
	b.ReportMetric(f.overhead.P99, "overhead-p99-s")
}

// burst queues the jobs, waits for them and clean-up, and measures.
func burst(ctx context.Context, b *testing.B, sb *Sandbox) (burstFigures, error) {
	known := map[int64]bool{}
	for _, j := range sb.Sim.Jobs() {
		known[j.ID] = true
	}
	limitedBefore := sb.Sim.Stats().SecondaryLimited
	sc := Scenario{Timeout: benchBurstTimeout}
	for i := range benchBurstJobs {
		sc.Jobs = append(sc.Jobs, JobPlan{Repo: simRepos[i%len(simRepos)], Labels: SmallLabels, Duration: benchJobDuration})
	}
	rep, err := sb.Run(ctx, sc, nil)
	if err != nil {
		return burstFigures{}, err
	}
	b.Logf("\n%s", rep.Markdown())

	f := burstFigures{githubPerJob: rep.GitHubCallsPerJob, awsPerJob: rep.AWSCallsPerJob, unserved: float64(len(rep.NeverRan)),
		overhead: rep.Overhead, instances: float64(rep.Instances)}
	for _, n := range diff(sb.Sim.Stats().SecondaryLimited, limitedBefore) {
		f.secondaryHits += float64(n)
	}
	launchCalls := map[string]int{}
	for ep, n := range rep.GitHubCalls {
		if slices.ContainsFunc(launchPathEndpoints, func(s string) bool { return strings.Contains(ep, s) }) {
			launchCalls[ep] = n
		}
	}
	f.launchPerJob = perJob(launchCalls, rep.Jobs)
	f.jitPoints = jitPoints(rep.GitHubCalls)

	// The burst's jobs are the new first attempts; a re-run is served by its final attempt.
	var first time.Time
	var served []ghsim.Job
	for _, j := range sb.Sim.Jobs() {
		if known[j.ID] || j.Attempt != 1 {
			continue
		}
		if first.IsZero() || j.QueuedAt.Before(first) {
			first = j.QueuedAt
		}
		if fin := sb.final(j.ID); fin.RunnerName != "" {
			served = append(served, fin)
		}
	}
	if first.IsZero() {
		return burstFigures{}, fmt.Errorf("no burst job found in the simulator")
	}
	namePrefix := sb.Opts.Prefix + "-"
	if fn, ok := sb.Deployment.Functions[sb.Opts.Prefix+"-scale-up"]; ok && fn.Env["RUNNER_NAME_PREFIX"] != "" {
		namePrefix = fn.Env["RUNNER_NAME_PREFIX"]
	}
	var ids []string
	for _, j := range served {
		id, ok := tags.InstanceIDFromRunnerName(namePrefix, j.RunnerName)
		if !ok {
			return burstFigures{}, fmt.Errorf("job %d ran on %q, not a runner of this deployment", j.ID, j.RunnerName)
		}
		ids = append(ids, id)
		if at, ok := sb.Hosts.OnlineAt(j.RunnerName); ok {
			f.allOnline = max(f.allOnline, at.Sub(first).Seconds())
		}
	}
	launched, err := launchTimes(ctx, sb, ids)
	if err != nil {
		return burstFigures{}, err
	}
	for _, id := range ids {
		at, ok := launched[id]
		if !ok {
			return burstFigures{}, fmt.Errorf("instance %s served a job but EC2 does not know it", id)
		}
		// Rounded up to the next whole second: an upper bound, never a flattering figure.
		f.requested = max(f.requested, at.Truncate(launchTimeResolution).Add(launchTimeResolution).Sub(first).Seconds())
	}
	b.Logf("burst: %d jobs, %d served; last instance requested %.1f s and last runner online %.1f s after the first job was queued; %.0f secondary-limit answers",
		len(sc.Jobs), len(served), f.requested, f.allOnline, f.secondaryHits)
	return f, nil
}

// launchTimes returns EC2's LaunchTime of each instance, terminated ones included.
func launchTimes(ctx context.Context, sb *Sandbox, ids []string) (map[string]time.Time, error) {
	ec := ec2.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	out := map[string]time.Time{}
	for chunk := range slices.Chunk(ids, describeChunk) {
		p := ec2.NewDescribeInstancesPaginator(ec, &ec2.DescribeInstancesInput{InstanceIds: chunk})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, fmt.Errorf("describe instances: %w", err)
			}
			for _, r := range page.Reservations {
				for _, in := range r.Instances {
					out[aws.ToString(in.InstanceId)] = aws.ToTime(in.LaunchTime)
				}
			}
		}
	}
	return out, nil
}
