package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Scenario timing.
const (
	progressEvery = 500 * time.Millisecond
	// quiesceTimeout: clean-up is immediate; a spare runner waits for scale-down's minimum
	// running time (1 minute in examples/local) and a pass (every 5 s at 60x); a host whose
	// launching invocation died before registering it is an orphan, removed after
	// boot_minutes (3 in examples/local) and a second pass a minute later (CI's soak had one
	// left at 150 s). Only a run that leaks waits this long.
	quiesceTimeout = 5 * time.Minute
)

// JobPlan is one workflow job to queue.
type JobPlan struct {
	Repo     string
	Labels   []string
	Duration time.Duration
}

// Scenario is what a demo or test run queues.
type Scenario struct {
	Jobs    []JobPlan
	Timeout time.Duration // for every job to complete
}

// Labels of examples/local's two runner configs.
var (
	SmallLabels = []string{"self-hosted", "linux", "x64"}
	LargeLabels = []string{"self-hosted", "linux", "arm64", "large"}
)

// DemoScenario is n jobs with mixed labels across the two runner configs and all repos:
// every fourth needs the large config, whose maximum (5) the default 20 jobs stay within.
func DemoScenario(n int) Scenario {
	sc := Scenario{Timeout: 3 * time.Minute}
	for i := range n {
		labels := SmallLabels
		if i%4 == 3 {
			labels = LargeLabels
		}
		sc.Jobs = append(sc.Jobs, JobPlan{Repo: simRepos[i%len(simRepos)], Labels: labels, Duration: time.Duration(1+i%3) * time.Second})
	}
	return sc
}

// Percentiles summarise durations in seconds.
type Percentiles struct {
	P50 float64 `json:"p50_s"`
	P95 float64 `json:"p95_s"`
	P99 float64 `json:"p99_s"`
	Max float64 `json:"max_s"`
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) float64 {
		i := int(math.Ceil(q*float64(len(s)))) - 1
		return s[max(i, 0)].Seconds()
	}
	return Percentiles{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: s[len(s)-1].Seconds()}
}

// Leftovers are what must be gone once every job is done.
type Leftovers struct {
	Instances int `json:"instances"`
	Runners   int `json:"runners"`
	Tokens    int `json:"ssm_tokens"`
}

// Zero reports whether nothing leaked.
func (l Leftovers) Zero() bool { return l == Leftovers{} }

// Report is the outcome of a scenario.
type Report struct {
	Jobs              int            `json:"jobs"`
	Completed         int            `json:"completed"`
	NeverRan          []int64        `json:"never_ran,omitempty"`
	Retried           int            `json:"retried"`
	QueueToOnline     Percentiles    `json:"queue_to_runner_online"`
	QueueToStart      Percentiles    `json:"queue_to_start"`
	Overhead          Percentiles    `json:"autoscaler_overhead"`
	BootDelaySeconds  float64        `json:"simulated_boot_delay_s"`
	GitHubCalls       map[string]int `json:"github_calls"`
	GitHubCallsPerJob float64        `json:"github_calls_per_job"`
	AWSCalls          map[string]int `json:"aws_calls"`
	AWSCallsPerJob    float64        `json:"aws_calls_per_job"`
	// IAMDenied are the functions' calls IAM evaluation refused (awsproxy), by action: a
	// module policy narrower than ghr's calls shows up here; IAMUnevaluated are role calls
	// with no IAM mapping (docs/relaxations.md).
	IAMDenied      map[string]int `json:"iam_denied,omitempty"`
	IAMUnevaluated map[string]int `json:"iam_unevaluated,omitempty"`
	RateLimited    int            `json:"github_rate_limited"`
	Leftovers      Leftovers      `json:"leftovers"`
	Instances      int            `json:"instances_launched"`
	// Boots are the real boots of the hosts that ran the scenario's jobs (Options.RealBoots).
	Boots []JobBoot `json:"boots,omitempty"`
	// Hops split each job's way to its runner into legs, from the functions' own log lines
	// and the hosts' records (JobPaths); HopsError says why there are none.
	Hops        []HopStat `json:"hops,omitempty"`
	HopsError   string    `json:"hops_error,omitempty"`
	WallSeconds float64   `json:"wall_s"`
}

// OK is the demo's verdict: every job ran and nothing leaked.
func (r *Report) OK() bool {
	return len(r.NeverRan) == 0 && r.Completed == r.Jobs && r.Leftovers.Zero()
}

// Run queues the scenario's jobs, shows progress, waits for them and for clean-up, and
// reports.
func (s *Sandbox) Run(ctx context.Context, sc Scenario, progress io.Writer) (*Report, error) {
	start, booted := time.Now(), s.Hosts.Stats().Booted
	ghBefore, awsBefore := s.Sim.Stats().Requests, s.Proxy.Calls()
	deniedBefore, unevaluatedBefore := s.Proxy.DeniedExcept(s.runnerRole()), s.Proxy.Unevaluated()
	var ids []int64
	for _, p := range sc.Jobs {
		j, err := s.Sim.QueueJob(ghsim.JobSpec{Repo: p.Repo, Labels: p.Labels, Duration: p.Duration})
		if err != nil {
			return nil, fmt.Errorf("queue job: %w", err)
		}
		ids = append(ids, j.ID)
	}
	deadline := time.Now().Add(sc.Timeout)
	for {
		done := s.progress(ctx, ids, progress)
		if done || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		sleep(ctx, progressEvery)
	}
	left := s.awaitQuiescence(ctx, progress)
	boots := s.jobBoots(ids)
	r := s.report(ids, left, start, ghBefore, awsBefore, boots)
	r.IAMDenied, r.IAMUnevaluated = diff(s.Proxy.DeniedExcept(s.runnerRole()), deniedBefore), diff(s.Proxy.Unevaluated(), unevaluatedBefore)
	r.Instances = s.Hosts.Stats().Booted - booted
	r.Boots = boots
	if paths, err := s.JobPaths(ids); err != nil {
		r.HopsError = err.Error()
	} else {
		r.Hops = HopStats(paths)
	}
	return r, nil
}

// JobPaths reads the paths of jobs from the functions' log (sandbox.log) and the hosts.
func (s *Sandbox) JobPaths(jobs []int64) ([]JobPath, error) {
	f, err := os.Open(s.logFile.Name())
	if err != nil {
		return nil, fmt.Errorf("function logs: %w", err)
	}
	defer f.Close()
	prefix := s.runnerNamePrefix()
	return JobPaths(f, jobs, HostRecords{
		TokenRead: s.Hosts.TokenReadAt,
		Online:    func(id string) (time.Time, bool) { return s.Hosts.OnlineAt(tags.RunnerName(prefix, id)) },
	})
}

// runnerNamePrefix is what scale-up puts before an instance id to name its runner.
func (s *Sandbox) runnerNamePrefix() string {
	if fn, ok := s.Deployment.Functions[s.Opts.Prefix+"-scale-up"]; ok && fn.Env["RUNNER_NAME_PREFIX"] != "" {
		return fn.Env["RUNNER_NAME_PREFIX"]
	}
	return s.Opts.Prefix + "-"
}

// succeeded reports whether a job's final attempt ran to success. A job that failed — its
// runner lost mid-job and never re-run — was not served, whatever else it did.
func succeeded(j ghsim.Job) bool {
	return j.Status == ghsim.StatusCompleted && j.Conclusion == ghsim.ConclusionSuccess && !j.StartedAt.IsZero()
}

// final follows re-runs to the attempt that settled the job.
func (s *Sandbox) final(id int64) ghsim.Job {
	j, _ := s.Sim.Job(id)
	for j.RetriedBy != 0 {
		next, ok := s.Sim.Job(j.RetriedBy)
		if !ok {
			break
		}
		j = next
	}
	return j
}

func (s *Sandbox) progress(ctx context.Context, ids []int64, w io.Writer) bool {
	var queued, running, done int
	for _, id := range ids {
		switch s.final(id).Status {
		case ghsim.StatusCompleted:
			done++
		case ghsim.StatusInProgress:
			running++
		default:
			queued++
		}
	}
	st := s.instanceStates(ctx)
	if w != nil {
		line := fmt.Sprintf("jobs: %3d queued %3d running %3d done | instances: %3d pending %3d running %3d terminated",
			queued, running, done, st["pending"], st["running"], st["terminated"]+st["shutting-down"])
		switch {
		case isTerminal(w):
			fmt.Fprintf(w, "\r%s ", line)
		case line != s.lastProgress: // a log file gets a line per change, not per tick
			fmt.Fprintln(w, line)
		}
		s.lastProgress = line
	}
	return done == len(ids)
}

func (s *Sandbox) instanceStates(ctx context.Context) map[string]int {
	out := map[string]int{}
	ec := ec2.NewFromConfig(motoproc.HarnessConfig(s.Moto))
	p := ec2.NewDescribeInstancesPaginator(ec, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("tag:" + tags.Environment), Values: []string{s.Opts.Prefix}}}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return out
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				if in.State != nil {
					out[string(in.State.Name)]++
				}
			}
		}
	}
	return out
}

// awaitQuiescence waits until nothing is left or quiesceTimeout passes.
func (s *Sandbox) awaitQuiescence(ctx context.Context, w io.Writer) Leftovers {
	deadline := time.Now().Add(quiesceTimeout)
	for {
		left := s.Leftovers(ctx)
		if left.Zero() || time.Now().After(deadline) || ctx.Err() != nil {
			if w != nil {
				fmt.Fprintln(w)
			}
			return left
		}
		sleep(ctx, progressEvery)
	}
}

// Leftovers counts live instances, GitHub runner registrations and SSM tokens.
func (s *Sandbox) Leftovers(ctx context.Context) Leftovers {
	st := s.instanceStates(ctx)
	l := Leftovers{Instances: st["pending"] + st["running"], Runners: len(s.Sim.Runners())}
	sc := ssm.NewFromConfig(motoproc.HarnessConfig(s.Moto))
	p := ssm.NewGetParametersByPathPaginator(sc, &ssm.GetParametersByPathInput{Path: aws.String("/" + s.Opts.Prefix + "/runners/"), Recursive: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			l.Tokens = -1 // unknown counts as a leak: the demo must not pass on a blind spot
			break
		}
		for _, prm := range page.Parameters {
			if strings.Contains(aws.ToString(prm.Name), "/tokens/") {
				l.Tokens++
			}
		}
	}
	return l
}

func (s *Sandbox) report(ids []int64, left Leftovers, start time.Time, ghBefore, awsBefore map[string]int, boots []JobBoot) *Report {
	// A real boot's own time (user data to runner connected) is the host's, not the
	// autoscaler's; a Go host's is the simulated boot delay.
	bootOf := map[int64]time.Duration{}
	for _, b := range boots {
		bootOf[b.JobID] = b.Phases.Connected
	}
	r := &Report{Jobs: len(ids), Leftovers: left, BootDelaySeconds: s.Opts.BootDelay.Seconds(), WallSeconds: time.Since(start).Seconds()}
	var online, started, overhead []time.Duration
	for _, id := range ids {
		first, _ := s.Sim.Job(id)
		j := s.final(id)
		if j.ID != id {
			r.Retried++
		}
		if !succeeded(j) {
			r.NeverRan = append(r.NeverRan, id)
			continue
		}
		r.Completed++
		started = append(started, j.StartedAt.Sub(first.QueuedAt))
		if at, ok := s.Hosts.OnlineAt(j.RunnerName); ok {
			online = append(online, at.Sub(first.QueuedAt))
			boot, real := bootOf[j.ID]
			if !real {
				boot = s.Opts.BootDelay
			}
			overhead = append(overhead, max(at.Sub(first.QueuedAt)-boot, 0))
		}
	}
	r.QueueToOnline, r.QueueToStart, r.Overhead = percentiles(online), percentiles(started), percentiles(overhead)
	r.GitHubCalls = diff(s.Sim.Stats().Requests, ghBefore)
	r.AWSCalls = diff(s.Proxy.Calls(), awsBefore)
	for _, n := range s.Sim.Stats().SecondaryLimited {
		r.RateLimited += n
	}
	r.GitHubCallsPerJob = perJob(r.GitHubCalls, r.Jobs)
	r.AWSCallsPerJob = perJob(r.AWSCalls, r.Jobs)
	return r
}

func diff(after, before map[string]int) map[string]int {
	out := maps.Clone(after)
	for k, v := range before {
		if out[k] -= v; out[k] == 0 {
			delete(out, k)
		}
	}
	return out
}

func perJob(calls map[string]int, jobs int) float64 {
	if jobs == 0 {
		return 0
	}
	n := 0
	for _, c := range calls {
		n += c
	}
	return float64(n) / float64(jobs)
}

// Markdown renders the report for people.
func (r *Report) Markdown() string {
	var b strings.Builder
	verdict := "PASS: every job ran and nothing leaked"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "## ghr local demo: %s\n\n", verdict)
	fmt.Fprintf(&b, "%d jobs, %d completed (%d re-run after an interruption), %d instances, %.1f s wall clock\n\n", r.Jobs, r.Completed, r.Retried, r.Instances, r.WallSeconds)
	fmt.Fprintln(&b, "| per job | p50 | p95 | max |")
	fmt.Fprintln(&b, "| --- | ---: | ---: | ---: |")
	for _, row := range []struct {
		name string
		p    Percentiles
	}{{"queued → runner online", r.QueueToOnline}, {"queued → job started", r.QueueToStart}, {r.overheadLabel(), r.Overhead}} {
		fmt.Fprintf(&b, "| %s | %.2f s | %.2f s | %.2f s |\n", row.name, row.p.P50, row.p.P95, row.p.Max)
	}
	fmt.Fprintf(&b, "\nGitHub calls per job: %.2f (secondary-rate-limit answers: %d)\n\n%s\nAWS calls per job: %.2f\n\n%s\n",
		r.GitHubCallsPerJob, r.RateLimited, table(r.GitHubCalls, r.Jobs), r.AWSCallsPerJob, table(r.AWSCalls, r.Jobs))
	fmt.Fprintf(&b, "IAM per function role: denied %v; not evaluated %v\n\n", r.IAMDenied, r.IAMUnevaluated)
	fmt.Fprintf(&b, "Leftovers: %d instances, %d runner registrations, %d SSM tokens\n", r.Leftovers.Instances, r.Leftovers.Runners, r.Leftovers.Tokens)
	if len(r.NeverRan) > 0 {
		fmt.Fprintf(&b, "\nJobs that never ran: %v\n", r.NeverRan)
	}
	if len(r.Boots) > 0 {
		b.WriteString(bootTable(r.Boots))
	}
	if len(r.Hops) > 0 {
		b.WriteString("\nPer hop, from the functions' log lines and the hosts' records (docs/metrics.md says what bounds each):\n\n")
		b.WriteString(hopTable(r.Hops))
	} else if r.HopsError != "" {
		fmt.Fprintf(&b, "\nPer hop: not measured (%s)\n", r.HopsError)
	}
	return b.String()
}

func (r *Report) overheadLabel() string {
	if len(r.Boots) > 0 {
		return "autoscaler overhead (online − the host's own boot)"
	}
	return fmt.Sprintf("autoscaler overhead (online − %.1f s boot)", r.BootDelaySeconds)
}

func table(calls map[string]int, jobs int) string {
	var b strings.Builder
	fmt.Fprintln(&b, "| endpoint | calls | per job |")
	fmt.Fprintln(&b, "| --- | ---: | ---: |")
	for _, k := range slices.Sorted(maps.Keys(calls)) {
		fmt.Fprintf(&b, "| %s | %d | %.2f |\n", k, calls[k], float64(calls[k])/float64(max(jobs, 1)))
	}
	return b.String()
}

// JSON renders the report for tools.
func (r *Report) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return b
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// runnerRole is the end of the runner hosts' role ARN (the runners module's role name).
func (s *Sandbox) runnerRole() string { return ":role/" + s.Opts.Prefix + "-runner" }
