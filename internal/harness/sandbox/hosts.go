package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Simulated host timing.
const (
	hostPoll      = 100 * time.Millisecond // how often new instances are noticed
	tokenPoll     = 100 * time.Millisecond // the bootstrap polls SSM for its token
	tokenWaitTime = 60 * time.Second       // then powers off (the module's default is 300 s; scaled down)
)

// HostEC2 is what simulated hosts do with EC2: notice instances, power off.
type HostEC2 interface {
	DescribeInstances(ctx context.Context, in *ec2.DescribeInstancesInput, opts ...func(*ec2.Options)) (*ec2.DescribeInstancesOutput, error)
	TerminateInstances(ctx context.Context, in *ec2.TerminateInstancesInput, opts ...func(*ec2.Options)) (*ec2.TerminateInstancesOutput, error)
}

// HostSSM is what the bootstrap does with SSM.
type HostSSM interface {
	GetParameter(ctx context.Context, in *ssm.GetParameterInput, opts ...func(*ssm.Options)) (*ssm.GetParameterOutput, error)
	DeleteParameter(ctx context.Context, in *ssm.DeleteParameterInput, opts ...func(*ssm.Options)) (*ssm.DeleteParameterOutput, error)
}

// Hosts plays the EC2 instances ghr launches: each boots, reads and deletes its token,
// connects to the simulator as its runner, runs the jobs GitHub gives it, and an ephemeral
// one powers off after its job. Their AWS calls go straight to the emulator, not through the
// counting proxy: they are the instances' calls, not the autoscaler's.
type Hosts struct {
	EC2    HostEC2
	SSM    HostSSM
	Sim    *ghsim.Sim
	Prefix string // deployment prefix: ghr:environment and the SSM root
	// RunnerNamePrefix is what scale-up puts before an instance id to name its runner: the
	// cap samples find an instance's registration by it.
	RunnerNamePrefix string
	BootDelay        time.Duration
	Log              *slog.Logger
	// Boot, when set, boots RealShare of the instances for real (BootEnv); the others,
	// chosen by Rand, are Go fakes.
	Boot      *BootEnv
	RealShare float64
	Rand      *rand.Rand

	// Events receives what EC2 tells EventBridge about instances (spot warnings, state
	// changes); nil sends nothing.
	Events EC2Events

	// bootFailShare of new hosts fail their bootstrap after reading their token
	// (SetBootFailures), drawn from failRand.
	bootFailShare float64
	failRand      *rand.Rand
	// armed[0] and armed[1]: the next Go host to read its token, or to come online idle,
	// dies there (ArmBootDeath); Go boots are too short for KillAtBoot to find them.
	armed [2]bool

	boots []BootStat

	mu     sync.Mutex
	hosts  map[string]*host
	online map[string]time.Time // runner name → when it came online
	// tokenRead: instance id → when a Go host read its token (a real boot's log says it).
	tokenRead map[string]time.Time
	peak      map[string]int // runner config → most live instances seen at once
	// Continuous cap check: every scan is a sample of live runners per config: live
	// instances that hold a registration. max_runners bounds runners; an instance a launch
	// gives back in its re-count never gets one (scaleup.Excess), so it is sampled apart.
	caps       map[string]int // runner config → max_runners (SetCaps)
	overCap    map[string]int // runner config → samples of runners above its cap
	overInst   map[string]int // runner config → samples of instances above its cap
	runnerPeak map[string]int // runner config → most live runners seen at once
	samples    int
	stats      HostStats
}

// EC2Events is EventBridge's bus as EC2 feeds it (lambdahost.EventBus).
type EC2Events interface {
	Publish(ctx context.Context, ev events.EventBridgeEvent)
	PublishWait(ctx context.Context, ev events.EventBridgeEvent)
}

// spotNotice is how long after its warning a spot instance is reclaimed once the warning was
// handled: EC2 gives two minutes; a short pause keeps interrupted jobs mostly still running.
const spotNotice = 200 * time.Millisecond

// HostStats counts what the hosts did.
type HostStats struct {
	Booted, Connected, JobsRun, TokenTimeouts, BadTokens, Interrupted, Removed int
	// RealBoots counts instances that ran the real user data (BootEnv).
	RealBoots int
	// BusyKilled counts instances terminated by someone else while their runner ran a job:
	// the autoscaler must never do that (injected interruptions are not counted).
	BusyKilled int
	// Injected boot faults: bootstraps that failed after reading their token
	// (SetBootFailures), and instances reclaimed at boot before or after their runner
	// connected (KillAtBoot).
	BootFailures, DiedBeforeConnect, DiedAfterConnect int
}

type host struct {
	id          string
	config      string
	cancel      context.CancelFunc
	conn        *ghsim.RunnerConn
	launched    time.Time
	spot        bool // launched as a spot instance: the only kind EC2 reclaims
	interrupted bool // by Interrupt or KillAtBoot: an injected spot reclaim
	failBoot    bool // its bootstrap fails after reading the token (SetBootFailures)
	tokenRead   bool // a Go host read and deleted its token

	// Real boots only.
	real       bool
	ns         func() // kills every process of the host
	connected  func() // its runner opened a session
	runner     string // the runner's name once connected
	poweredOff bool
}

// Run watches for instances until ctx ends.
func (h *Hosts) Run(ctx context.Context) {
	h.mu.Lock()
	if h.hosts == nil {
		h.hosts, h.online, h.peak, h.runnerPeak = map[string]*host{}, map[string]time.Time{}, map[string]int{}, map[string]int{}
		if h.overCap == nil {
			h.overCap, h.overInst = map[string]int{}, map[string]int{}
		}
	}
	h.mu.Unlock()
	t := time.NewTicker(hostPoll)
	defer t.Stop()
	for {
		h.scan(ctx)
		select {
		case <-ctx.Done():
			h.mu.Lock()
			for _, x := range h.hosts {
				if x.cancel != nil {
					x.cancel()
				}
			}
			h.mu.Unlock()
			return
		case <-t.C:
		}
	}
}

func (h *Hosts) scan(ctx context.Context) {
	alive := map[string]ec2types.Instance{}
	p := ec2.NewDescribeInstancesPaginator(h.EC2, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + tags.Environment), Values: []string{h.Prefix}},
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return // the emulator is busy or stopping; try again next tick
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				alive[aws.ToString(in.InstanceId)] = in
			}
		}
	}
	registered := map[string]bool{} // asked before mu: the simulator is never called under it
	for _, r := range h.Sim.Runners() {
		if id, ok := tags.InstanceIDFromRunnerName(h.RunnerNamePrefix, r.Name); ok {
			registered[id] = true
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	live, runners := map[string]int{}, map[string]int{}
	for id, in := range alive {
		cfg := tagValue(in.Tags, tags.RunnerConfig)
		live[cfg]++
		if registered[id] {
			runners[cfg]++
		}
	}
	h.samples++
	for cfg, n := range live {
		h.peak[cfg] = max(h.peak[cfg], n)
		h.runnerPeak[cfg] = max(h.runnerPeak[cfg], runners[cfg])
		c, capped := h.caps[cfg]
		if capped && n > c {
			h.overInst[cfg]++
		}
		if capped && runners[cfg] > c {
			h.overCap[cfg]++
			h.Log.Error("simulated hosts: live runners above max_runners", "runner_config", cfg, "runners", runners[cfg], "instances", n, "max", c)
		}
	}
	for id, in := range alive {
		if _, ok := h.hosts[id]; ok {
			continue
		}
		hctx, cancel := context.WithCancel(ctx)
		x := &host{id: id, config: tagValue(in.Tags, tags.RunnerConfig), cancel: cancel, launched: aws.ToTime(in.LaunchTime),
			spot: in.InstanceLifecycle == ec2types.InstanceLifecycleTypeSpot}
		h.hosts[id] = x
		h.stats.Booted++
		x.failBoot = h.bootFailShare > 0 && h.failRand.Float64() < h.bootFailShare
		if h.Boot != nil && (h.RealShare >= 1 || h.Rand.Float64() < h.RealShare) {
			x.real = true
			h.stats.RealBoots++
			go h.bootReal(hctx, x, in)
			continue
		}
		go h.boot(hctx, x)
	}
	for id, x := range h.hosts {
		if _, ok := alive[id]; !ok && x.cancel != nil {
			// Terminated from outside (scale-down, clean-up): the machine is gone mid-whatever.
			x.cancel()
			x.cancel = nil
			h.stats.Removed++
			if h.Events != nil { // EC2 reports every instance's stop, whoever caused it
				h.Events.Publish(ctx, ec2Event(detailStateChange, map[string]string{"instance-id": id, "state": "terminated"}))
			}
			if x.real && x.runner != "" && !x.interrupted && !x.poweredOff && h.runnerBusy(x.runner) {
				h.stats.BusyKilled++
				h.Log.Error("host: instance terminated under a busy runner", "instance_id", x.id, "runner", x.runner)
			}
		}
	}
}

func (h *Hosts) boot(ctx context.Context, x *host) {
	log := h.Log.With("instance_id", x.id)
	// Half the boot comes before the token read, half after it (the runner's start), so an
	// instance can die between the two as a real one can (KillAtBoot).
	select {
	case <-time.After(h.BootDelay / 2):
	case <-ctx.Done():
		return
	}
	value, err := h.readToken(ctx, x)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("simulated host: no token; powering off", "error", err.Error())
			h.count(func(s *HostStats) { s.TokenTimeouts++ })
			h.powerOff(x)
		}
		return
	}
	h.mu.Lock()
	if h.tokenRead == nil {
		h.tokenRead = map[string]time.Time{}
	}
	h.tokenRead[x.id] = time.Now()
	x.tokenRead = true
	h.mu.Unlock()
	if x.failBoot {
		// The bootstrap failed after the token was consumed (the runner would not start):
		// the script powers the instance off, and the job's registration is never used.
		log.Warn("simulated host: bootstrap failed after reading the token; powering off")
		h.count(func(s *HostStats) { s.BootFailures++ })
		h.powerOff(x)
		return
	}
	if h.takeArmed(x, false) {
		h.dieAtBoot(ctx, x, false)
		return
	}
	select {
	case <-time.After(h.BootDelay - h.BootDelay/2):
	case <-ctx.Done():
		return
	}
	jit, reg, err := runnertoken.ParseToken(value)
	if err != nil {
		log.Warn("simulated host: bad token; powering off", "error", err.Error())
		h.count(func(s *HostStats) { s.BadTokens++ })
		h.powerOff(x)
		return
	}
	ephemeral := jit != "" || reg.Ephemeral
	// ConnectToken configures the runner as start-runner.sh does (url, group, exact labels).
	conn, err := h.Sim.ConnectToken(value)
	if err != nil {
		log.Warn("simulated host: runner could not connect; powering off", "error", err.Error())
		h.powerOff(x)
		return
	}
	h.mu.Lock()
	x.conn = conn
	h.online[conn.Name()] = time.Now()
	h.stats.Connected++
	h.mu.Unlock()
	log.Debug("simulated host: runner online", "runner", conn.Name(), "runner_config", x.config)
	if h.takeArmed(x, true) {
		h.dieAtBoot(ctx, x, true)
		return
	}
	h.work(ctx, x, conn, ephemeral)
}

// work runs jobs until the runner ends; an ephemeral runner's instance then powers off.
func (h *Hosts) work(ctx context.Context, x *host, conn *ghsim.RunnerConn, ephemeral bool) {
	for {
		job, err := conn.NextJob(ctx)
		if err != nil {
			if ctx.Err() != nil {
				conn.Disconnect() // the instance was terminated under the runner
			} else if ephemeral {
				h.powerOff(x) // deregistered before it got a job
			}
			return
		}
		h.Log.Debug("simulated host: job taken", "instance_id", x.id, "job_id", job.ID, "runner", conn.Name())
		select {
		case <-time.After(job.Duration):
		case <-ctx.Done():
			conn.Interrupt() // terminated mid-job: GitHub sees the runner vanish
			h.mu.Lock()
			if !x.interrupted {
				h.stats.BusyKilled++
				h.Log.Error("simulated host: instance terminated under a busy runner", "instance_id", x.id, "job_id", job.ID)
			}
			h.mu.Unlock()
			return
		}
		if err := conn.Complete(ghsim.ConclusionSuccess); err != nil {
			return
		}
		h.count(func(s *HostStats) { s.JobsRun++ })
		if ephemeral {
			h.powerOff(x)
			return
		}
	}
}

// Interrupt plays a spot interruption of instance id as EC2 does: the interruption warning
// (handled before the reclaim, as its two-minute notice allows), then the runner vanishes
// mid-job, the instance terminates and its state changes are published.
func (h *Hosts) Interrupt(ctx context.Context, id string) bool {
	h.mu.Lock()
	x, ok := h.hosts[id]
	h.mu.Unlock()
	if !ok || !x.spot {
		return false
	}
	if h.Events != nil {
		h.Events.PublishWait(ctx, ec2Event(detailSpotWarning, map[string]string{"instance-id": id, "instance-action": "terminate"}))
		sleep(ctx, spotNotice)
	}
	if !h.reclaim(id) {
		return false
	}
	if h.Events != nil { // "terminated" follows from scan, as for every instance
		h.Events.Publish(ctx, ec2Event(detailStateChange, map[string]string{"instance-id": id, "state": "shutting-down"}))
	}
	return true
}

// EventBridge detail types of EC2's events.
const (
	detailSpotWarning = "EC2 Spot Instance Interruption Warning"
	detailStateChange = "EC2 Instance State-change Notification"
)

func ec2Event(detailType string, detail map[string]string) events.EventBridgeEvent {
	b, _ := json.Marshal(detail)
	return events.EventBridgeEvent{Source: "aws.ec2", DetailType: detailType, Detail: b, Resources: []string{"arn:aws:ec2:us-east-1:123456789012:instance/" + detail["instance-id"]}}
}

// SetBootFailures makes share of the hosts noticed from now on fail their bootstrap after
// reading their token, as a boot whose runner does not start: the host powers itself off
// (a real host's script, when runuser fails; a Go host at once). Draws come from seed.
func (h *Hosts) SetBootFailures(share float64, seed uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.bootFailShare = share
	if h.failRand == nil {
		h.failRand = rand.New(rand.NewPCG(seed, 0x626f6f74)) // "boot"
	}
}

// KillAtBoot plays a spot reclaim of an instance still booting, picked with pick(n) among the
// candidates: with connected false, one whose runner has not connected yet but whose token
// was read (the job's JIT registration exists, nobody will use it; an instance reclaimed
// before its token read leaves a token scale-down keeps for 15 minutes, which is
// scale-up's in-flight window's case, not this one's); with connected true, one whose runner
// is online and idle. The warning is published as for Interrupt. It reports whether an
// instance was reclaimed.
func (h *Hosts) KillAtBoot(ctx context.Context, connected bool, pick func(n int) int) bool {
	h.mu.Lock()
	var ids []string
	for id, x := range h.hosts {
		if x.cancel == nil || !x.spot || x.interrupted || x.failBoot || x.poweredOff {
			continue
		}
		up := x.conn != nil || x.runner != ""
		switch {
		case up != connected:
			continue
		case connected && h.runnerBusy(h.runnerName(x)):
			continue
		case !connected && !h.tokenReadLocked(x):
			continue
		}
		ids = append(ids, id)
	}
	h.mu.Unlock()
	if len(ids) == 0 {
		return false
	}
	slices.Sort(ids) // map order is random; the pick is seeded
	h.mu.Lock()
	x := h.hosts[ids[pick(len(ids))]]
	h.mu.Unlock()
	h.dieAtBoot(ctx, x, connected)
	return true
}

// ArmBootDeath makes the next Go host that reads its token (connected false) or whose
// runner comes online idle (connected true) die there as KillAtBoot would kill it; on
// false disarms it.
func (h *Hosts) ArmBootDeath(connected, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.armed[b2i(connected)] = on
}

// takeArmed reports whether x is to die now by ArmBootDeath, disarming it.
func (h *Hosts) takeArmed(x *host, connected bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := b2i(connected)
	if !h.armed[i] || !x.spot || x.interrupted || (connected && h.runnerBusy(h.runnerName(x))) {
		return false
	}
	h.armed[i] = false
	return true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dieAtBoot reclaims x as EC2 reclaims a spot instance: the warning (handled within the
// notice), then the host and its runner vanish.
func (h *Hosts) dieAtBoot(ctx context.Context, x *host, connected bool) {
	if h.Events != nil {
		h.Events.PublishWait(ctx, ec2Event(detailSpotWarning, map[string]string{"instance-id": x.id, "instance-action": "terminate"}))
		sleep(ctx, spotNotice)
	}
	h.mu.Lock()
	x.interrupted = true
	conn, kill := x.conn, x.ns
	h.mu.Unlock()
	switch {
	case conn != nil:
		conn.Interrupt() // a job taken during the notice is lost with it: the interruption path re-runs it
	case kill != nil:
		kill()
	}
	h.count(func(s *HostStats) {
		if connected {
			s.DiedAfterConnect++
		} else {
			s.DiedBeforeConnect++
		}
	})
	h.Log.Info("simulated hosts: instance reclaimed at boot", "instance_id", x.id, "runner_online", connected)
	h.powerOff(x)
	if h.Events != nil {
		h.Events.Publish(ctx, ec2Event(detailStateChange, map[string]string{"instance-id": x.id, "state": "shutting-down"}))
	}
}

// runnerName is x's runner's name once it connected. Caller holds mu.
func (h *Hosts) runnerName(x *host) string {
	if x.conn != nil {
		return x.conn.Name()
	}
	return x.runner
}

// tokenReadLocked reports whether x's boot read its token: a Go host says so; a real host's
// boot log does ("runner token read"). Caller holds mu.
func (h *Hosts) tokenReadLocked(x *host) bool {
	if !x.real {
		return x.tokenRead
	}
	if h.Boot == nil {
		return false
	}
	b, err := os.ReadFile(filepath.Join(h.Boot.Dir, x.id, "root", "var", "log", "ghr-bootstrap.log"))
	return err == nil && bytes.Contains(b, []byte("runner token read"))
}

// reclaim kills the host's runner mid-job and terminates the instance.
func (h *Hosts) reclaim(id string) bool {
	h.mu.Lock()
	x, ok := h.hosts[id]
	var conn *ghsim.RunnerConn
	var kill func()
	if ok {
		x.interrupted, conn, kill = true, x.conn, x.ns
	}
	h.mu.Unlock()
	switch {
	case conn != nil:
		conn.Interrupt()
	case kill != nil && x.runner != "":
		kill() // the runner process dies without a word, as on a reclaimed spot instance
	default:
		return false
	}
	h.count(func(s *HostStats) { s.Interrupted++ })
	h.powerOff(x)
	return true
}

// Busy returns the spot instance ids whose runner is running a job (candidates for an
// interruption of a running job).
func (h *Hosts) Busy() []string {
	busy := map[string]bool{} // asked before mu: the simulator is never called under it
	for _, r := range h.Sim.Runners() {
		busy[r.Name] = r.Busy
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var ids []string
	for id, x := range h.hosts {
		if (x.conn != nil || x.runner != "") && x.cancel != nil && x.spot && busy[h.runnerName(x)] {
			ids = append(ids, id)
		}
	}
	return ids
}

func (h *Hosts) readToken(ctx context.Context, x *host) (string, error) {
	name := fmt.Sprintf("/%s/runners/%s/tokens/%s", h.Prefix, x.config, x.id)
	deadline := time.Now().Add(tokenWaitTime)
	for {
		out, err := h.SSM.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
		if err == nil {
			if _, err := h.SSM.DeleteParameter(ctx, &ssm.DeleteParameterInput{Name: aws.String(name)}); err != nil {
				return "", fmt.Errorf("delete token: %w", err)
			}
			return aws.ToString(out.Parameter.Value), nil
		}
		var nf *ssmtypes.ParameterNotFound
		if !errors.As(err, &nf) && ctx.Err() == nil {
			h.Log.Debug("simulated host: token read failed", "instance_id", x.id, "error", err.Error())
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("token %s not there after %s", name, tokenWaitTime)
		}
		select {
		case <-time.After(tokenPoll):
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// powerOff is `shutdown -h now` with shutdown behaviour terminate.
func (h *Hosts) powerOff(x *host) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := h.EC2.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{x.id}}); err != nil {
		h.Log.Warn("simulated host: power off failed", "instance_id", x.id, "error", err.Error())
	}
}

// SetRealShare changes the share of new hosts that boot for real (a scenario's choice).
func (h *Hosts) SetRealShare(share float64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.RealShare = share
}

// OnlineAt reports when the runner named name came online.
func (h *Hosts) OnlineAt(name string) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.online[name]
	return t, ok
}

// TokenReadAt reports when instance id's host read its token: a Go host's record, or the
// "boot phase token" of a real boot's log.
func (h *Hosts) TokenReadAt(id string) (time.Time, bool) {
	h.mu.Lock()
	t, ok := h.tokenRead[id]
	h.mu.Unlock()
	if ok {
		return t, true
	}
	for _, b := range h.BootStats() {
		if b.InstanceID != id {
			continue
		}
		if p, _ := ParseBootPhases(b.Log); !p.Start.IsZero() && p.Token > 0 {
			return p.Start.Add(p.Token), true
		}
	}
	return time.Time{}, false
}

// Peak returns the most live (pending or running) instances seen at once, by runner config.
// Sampled every hostPoll: the cap checks in the E2E tests rely on it.
func (h *Hosts) Peak() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.peak)
}

// RunnerPeak returns the most live runners (live instances holding a registration) seen at
// once, by runner config: what max_runners bounds.
func (h *Hosts) RunnerPeak() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return maps.Clone(h.runnerPeak)
}

// SetCaps sets the maxima every later sample is checked against.
func (h *Hosts) SetCaps(caps map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.caps = maps.Clone(caps)
	if h.overCap == nil {
		h.overCap, h.overInst = map[string]int{}, map[string]int{}
	}
}

// CapSamples returns how many samples were taken (one per hostPoll) and, per runner config,
// how many had more live runners than its cap (over) and how many more live instances
// (overInstances: launches not yet given back by their re-count).
func (h *Hosts) CapSamples() (samples int, over, overInstances map[string]int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.samples, maps.Clone(h.overCap), maps.Clone(h.overInst)
}

// Stats returns a snapshot.
func (h *Hosts) Stats() HostStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stats
}

func (h *Hosts) count(f func(*HostStats)) {
	h.mu.Lock()
	f(&h.stats)
	h.mu.Unlock()
}

func tagValue(ts []ec2types.Tag, key string) string {
	for _, t := range ts {
		if strings.EqualFold(aws.ToString(t.Key), key) {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// bootReal runs x's real boot (BootEnv) until the instance is gone.
func (h *Hosts) bootReal(ctx context.Context, x *host, in ec2types.Instance) {
	err := h.Boot.realBoot(ctx, x, in, &h.mu, func(st BootStat) {
		h.mu.Lock()
		h.boots = append(h.boots, st)
		x.poweredOff = st.PoweredOff
		if x.failBoot && st.PoweredOff && !x.interrupted {
			h.stats.BootFailures++
		}
		h.mu.Unlock()
		if st.PoweredOff {
			h.powerOff(x)
		}
	})
	if err != nil && ctx.Err() == nil {
		h.Log.Warn("host: real boot could not start; powering off", "instance_id", x.id, "error", err.Error())
		h.powerOff(x)
	}
}

// runnerConnected is the runner service's OnConnect: a real host's runner opened a session.
func (h *Hosts) runnerConnected(r *http.Request, name string) {
	x, ok := r.Context().Value(hostKey{}).(*host)
	if !ok {
		return
	}
	h.mu.Lock()
	x.runner = name
	h.online[name] = time.Now()
	h.stats.Connected++
	if x.connected != nil {
		x.connected()
	}
	h.mu.Unlock()
}

// runnerBusy reports whether the simulator has runner name running a job. Caller holds mu.
func (h *Hosts) runnerBusy(name string) bool {
	for _, r := range h.Sim.Runners() {
		if r.Name == name {
			return r.Busy
		}
	}
	return false
}

// BootStats returns every finished real boot.
func (h *Hosts) BootStats() []BootStat {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.boots)
}
