package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
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
	soakInterruptEvery   = 4 * time.Second
)

// Soak sizing.
const (
	// soakDrain is how long after the last arrival every job may take: a job whose webhook
	// and first redelivery were both lost waits for redeliver's second try (a minute of
	// backoff plus a pass), then for its runner.
	soakDrain = 4 * time.Minute
	// soakJobsPerInterrupt: one spot interruption per this many jobs, at least one.
	soakJobsPerInterrupt = 13
)

// SoakSize is a soak of jobs queued over spread, with interruptions and time to finish in
// proportion, checked against the deployment's maxima.
func SoakSize(jobs int, spread time.Duration, seed uint64) SoakOptions {
	return SoakOptions{Jobs: jobs, Spread: spread, Timeout: spread + soakDrain, Interrupts: max(1, jobs/soakJobsPerInterrupt), Seed: seed}
}

// SoakOptions size a soak.
type SoakOptions struct {
	Jobs       int
	Spread     time.Duration // jobs are queued evenly over this period
	Timeout    time.Duration // for every job to complete
	Interrupts int           // spot interruptions of running jobs, at most
	Seed       uint64
	MaxRunners map[string]int // runner config → its maximum, checked against the peak; nil reads the deployment's
}

// SoakReport is the soak's figures and verdict.
type SoakReport struct {
	*Report
	Faults       map[string]int `json:"faults_injected"`
	Recoveries   map[string]int `json:"recoveries"`
	MaxQueueWait float64        `json:"max_queue_wait_s"`
	Peak         map[string]int `json:"peak_instances"`
	CapSamples   int            `json:"cap_samples"` // samples of live instances checked against max_runners
	Violations   []string       `json:"violations"`
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
	return config.LoadRunnerConfigs(ctx, src, ssmparam.Reader{API: ssm.NewFromConfig(motoproc.AWSConfig(s.Moto))})
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
	samplesBefore, overBefore := s.Hosts.CapSamples()
	ghBefore, awsBefore, callsBefore := s.Sim.Stats(), s.Proxy.Injected(), s.Proxy.Calls()
	crashesBefore := s.crashes()
	redeliveredBefore := ghBefore.Webhooks.Redelivered
	hostsBefore := s.Hosts.Stats()
	s.faults(true)
	stopInterrupts := s.interrupter(ctx, o)

	start := time.Now()
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
			s.faults(false)
			stopInterrupts()
			return nil, err
		}
		ids = append(ids, j.ID)
		sleep(ctx, gap)
	}
	deadline := time.Now().Add(o.Timeout)
	for !s.progress(ctx, ids, progress) && time.Now().Before(deadline) && ctx.Err() == nil {
		sleep(ctx, progressEvery)
	}
	stopInterrupts()
	s.faults(false)
	left := s.awaitQuiescence(ctx, progress)
	r := &SoakReport{Report: s.report(ids, left, start, ghBefore.Requests, callsBefore, s.jobBoots(ids)), Peak: s.Hosts.Peak()}
	gh := s.Sim.Stats()
	r.Faults = map[string]int{
		"github_5xx":             sum(gh.InjectedErrors) - sum(ghBefore.InjectedErrors),
		"github_secondary_limit": sum(gh.SecondaryLimited) - sum(ghBefore.SecondaryLimited),
		"webhook_dropped":        gh.Webhooks.Dropped - ghBefore.Webhooks.Dropped,
		"webhook_duplicated":     gh.Webhooks.Duplicated - ghBefore.Webhooks.Duplicated,
		"lambda_crash":           s.crashes() - crashesBefore,
		"spot_interruption":      s.Hosts.Stats().Interrupted - hostsBefore.Interrupted,
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
	r.MaxQueueWait = r.QueueToStart.Max
	if r.RateLimited = sum(gh.SecondaryLimited) - sum(ghBefore.SecondaryLimited); r.RateLimited < 0 {
		r.RateLimited = 0
	}
	if n := len(r.NeverRan); n > 0 {
		r.Violations = append(r.Violations, fmt.Sprintf("%d jobs never ran: %v", n, r.NeverRan))
	}
	r.Instances = s.Hosts.Stats().Booted - hostsBefore.Booted
	if n := s.Hosts.Stats().BusyKilled - hostsBefore.BusyKilled; n > 0 {
		r.Violations = append(r.Violations, fmt.Sprintf("%d busy runners had their instance terminated", n))
	}
	samples, over := s.Hosts.CapSamples()
	r.CapSamples = samples - samplesBefore
	for cfg, max := range o.MaxRunners {
		if n := over[cfg] - overBefore[cfg]; n > 0 {
			r.Violations = append(r.Violations, fmt.Sprintf("%s above its maximum %d in %d of %d samples (peak %d)", cfg, max, n, r.CapSamples, r.Peak[cfg]))
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

// interrupter plays spot interruptions of running runners until stopped.
func (s *Sandbox) interrupter(ctx context.Context, o SoakOptions) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rng := rand.New(rand.NewPCG(o.Seed, 42))
		for n := 0; n < o.Interrupts; {
			sleep(ctx, soakInterruptEvery)
			if ctx.Err() != nil {
				return
			}
			if busy := s.Hosts.Busy(); len(busy) > 0 && s.Hosts.Interrupt(ctx, busy[rng.IntN(len(busy))]) {
				n++
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
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
	fmt.Fprintf(&b, "## ghr soak: %s\n\n%d jobs (%d re-run after interruptions), %d instances, %.0f s; max queue wait %.1f s; peak instances %v over %d samples\n\n",
		verdict, r.Jobs, r.Retried, r.Instances, r.WallSeconds, r.MaxQueueWait, r.Peak, r.CapSamples)
	fmt.Fprintln(&b, "| fault injected | count |\n| --- | ---: |")
	for _, k := range sortedKeys(r.Faults) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Faults[k])
	}
	fmt.Fprintln(&b, "\n| recovery | count |\n| --- | ---: |")
	for _, k := range sortedKeys(r.Recoveries) {
		fmt.Fprintf(&b, "| %s | %d |\n", k, r.Recoveries[k])
	}
	return b.String()
}
