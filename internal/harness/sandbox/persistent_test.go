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
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/tags"
)

// examples/local's persistent config: non-ephemeral, minimum_running_minutes = 1, at most 3.
const (
	persistentConfig     = "persistent"
	persistentMaxRunners = 3
	persistentMinRunning = time.Minute
	persistentShortJob   = 2 * time.Second
	// persistentLongJob outlasts the minimum running time by a few scale-down passes (one
	// every 5 s at the sandbox's 60x), so passes run while its runner is busy and eligible,
	// and outlasts the short jobs' runners coming online up to a minute and a half later
	// (a loaded CI machine's staggered real boots, or a launch deferred by the secondary
	// limit a previous scenario spent; at 80 s a CI run saw the long job end first).
	persistentLongJob = 120 * time.Second
	// persistentMinBusyPasses: scale-down passes that must finish while the long job's runner
	// is busy and past its minimum running time, or the scenario proved nothing.
	persistentMinBusyPasses = 2
	persistentStepTimeout   = 30 * time.Second // jobs start, a reused runner takes a job
	// persistentTimeout bounds the whole scenario, long job included: real boots take ~30 s
	// each on a loaded 2-core CI machine, and two fresh CI runs ran out of 150 s while still
	// waiting for quiescence (their leftover listing then failed: Tokens -1).
	persistentTimeout = 6 * time.Minute
	persistentPoll    = 250 * time.Millisecond
)

// persistentLabels are the persistent config's labels, disjoint from small's and large's.
var persistentLabels = []string{"self-hosted", "linux", "persistent"}

// persistentScaleDown queues a long and two short jobs for the persistent config, then a
// third short one once the first two are done (an idle persistent runner takes it, no
// instance is launched). Past minimum_running_minutes scale-down must remove the idle runners
// (registration, then instance) while the long job's runner, busy, keeps its instance; once
// the long job ends that runner goes too and nothing is left.
func persistentScaleDown(t *testing.T, sb *Sandbox) {
	ctx, cancel := context.WithTimeout(context.Background(), persistentTimeout)
	defer cancel()
	start, before := time.Now(), sb.Hosts.Stats()
	scaleDown := sb.Wiring.Hosts[sb.Opts.Prefix+"-scale-down"]
	if scaleDown == nil {
		t.Fatalf("no scale-down function among %v", sortedKeys(sb.Wiring.Hosts))
	}
	queue := func(repo string, d time.Duration) int64 {
		j, err := sb.Sim.QueueJob(ghsim.JobSpec{Repo: repo, Labels: persistentLabels, Duration: d})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	// The long job is queued first so it is the oldest: the first runner online takes it.
	long := queue(simRepos[0], persistentLongJob)
	shorts := []int64{queue(simRepos[1], persistentShortJob), queue(simRepos[2], persistentShortJob)}

	waitFor(ctx, t, "the first jobs to finish", func() bool {
		l := sb.final(long)
		if l.Status == ghsim.StatusCompleted && !completed(sb, shorts...) {
			t.Fatalf("the long job ended before the short ones did: long %s, shorts %s; %s; lengthen it",
				jobTimes(l, start), jobTimes(sb.final(shorts[0]), start), jobTimes(sb.final(shorts[1]), start))
		}
		return l.Status == ghsim.StatusInProgress && completed(sb, shorts...)
	}, func() string {
		return "long " + jobTimes(sb.final(long), start) + ", shorts " + jobTimes(sb.final(shorts[0]), start) + "; " + jobTimes(sb.final(shorts[1]), start)
	})
	launched := persistentInstances(ctx, t, sb, start)
	longJob := sb.final(long)
	longInstance := instanceOf(longJob.RunnerName, launched)
	if longInstance == "" {
		t.Fatalf("long job runs on %q, not on a persistent instance launched by the scenario (%v)", longJob.RunnerName, launched)
	}
	// Three runners: the long job's and one short job's are org runners, the user repository's
	// is a repository runner; none can take another's job while the long one runs.
	if len(launched) != 3 {
		t.Fatalf("%d persistent instances launched for 3 jobs, want 3", len(launched))
	}
	checkExactLabels(t, sb, launched)
	longLaunch, err := launchTimes(ctx, sb, []string{longInstance})
	if err != nil || longLaunch[longInstance].IsZero() {
		t.Fatalf("launch time of %s: %v", longInstance, err)
	}
	eligible := longLaunch[longInstance].Add(persistentMinRunning)

	// A persistent runner stays after its job and takes the next one: no new instance.
	again := queue(simRepos[1], persistentShortJob)
	waitFor(ctx, t, "the reused runner's job", func() bool { return completed(sb, again) })
	if j := sb.final(again); instanceOf(j.RunnerName, launched) == "" || j.ID != again {
		t.Fatalf("job %d ran on %q: want a persistent runner that was already there", j.ID, j.RunnerName)
	}

	// Idle runners go once past the minimum running time; the busy one stays. Passes are
	// counted from the moment the busy runner is old enough to be removed if it were idle.
	busyPassesFrom := -1
	markEligible := func() {
		if busyPassesFrom < 0 && time.Now().After(eligible) {
			busyPassesFrom = scaleDown.Stats().Invocations
		}
	}
	waitFor(ctx, t, "scale-down to remove the idle runners", func() bool {
		markEligible()
		states := persistentInstances(ctx, t, sb, start)
		regs := registrations(sb, states)
		assertBusyKept(t, sb, long, longInstance, states, regs)
		for id, state := range states {
			if id != longInstance && (alive(state) || regs[id]) {
				return false
			}
		}
		return true
	})
	idleRemoved := time.Since(start)
	if sb.final(long).Status == ghsim.StatusCompleted {
		t.Fatalf("the long job ended before the idle runners were removed (%s): lengthen it", idleRemoved.Round(time.Second))
	}

	// The busy runner is kept through passes while it works, then goes once idle.
	waitFor(ctx, t, "the long job to finish", func() bool {
		markEligible()
		states := persistentInstances(ctx, t, sb, start)
		assertBusyKept(t, sb, long, longInstance, states, registrations(sb, states))
		return sb.final(long).Status == ghsim.StatusCompleted
	})
	busyPasses := scaleDown.Stats().Invocations - busyPassesFrom
	if busyPassesFrom < 0 || busyPasses < persistentMinBusyPasses {
		t.Errorf("%d scale-down passes ran while the long job's runner was busy past its minimum running time; want at least %d", busyPasses, persistentMinBusyPasses)
	}
	if j := sb.final(long); j.ID != long || j.Conclusion != ghsim.ConclusionSuccess || instanceOf(j.RunnerName, launched) != longInstance {
		t.Fatalf("long job: %+v; want it to succeed on its first runner, never re-run", j)
	}
	if left := sb.awaitQuiescence(ctx, nil); !left.Zero() {
		t.Fatalf("leftovers after the long job: %+v", left)
	}
	if states := persistentInstances(ctx, t, sb, start); len(states) != len(launched) || alive(states[longInstance]) {
		t.Fatalf("persistent instances at the end %v; want the %d launched, all terminated", states, len(launched))
	}
	after := sb.Hosts.Stats()
	if n := after.BusyKilled - before.BusyKilled; n != 0 {
		t.Fatalf("%d busy runners had their instance terminated", n)
	}
	if peak := sb.Hosts.Peak()[persistentConfig]; peak > persistentMaxRunners {
		t.Fatalf("%d persistent instances at once, maximum %d", peak, persistentMaxRunners)
	}
	t.Logf("persistent: %d instances for 4 jobs; idle runners removed after %s, %d scale-down passes kept the busy one, all gone after %s",
		len(launched), idleRemoved.Round(time.Second), busyPasses, time.Since(start).Round(time.Second))
}

// assertBusyKept fails the test if the long job's runner lost its registration or instance
// while the job runs.
func assertBusyKept(t *testing.T, sb *Sandbox, long int64, instance string, states map[string]ec2types.InstanceStateName, regs map[string]bool) {
	t.Helper()
	if sb.final(long).Status != ghsim.StatusInProgress {
		return // finished since the states were read
	}
	if !alive(states[instance]) || !regs[instance] {
		t.Errorf("busy runner's instance %s is %s, registered %t", instance, states[instance], regs[instance])
	}
}

// checkExactLabels: persistent runners register with a registration token; their labels
// must be the config's, without config.sh's defaults that would take small's jobs.
func checkExactLabels(t *testing.T, sb *Sandbox, launched map[string]ec2types.InstanceStateName) {
	t.Helper()
	for _, r := range sb.Sim.Runners() {
		if instanceOf(r.Name, launched) == "" {
			continue
		}
		got := slices.Sorted(slices.Values(r.Labels))
		if want := slices.Sorted(slices.Values(persistentLabels)); !slices.Equal(got, want) || r.Ephemeral {
			t.Errorf("runner %s: labels %v, ephemeral %t; want exactly %v, persistent", r.Name, r.Labels, r.Ephemeral, want)
		}
	}
}

// persistentInstances returns the persistent config's instances launched since start.
func persistentInstances(ctx context.Context, t *testing.T, sb *Sandbox, start time.Time) map[string]ec2types.InstanceStateName {
	t.Helper()
	out := map[string]ec2types.InstanceStateName{}
	ec := ec2.NewFromConfig(motoproc.HarnessConfig(sb.Moto))
	p := ec2.NewDescribeInstancesPaginator(ec, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:" + tags.Environment), Values: []string{sb.Opts.Prefix}},
		{Name: aws.String("tag:" + tags.RunnerConfig), Values: []string{persistentConfig}},
	}})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			for _, in := range r.Instances {
				if !aws.ToTime(in.LaunchTime).Before(start.Add(-time.Second)) && in.State != nil {
					out[aws.ToString(in.InstanceId)] = in.State.Name
				}
			}
		}
	}
	return out
}

// registrations reports which of the instances a GitHub runner registration names.
func registrations(sb *Sandbox, states map[string]ec2types.InstanceStateName) map[string]bool {
	out := map[string]bool{}
	for _, r := range sb.Sim.Runners() {
		if id := instanceOf(r.Name, states); id != "" {
			out[id] = true
		}
	}
	return out
}

// instanceOf returns the instance among ids whose runner is named name (tags.RunnerName).
func instanceOf(name string, ids map[string]ec2types.InstanceStateName) string {
	for id := range ids {
		if strings.HasSuffix(name, id) {
			return id
		}
	}
	return ""
}

func alive(s ec2types.InstanceStateName) bool {
	return s == ec2types.InstanceStateNamePending || s == ec2types.InstanceStateNameRunning
}

func completed(sb *Sandbox, ids ...int64) bool {
	for _, id := range ids {
		if sb.final(id).Status != ghsim.StatusCompleted {
			return false
		}
	}
	return true
}

// waitFor polls cond until it holds, failing the test when ctx ends first.
// jobTimes is j's status and when it was taken and ended, from start, for a failure's message.
func jobTimes(j ghsim.Job, start time.Time) string {
	at := func(x time.Time) string {
		if x.IsZero() {
			return "-"
		}
		return x.Sub(start).Round(time.Second).String()
	}
	return fmt.Sprintf("%d %s (runner %q online %s, started %s, completed %s)", j.ID, j.Status, j.RunnerName,
		at(j.RunnerOnlineAt), at(j.StartedAt), at(j.CompletedAt))
}

// waitFor polls cond until it holds; on timeout it fails with what, and with state's
// account of the scenario when given.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool, state ...func() string) {
	t.Helper()
	for !cond() {
		if t.Failed() {
			t.FailNow()
		}
		select {
		case <-ctx.Done():
			var b strings.Builder
			for _, f := range state {
				b.WriteString("; " + f())
			}
			t.Fatalf("timed out waiting for %s%s", what, b.String())
		case <-time.After(persistentPoll):
		}
	}
}
