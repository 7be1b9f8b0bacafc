package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/ssmparam"
)

// Soak fault levels, from the proof-of-robustness issue.
const (
	soakGitHub5xx        = 0.10 // GitHub answers 502 on this share of calls
	soakGitHubJitter     = 150 * time.Millisecond
	soakSecondaryPoints  = 300  // below our pacing (720/min): forces real 429s with Retry-After
	soakSpotOutage       = 0.30 // spot CreateFleet requests answered InsufficientInstanceCapacity
	soakEC2Throttle      = 0.10 // EC2 calls answered RequestLimitExceeded
	soakCrashRate        = 0.05 // function invocations killed mid-way
	soakWebhookDrop      = 0.05
	soakWebhookDuplicate = 0.10
	soakWebhookDelay     = 0.10 // delayed deliveries arrive out of order
	// soakChaosEvery: one injected instance death (a spot interruption of a running job, or a
	// reclaim at boot before or after the runner connected, in turn) this often.
	soakChaosEvery = 4 * time.Second
	// soakBootFailures: this share of hosts fail their bootstrap after reading their token
	// (the runner does not start; the script powers the instance off).
	soakBootFailures = 0.05
	// soakOutage is the outage of one dependency (DescribeInstances, GitHub's JIT
	// endpoint, all EC2 capacity): longer than the ~7.5 minutes of SQS receives that put a job
	// spending one receive per failure in the dead-letter queue.
	soakOutage = 10 * time.Minute
	// soakOutagesPerSpread: the three outages follow one another inside the arrivals, each a
	// third of them at most (so each meets jobs queued before, during and after it): the short
	// soak's are 20 s, so make test stays short; a spread of 30 minutes or -outage 10m gives
	// the full soakOutage.
	soakOutagesPerSpread = 3
	// soakCappedConfig is examples/local's config with a small cap (max_runners 5, a fifth of
	// the soak's jobs); soakExtraPollers more SQS pollers (beside the mapping's own 2) invoke
	// scale-up for it at once, so concurrent invocations race for its last free slots.
	soakCappedConfig = "large"
	soakExtraPollers = 4
)

// The GitHub endpoints a JIT outage fails, as githubapp.Endpoint names them.
var jitEndpoints = []string{
	"POST /orgs/{org}/actions/runners/generate-jitconfig",
	"POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig",
}

// Soak sizing.
const (
	// soakDrain is how long after the last arrival (or the last outage) every job may take: a
	// job whose webhook and first redelivery were both lost waits for redeliver's second try
	// (a minute of backoff plus a pass), then for its runner. A job whose host dies at boot
	// (the soak injects that) is only relaunched by its launch's re-check, which examples/local
	// runs 30 s, 90 s and 210 s after registration (recheck_after 30s, doubling), and then
	// waits for a second launch and boot: soakRecheckRecovery more, twice, for a relaunched
	// host the chaos kills at boot too (CI's loaded soak at 5c6610d had one job unfinished at
	// 617 s, one recovery's worth). The wait ends as soon as every job is done, so a passing
	// soak is not longer for it.
	soakDrain           = 4*time.Minute + 2*soakRecheckRecovery
	soakRecheckRecovery = 3*time.Minute + 30*time.Second + 90*time.Second
	// soakJobsPerInterrupt: one injected instance death of each kind per this many jobs, at
	// least one.
	soakJobsPerInterrupt = 13
)

// SoakSize is a soak of jobs queued over spread, with instance deaths, outages and time to
// finish in proportion, checked against the deployment's maxima.
func SoakSize(jobs int, spread time.Duration, seed uint64) SoakOptions {
	outage := min(soakOutage, spread/soakOutagesPerSpread)
	o := SoakOptions{Jobs: jobs, Spread: spread, Interrupts: max(1, jobs/soakJobsPerInterrupt), Seed: seed,
		BootDeaths: max(1, jobs/soakJobsPerInterrupt), BootFailures: soakBootFailures, ExtraPollers: soakExtraPollers}
	o.SetOutage(outage)
	return o
}

// SetOutage sets each outage's length and the time every job may take accordingly.
func (o *SoakOptions) SetOutage(d time.Duration) {
	o.Outage = d
	o.Timeout = max(o.Spread, d/2+soakOutagesPerSpread*d) + soakDrain
}

// SoakOptions size a soak.
type SoakOptions struct {
	Jobs       int
	Spread     time.Duration // jobs are queued evenly over this period
	Timeout    time.Duration // for every job to complete
	Interrupts int           // spot interruptions of running jobs, at most
	// BootDeaths: instances reclaimed at boot, at most, of each kind (before their runner
	// connected, after it connected and before it took a job).
	BootDeaths int
	// BootFailures is the share of hosts whose bootstrap fails after reading their token.
	BootFailures float64
	// Outage is the length of each outage (DescribeInstances, GitHub's JIT endpoint, all
	// capacity), one after the other from half an outage after the first arrival; 0: none.
	Outage time.Duration
	// ExtraPollers more SQS pollers invoke scale-up for soakCappedConfig during the soak.
	ExtraPollers int
	Seed         uint64
	MaxRunners   map[string]int // runner config → its maximum, checked against the peak; nil reads the deployment's
}

// SoakReport is the soak's figures and verdict.
type SoakReport struct {
	*Report
	Faults       map[string]int `json:"faults_injected"`
	Recoveries   map[string]int `json:"recoveries"`
	MaxQueueWait float64        `json:"max_queue_wait_s"`
	Peak         map[string]int `json:"peak_instances"`
	RunnerPeak   map[string]int `json:"peak_runners"` // live instances holding a registration
	CapSamples   int            `json:"cap_samples"`  // samples of live runners checked against max_runners
	// InstancesOverCap counts samples, per config, with more live instances than max_runners:
	// launches between CreateFleet and their re-count's give-back (never registered).
	InstancesOverCap map[string]int `json:"instances_over_cap_samples,omitempty"`
	// Outages are the dependency outages played, in order.
	Outages []SoakOutage `json:"outages,omitempty"`
	// DeadLetters are the messages that reached a dead-letter queue during the soak, by queue.
	DeadLetters map[string]int `json:"dead_letters"`
	// RealBoots of Instances ran the real user data; BootCPU is their mean CPU per boot.
	RealBoots int     `json:"real_boots"`
	BootCPU   float64 `json:"mean_boot_cpu_s,omitempty"`
	BootWall  float64 `json:"mean_boot_wall_s,omitempty"`
	// Packages are the package manager calls of the real boots, as the dnf stand-in
	// recorded them, with how many boots made each.
	Packages map[string]int `json:"packages_asked,omitempty"`
	// Unfinished explains each job that did not end successfully (its state and last log lines).
	Unfinished []string `json:"unfinished,omitempty"`
	Violations []string `json:"violations"`
}

// SoakOutage is one outage the soak played.
type SoakOutage struct {
	What    string  `json:"what"`
	StartS  float64 `json:"start_s"` // after the first arrival
	Seconds float64 `json:"seconds"`
}

// OK reports whether every invariant held.
func (r *SoakReport) OK() bool { return len(r.Violations) == 0 }

// RunnerConfigs reads the runner configs the deployed scale-up function runs with (inline or
// from SSM), so checks use the deployment's own maxima.
func (s *Sandbox) RunnerConfigs(ctx context.Context) ([]config.RunnerConfig, error) {
	fn, ok := s.Deployment.Functions[s.Opts.Prefix+"-scale-up"]
	if !ok {
		return nil, errors.New("no scale-up function deployed")
	}
	env := config.MapEnv(fn.Env)
	src := env.Secret("RUNNER_CONFIGS")
	if err := env.Err(); err != nil {
		return nil, err
	}
	return config.LoadRunnerConfigs(ctx, src, ssmparam.Reader{API: ssm.NewFromConfig(motoproc.HarnessConfig(s.Moto))})
}

// Soak runs jobs with every fault at once, then lifts the faults, waits for quiescence and
// checks the invariants: every job ran (re-runs after interruptions count), no busy runner's
// instance was terminated by the autoscaler, no config exceeded its maximum, and nothing
// is left over.
func (s *Sandbox) Soak(ctx context.Context, o SoakOptions, progress io.Writer) (*SoakReport, error) {
	if o.MaxRunners == nil {
		cfgs, err := s.RunnerConfigs(ctx)
		if err != nil {
			return nil, fmt.Errorf("soak: runner maxima: %w", err)
		}
		o.MaxRunners = map[string]int{}
		for _, c := range cfgs {
			if c.MaxRunners >= 0 {
				o.MaxRunners[c.Key] = c.MaxRunners
			}
		}
	}
	s.Hosts.SetCaps(o.MaxRunners)
	samplesBefore, overBefore, instBefore := s.Hosts.CapSamples()
	ghBefore, awsBefore, callsBefore := s.Sim.Stats(), s.Proxy.Injected(), s.Proxy.Calls()
	crashesBefore := s.crashes()
	redeliveredBefore := ghBefore.Webhooks.Redelivered
	hostsBefore := s.Hosts.Stats()
	bootsBefore := len(s.Hosts.BootStats())
	dlqBefore, err := s.deadLetters(ctx)
	if err != nil {
		return nil, fmt.Errorf("soak: dead-letter queues: %w", err)
	}
	logMark := s.logSize()
	s.faults(true)
	s.Hosts.SetBootFailures(o.BootFailures, o.Seed)
	start := time.Now()
	stopChaos := s.chaos(ctx, o)
	stopPollers := s.extraPollers(ctx, o.ExtraPollers)
	outages, stopOutages := s.outages(ctx, o.Outage, start)
	stop := func() {
		stopOutages()
		stopPollers()
		stopChaos()
		s.Hosts.SetBootFailures(0, o.Seed)
		s.faults(false)
	}

	var ids []int64
	gap := o.Spread / time.Duration(max(o.Jobs, 1))
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed+1))
	for i := range o.Jobs {
		labels := SmallLabels
		if i%5 == 4 {
			labels = LargeLabels
		}
		j, err := s.Sim.QueueJob(ghsim.JobSpec{Repo: simRepos[rng.IntN(len(simRepos))], Labels: labels, Duration: time.Duration(1+rng.IntN(3)) * time.Second})
		if err != nil {
			stop()
			return nil, err
		}
		ids = append(ids, j.ID)
		sleep(ctx, gap)
	}
	deadline := start.Add(o.Timeout)
	for !s.progress(ctx, ids, progress) && time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, progressEvery)
	}
	stop()
	left := s.awaitQuiescence(ctx, progress)
	r := &SoakReport{Report: s.report(ids, left, start, ghBefore.Requests, callsBefore, s.jobBoots(ids)), Peak: s.Hosts.Peak(), RunnerPeak: s.Hosts.RunnerPeak(), Outages: *outages}
	gh := s.Sim.Stats()
	hosts := s.Hosts.Stats()
	r.Faults = map[string]int{
		"github_5xx":                        sum(gh.InjectedErrors) - sum(ghBefore.InjectedErrors),
		"github_secondary_limit":            sum(gh.SecondaryLimited) - sum(ghBefore.SecondaryLimited),
		"webhook_dropped":                   gh.Webhooks.Dropped - ghBefore.Webhooks.Dropped,
		"webhook_duplicated":                gh.Webhooks.Duplicated - ghBefore.Webhooks.Duplicated,
		"lambda_crash":                      s.crashes() - crashesBefore,
		"spot_interruption":                 hosts.Interrupted - hostsBefore.Interrupted,
		"died_at_boot_before_runner_online": hosts.DiedBeforeConnect - hostsBefore.DiedBeforeConnect,
		"died_at_boot_runner_online_idle":   hosts.DiedAfterConnect - hostsBefore.DiedAfterConnect,
		"bootstrap_failed_after_token":      hosts.BootFailures - hostsBefore.BootFailures,
	}
	for _, e := range jitEndpoints {
		r.Faults["github_jit_5xx"] += gh.InjectedErrors[e] - ghBefore.InjectedErrors[e]
	}
	for k, v := range s.Proxy.Injected() {
		if n := v - awsBefore[k]; n > 0 {
			r.Faults["aws "+k] = n
		}
	}
	r.Recoveries = map[string]int{
		"webhooks_redelivered": gh.Webhooks.Redelivered - redeliveredBefore,
		"jobs_rerun":           r.Retried,
	}
	for k, v := range s.recoveries(logMark) {
		r.Recoveries[k] = v
	}
	r.MaxQueueWait = r.QueueToStart.Max
	if r.RateLimited = sum(gh.SecondaryLimited) - sum(ghBefore.SecondaryLimited); r.RateLimited < 0 {
		r.RateLimited = 0
	}
	if n := len(r.NeverRan); n > 0 {
		r.Violations = append(r.Violations, fmt.Sprintf("%d jobs did not end successfully: %v", n, r.NeverRan))
		r.Unfinished = s.unfinished(r.NeverRan, logMark, start)
	}
	r.Instances = hosts.Booted - hostsBefore.Booted
	r.RealBoots = hosts.RealBoots - hostsBefore.RealBoots
	if boots := s.Hosts.BootStats()[bootsBefore:]; len(boots) > 0 {
		var cpu, wall time.Duration
		r.Packages = map[string]int{}
		for _, b := range boots {
			cpu, wall = cpu+b.CPU, wall+b.Wall
			for _, p := range b.Packages {
				r.Packages[p]++
			}
		}
		r.BootCPU, r.BootWall = cpu.Seconds()/float64(len(boots)), wall.Seconds()/float64(len(boots))
	}
	if n := hosts.BusyKilled - hostsBefore.BusyKilled; n > 0 {
		r.Violations = append(r.Violations, fmt.Sprintf("%d busy runners had their instance terminated", n))
	}
	samples, over, overInst := s.Hosts.CapSamples()
	r.CapSamples = samples - samplesBefore
	for cfg, max := range o.MaxRunners {
		if n := over[cfg] - overBefore[cfg]; n > 0 {
			r.Violations = append(r.Violations, fmt.Sprintf("%s runners above its maximum %d in %d of %d samples (peak %d)", cfg, max, n, r.CapSamples, r.RunnerPeak[cfg]))
		}
		if n := overInst[cfg] - instBefore[cfg]; n > 0 {
			if r.InstancesOverCap == nil {
				r.InstancesOverCap = map[string]int{}
			}
			r.InstancesOverCap[cfg] = n
		}
	}
	dlq, err := s.deadLetters(ctx)
	if err != nil {
		r.Violations = append(r.Violations, fmt.Sprintf("dead-letter queues unreadable: %v", err))
	}
	r.DeadLetters = map[string]int{}
	for q, n := range dlq {
		if d := n - dlqBefore[q]; d > 0 {
			r.DeadLetters[q] = d
			r.Violations = append(r.Violations, fmt.Sprintf("%d messages reached the dead-letter queue %s", d, q))
		}
	}
	if !left.Zero() {
		r.Violations = append(r.Violations, fmt.Sprintf("leftovers after quiescence: %+v", left))
	}
	return r, nil
}

// faults turns every soak fault on or off.
func (s *Sandbox) faults(on bool) {
	if !on {
		s.Sim.SetFault("*", ghsim.Fault{})
		s.Sim.SetSecondaryLimit(900, 403)
		s.Sim.SetWebhookFaults(ghsim.WebhookFaults{})
		s.Proxy.SetFault("ec2:CreateFleet", awsproxy.Fault{})
		s.Proxy.SetFault("ec2:*", awsproxy.Fault{})
		s.Wiring.SetCrashRate(0)
		return
	}
	s.Sim.SetFault("*", ghsim.Fault{ErrorRate: soakGitHub5xx, ErrorStatus: 502, Jitter: soakGitHubJitter})
	s.Sim.SetSecondaryLimit(soakSecondaryPoints, 429)
	s.Sim.SetWebhookFaults(ghsim.WebhookFaults{DropRate: soakWebhookDrop, DuplicateRate: soakWebhookDuplicate, DelayRate: soakWebhookDelay,
		MinDelay: 200 * time.Millisecond, MaxDelay: 2 * time.Second})
	s.Proxy.SetFault(awsproxy.SpotCapacityOutage(soakSpotOutage))
	s.Proxy.SetFault("ec2:*", awsproxy.Fault{Rate: soakEC2Throttle, Status: 503, Code: "RequestLimitExceeded", Message: "Request limit exceeded."})
	s.Wiring.SetCrashRate(soakCrashRate)
}

// chaos kills instances until stopped, one every soakChaosEvery in turn: a spot
// interruption of a running job, a reclaim at boot before the runner came online, and one
// after it came online but before it took a job; each kind up to its count in o.
func (s *Sandbox) chaos(ctx context.Context, o SoakOptions) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(o.Seed, 42))
		base := s.Hosts.Stats()
		interrupts := 0
		defer s.Hosts.ArmBootDeath(false, false)
		defer s.Hosts.ArmBootDeath(true, false)
		for turn := 0; ; turn++ {
			sleep(ctx, soakChaosEvery)
			if ctx.Err() != nil {
				return
			}
			st := s.Hosts.Stats()
			left := [3]int{o.Interrupts - interrupts, o.BootDeaths - (st.DiedBeforeConnect - base.DiedBeforeConnect),
				o.BootDeaths - (st.DiedAfterConnect - base.DiedAfterConnect)}
			if left[0] <= 0 && left[1] <= 0 && left[2] <= 0 {
				return
			}
			// The first kind in turn with deaths left and a candidate goes; a Go host dies at
			// its next boot instead (ArmBootDeath): its boot is too short to be caught.
			for k := range 3 {
				kind := (turn + k) % 3
				if left[kind] <= 0 {
					if kind > 0 {
						s.Hosts.ArmBootDeath(kind == 2, false)
					}
					continue
				}
				var done bool
				switch kind {
				case 0:
					if busy := s.Hosts.Busy(); len(busy) > 0 && s.Hosts.Interrupt(ctx, busy[rng.IntN(len(busy))]) {
						interrupts++
						done = true
					}
				default:
					// A real host is between its token read and its runner online for about a
					// second: look for one every hostPoll until the next turn.
					connected := kind == 2
					for until := time.Now().Add(soakChaosEvery); !done && time.Now().Before(until) && ctx.Err() == nil; sleep(ctx, hostPoll) {
						done = s.Hosts.KillAtBoot(ctx, connected, rng.IntN)
					}
					if !done {
						s.Hosts.ArmBootDeath(connected, true)
					}
				}
				if done {
					break
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// outages plays the three dependency outages one after the other, each d long, the first
// starting d/2 after start: DescribeInstances (503), GitHub's JIT endpoint (5xx) and all EC2
// capacity (spot and on-demand). Each ends by restoring the soak's usual fault there. The
// returned list is complete once stop returns.
func (s *Sandbox) outages(ctx context.Context, d time.Duration, start time.Time) (*[]SoakOutage, func()) {
	played := &[]SoakOutage{}
	if d <= 0 {
		return played, func() {}
	}
	kinds := []struct {
		what    string
		on, off func()
	}{
		{"ec2:DescribeInstances 503", func() { s.Proxy.SetFault(awsproxy.DescribeInstancesOutage(1)) },
			func() { s.Proxy.SetFault("ec2:DescribeInstances", awsproxy.Fault{}) }},
		{"github generate-jitconfig 5xx", func() { s.jitOutage(true) }, func() { s.jitOutage(false) }},
		{"ec2:CreateFleet no capacity, spot and on-demand", func() { s.Proxy.SetFault(awsproxy.CapacityOutage(1)) },
			func() { s.Proxy.SetFault(awsproxy.SpotCapacityOutage(soakSpotOutage)) }},
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sleep(ctx, time.Until(start.Add(d/2)))
		for _, k := range kinds {
			if ctx.Err() != nil {
				return
			}
			began := time.Now()
			k.on()
			s.Opts.Log.Info("soak: outage begins", "what", k.what, "seconds", d.Seconds())
			sleep(ctx, d)
			k.off()
			*played = append(*played, SoakOutage{What: k.what, StartS: began.Sub(start).Seconds(), Seconds: time.Since(began).Seconds()})
		}
	}()
	return played, func() { cancel(); wg.Wait() }
}

// jitOutage fails every JIT config request with a 5xx, or gives them back the soak's usual
// fault (the "*" one).
func (s *Sandbox) jitOutage(on bool) {
	f := ghsim.Fault{}
	if on {
		f = ghsim.Fault{ErrorRate: 1, ErrorStatus: 503, Jitter: soakGitHubJitter}
	}
	for _, e := range jitEndpoints {
		s.Sim.SetFault(e, f)
	}
}

// extraPollers runs n more SQS pollers on soakCappedConfig's build queue until stopped, as
// Lambda scales a mapping's pollers up under a backlog.
func (s *Sandbox) extraPollers(ctx context.Context, n int) (stop func()) {
	var m *lambdahost.SQSMapping
	for _, x := range s.Wiring.Mappings {
		if strings.HasSuffix(x.QueueURL, "-build-"+soakCappedConfig) {
			m = x
		}
	}
	if m == nil || n <= 0 {
		return func() {}
	}
	extra := &lambdahost.SQSMapping{Client: m.Client, QueueURL: m.QueueURL, QueueARN: m.QueueARN, BatchSize: m.BatchSize,
		BatchingWindow: m.BatchingWindow, ReportBatchItemFailures: m.ReportBatchItemFailures, Pollers: n, Target: m.Target, Log: m.Log}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); extra.Run(ctx) }()
	return func() { cancel(); <-done }
}

// deadLetters counts the messages in the deployment's dead-letter queues, by queue name.
func (s *Sandbox) deadLetters(ctx context.Context) (map[string]int, error) {
	sc := sqs.NewFromConfig(motoproc.HarnessConfig(s.Moto))
	out, err := sc.ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(s.Opts.Prefix + "-")})
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	n := map[string]int{}
	for _, u := range out.QueueUrls {
		name := u[strings.LastIndex(u, "/")+1:]
		if !strings.HasSuffix(name, "-dlq") {
			continue
		}
		a, err := sc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []sqstypes.QueueAttributeName{
			sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return nil, fmt.Errorf("queue %s: %w", name, err)
		}
		for _, v := range a.Attributes {
			c, _ := strconv.Atoi(v)
			n[name] += c
		}
	}
	return n, nil
}

// logSize marks the sandbox log, where the functions write their EMF metrics.
func (s *Sandbox) logSize() int64 {
	fi, err := os.Stat(s.logFile.Name())
	if err != nil {
		return 0
	}
	return fi.Size()
}

// recoveries reads what the functions recovered since mark from their metrics: deferrals by
// reason, ghr's own re-runs of interrupted jobs, and reconciliation's relaunches (and the
// jobs it gave up on, by reason).
func (s *Sandbox) recoveries(mark int64) map[string]int {
	out := map[string]int{}
	data, err := os.ReadFile(s.logFile.Name())
	if err != nil {
		return out
	}
	pts, err := metrics.Read(bytes.NewReader(data[min(mark, int64(len(data))):]))
	if err != nil {
		return out
	}
	for _, p := range pts {
		if p.Dims[metrics.DimDeployment] != s.Opts.Prefix {
			continue
		}
		var n float64
		for _, v := range p.Values {
			n += v
		}
		switch {
		case p.Name == metrics.JobsDeferred.Name:
			out["deferred: "+p.Dims[metrics.DimReason]] += int(n)
		case p.Name == metrics.JobsRerun.Name:
			out["jobs_rerun_by_ghr"] += int(n)
		case p.Name == metrics.JobsRelaunched.Name:
			out["reconciliation_relaunches"] += int(n)
		case p.Name == metrics.JobsAbandoned.Name:
			out["reconciliation_abandoned: "+p.Dims[metrics.DimReason]] += int(n)
		}
	}
	return out
}

func (s *Sandbox) crashes() int {
	n := 0
	for _, h := range s.Wiring.Hosts {
		n += h.Stats().Crashes
	}
	return n
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// JSON renders the soak's figures and verdict.
func (r *SoakReport) JSON() []byte {
	b, _ := json.MarshalIndent(r, "", "  ")
	return b
}

// Markdown renders the soak's figures.
func (r *SoakReport) Markdown() string {
	var b strings.Builder
	verdict := "PASS: every invariant held"
	if !r.OK() {
		verdict = "FAIL: " + strings.Join(r.Violations, "; ")
	}
	fmt.Fprintf(&b, "## ghr soak: %s\n\n%d jobs (%d re-run after interruptions), %d instances (%d real boots), %.0f s; max queue wait %.1f s; peak runners %v (instances %v; samples with instances over the cap, given back before registration: %v) over %d samples; dead letters %v\n\n",
		verdict, r.Jobs, r.Retried, r.Instances, r.RealBoots, r.WallSeconds, r.MaxQueueWait, r.RunnerPeak, r.Peak, r.InstancesOverCap, r.CapSamples, r.DeadLetters)
	if r.RealBoots > 0 {
		fmt.Fprintf(&b, "Real boots: %.1f s wall and %.2f s CPU each on average; packages asked for (dnf stand-in):", r.BootWall, r.BootCPU)
		for _, p := range sortedKeys(r.Packages) {
			fmt.Fprintf(&b, " `%s` ×%d;", p, r.Packages[p])
		}
		fmt.Fprint(&b, "\n\n")
	}
	for _, o := range r.Outages {
		fmt.Fprintf(&b, "- outage of %s: %.0f s from %.0f s\n", o.What, o.Seconds, o.StartS)
	}
	if len(r.Outages) > 0 {
		fmt.Fprintln(&b)
	}
	fmt.Fprintln(&b, "| fault injected | count |\n| --- | ---: |")
	for _, k := range sortedKeys(r.Faults) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Faults[k])
	}
	fmt.Fprintln(&b, "\n| recovery | count |\n| --- | ---: |")
	for _, k := range sortedKeys(r.Recoveries) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Recoveries[k])
	}
	if len(r.Unfinished) > 0 {
		fmt.Fprintf(&b, "\nUnfinished jobs:\n- %s\n", strings.Join(r.Unfinished, "\n- "))
	}
	return b.String()
}
