package reconcile

import (
	"maps"
	"testing"
	"time"
)

var now = time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)

func jobs(ids ...int64) []Job {
	out := make([]Job, len(ids))
	for i, id := range ids {
		out[i] = Job{ID: id, QueuedAt: now.Add(-10 * time.Minute)}
	}
	return out
}

func host(state HostState, took int64) Host {
	return Host{ID: "i-0123456789abcdef0", State: state, Took: took}
}

// TestDecide: the job's GitHub status, its hosts' states and whether a runner took another
// job in; one action per job out. "asks" is how many jobs the first pass sends to GitHub:
// the normal path (the job started on its runner, or a runner may still take it) asks none.
func TestDecide(t *testing.T) {
	const j, k = 7, 99 // the launch's job, and a job of another launch
	type st = map[int64]JobStatus
	tests := []struct {
		name   string
		check  int
		jobs   []Job
		hosts  []Host
		status st // GitHub's answers to the jobs the first pass asked about
		asks   int
		want   map[int64]Action
	}{
		{"normal path: the job started on its runner", 1, jobs(j), []Host{host(HostRegistered, j)}, nil, 0, map[int64]Action{j: Done}},
		{"the job started and its runner has finished and gone", 1, jobs(j), []Host{host(HostDead, j)}, nil, 0, map[int64]Action{j: Done}},
		{"runner still booting", 1, jobs(j), []Host{host(HostRegistered, 0)}, nil, 0, map[int64]Action{j: CheckLater}},
		{"registration mark missing, host alive", 1, jobs(j), []Host{host(HostAlive, 0)}, nil, 0, map[int64]Action{j: CheckLater}},
		// Why (1): the registered runner's instance died before taking its job.
		{"host died before taking the job, job queued", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusQueued}, 1, map[int64]Action{j: LaunchAgain}},
		{"host gone from EC2's listing, job queued", 2, jobs(j), []Host{host(HostMissing, 0)}, st{j: StatusQueued}, 1, map[int64]Action{j: LaunchAgain}},
		{"host died, the job ran elsewhere", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusInProgress}, 1, map[int64]Action{j: Done}},
		{"host died, the job is over (cancelled)", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusCompleted}, 1, map[int64]Action{j: Done}},
		{"host died, the job is gone", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusNotFound}, 1, map[int64]Action{j: Done}},
		{"host died, the job awaits approval", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusPending}, 1, map[int64]Action{j: CheckLater}},
		{"host died, GitHub did not answer", 1, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusUnknown}, 1, map[int64]Action{j: CheckLater}},
		// Why (2): another job took the runner.
		{"runner took another job, ours still queued", 1, jobs(j), []Host{host(HostRegistered, k)}, st{j: StatusQueued}, 1, map[int64]Action{j: LaunchAgain}},
		{"runner took another job, ours served by another runner", 1, jobs(j), []Host{host(HostRegistered, k)}, st{j: StatusInProgress}, 1, map[int64]Action{j: Done}},
		{"runner took another job and finished it", 3, jobs(j), []Host{host(HostDead, k)}, st{j: StatusQueued}, 1, map[int64]Action{j: LaunchAgain}},
		{"last check, runner idle, job queued", MaxChecks, jobs(j), []Host{host(HostRegistered, 0)}, st{j: StatusQueued}, 1, map[int64]Action{j: GiveUp}},
		{"last check, runner idle, job served elsewhere", MaxChecks, jobs(j), []Host{host(HostRegistered, 0)}, st{j: StatusInProgress}, 1, map[int64]Action{j: Done}},
		{"last check, host dead, job queued", MaxChecks, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusQueued}, 1, map[int64]Action{j: LaunchAgain}},
		{"last check, job awaits approval", MaxChecks, jobs(j), []Host{host(HostDead, 0)}, st{j: StatusPending}, 1, map[int64]Action{j: GiveUp}},
		{"older than GitHub keeps a job", 2, []Job{{ID: j, QueuedAt: now.Add(-25 * time.Hour)}}, []Host{host(HostDead, 0)}, nil, 0, map[int64]Action{j: GiveUp}},
		{"relaunched too often", 1, []Job{{ID: j, QueuedAt: now.Add(-time.Hour), Relaunches: MaxRelaunches}}, []Host{host(HostDead, 0)}, st{j: StatusQueued}, 1, map[int64]Action{j: GiveUp}},
		// Launches of several jobs: any host may take any of them.
		{"hosts took each other's jobs", 1, jobs(1, 2), []Host{host(HostRegistered, 2), host(HostDead, 1)}, nil, 0, map[int64]Action{1: Done, 2: Done}},
		{"one started, the other's host died", 1, jobs(1, 2), []Host{host(HostRegistered, 2), host(HostDead, 0)}, st{1: StatusQueued}, 1, map[int64]Action{1: LaunchAgain, 2: Done}},
		{"one idle host for two queued jobs: the second is launched again", 1, jobs(1, 2), []Host{host(HostRegistered, 0), host(HostDead, 0)},
			st{1: StatusQueued, 2: StatusQueued}, 2, map[int64]Action{1: CheckLater, 2: LaunchAgain}},
		{"one idle host, one job served elsewhere", 1, jobs(1, 2), []Host{host(HostRegistered, 0), host(HostDead, 0)},
			st{1: StatusInProgress, 2: StatusQueued}, 2, map[int64]Action{1: Done, 2: CheckLater}},
		{"one idle host, the first job queued", 1, jobs(1, 2), []Host{host(HostRegistered, 0), host(HostDead, 0)},
			st{1: StatusQueued, 2: StatusCompleted}, 2, map[int64]Action{1: CheckLater, 2: Done}},
		{"both idle hosts may still take both", 1, jobs(1, 2), []Host{host(HostRegistered, 0), host(HostAlive, 0)}, nil, 0, map[int64]Action{1: CheckLater, 2: CheckLater}},
		{"every host busy elsewhere or dead", 2, jobs(1, 2, 3), []Host{host(HostRegistered, k), host(HostDead, 0), host(HostMissing, 0)},
			st{1: StatusQueued, 2: StatusInProgress, 3: StatusQueued}, 3, map[int64]Action{1: LaunchAgain, 2: Done, 3: LaunchAgain}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			decideTwice(t, Input{Check: tc.check, Jobs: tc.jobs, Hosts: tc.hosts, Now: now}, tc.status, tc.asks, tc.want)
		})
	}
}

// decideTwice runs Decide as clean-up does: a first pass, then with GitHub's answers to the
// jobs it asked about. It checks the number asked and the final actions, and returns the
// final outcomes.
func decideTwice(t *testing.T, in Input, status map[int64]JobStatus, asks int, want map[int64]Action) []Outcome {
	t.Helper()
	n := 0
	for _, o := range Decide(in) {
		if o.Action == Ask {
			n++
		}
	}
	if n != asks {
		t.Fatalf("first pass asks GitHub about %d jobs, want %d", n, asks)
	}
	in.Status = status
	outs := Decide(in)
	got := map[int64]Action{}
	for _, o := range outs {
		if _, dup := got[o.JobID]; dup {
			t.Fatalf("two outcomes for job %d", o.JobID)
		}
		got[o.JobID] = o.Action
	}
	if !maps.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	return outs
}

func TestDelay(t *testing.T) {
	var sum time.Duration
	want := []time.Duration{4 * time.Minute, 8 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute, 15 * time.Minute}
	for n := 1; n <= MaxChecks; n++ {
		d := Delay(n, 0)
		if d != want[n-1] {
			t.Fatalf("Delay(%d) = %s, want %s", n, d, want[n-1])
		}
		sum += d
	}
	if sum < time.Hour {
		t.Fatalf("the checks span %s: shorter than scale-down takes to remove an idle runner and an hour of margin", sum)
	}
	if d := Delay(3, 20*time.Second); d != 80*time.Second {
		t.Fatalf("Delay(3, 20s) = %s", d)
	}
}

func TestStatusOf(t *testing.T) {
	for s, want := range map[string]JobStatus{"queued": StatusQueued, "in_progress": StatusInProgress, "completed": StatusCompleted,
		"waiting": StatusPending, "requested": StatusPending, "pending": StatusPending, "": StatusUnknown, "bogus": StatusUnknown} {
		if got := StatusOf(s); got != want {
			t.Errorf("StatusOf(%q) = %s, want %s", s, got, want)
		}
	}
}

// TestDecideAcrossLaunches: runners of one config and owner are interchangeable, so a host of
// another launch may have taken this launch's job (Taken) or may still take it (Spare). A
// launch whose host took another launch's job is not short of a runner while that launch's
// host is still booting: launching again would leave one host too many (the demo launched 21
// hosts for 20 jobs).
func TestDecideAcrossLaunches(t *testing.T) {
	const j, k = 7, 99
	type st = map[int64]JobStatus
	tests := []struct {
		name   string
		check  int
		jobs   []Job
		hosts  []Host
		taken  []int64
		spare  int
		status st
		asks   int
		want   map[int64]Action
		used   int
	}{
		{"another launch's host took the job and finished", 1, jobs(j), []Host{host(HostDead, k)}, []int64{j}, 0, nil, 0, map[int64]Action{j: Done}, 0},
		{"the hosts swapped jobs, the other still booting", 1, jobs(j), []Host{host(HostRegistered, k)}, nil, 1, nil, 0, map[int64]Action{j: CheckLater}, 1},
		{"host dead, a spare host may take the job", 1, jobs(j), []Host{host(HostDead, 0)}, nil, 1, nil, 0, map[int64]Action{j: CheckLater}, 1},
		{"own idle host first: no spare counted on", 1, jobs(j), []Host{host(HostRegistered, 0)}, nil, 3, nil, 0, map[int64]Action{j: CheckLater}, 0},
		{"two queued, one spare: one launched again", 2, jobs(1, 2), []Host{host(HostDead, 0), host(HostDead, 0)}, nil, 1,
			st{1: StatusQueued, 2: StatusQueued}, 2, map[int64]Action{1: CheckLater, 2: LaunchAgain}, 1},
		{"one own idle, one spare, three queued", 2, jobs(1, 2, 3), []Host{host(HostRegistered, 0), host(HostDead, 0), host(HostDead, 0)}, nil, 1,
			st{1: StatusQueued, 2: StatusQueued, 3: StatusQueued}, 3, map[int64]Action{1: CheckLater, 2: CheckLater, 3: LaunchAgain}, 1},
		{"last check: a spare host does not save a queued job", MaxChecks, jobs(j), []Host{host(HostDead, 0)}, nil, 1,
			st{j: StatusQueued}, 1, map[int64]Action{j: GiveUp}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Check: tc.check, Jobs: tc.jobs, Hosts: tc.hosts, Spare: tc.spare, Now: now, Taken: map[int64]bool{}}
			for _, id := range tc.taken {
				in.Taken[id] = true
			}
			outs := decideTwice(t, in, tc.status, tc.asks, tc.want)
			if u := SpareUsed(outs); u != tc.used {
				t.Fatalf("SpareUsed = %d, want %d", u, tc.used)
			}
		})
	}
}

func TestSpare(t *testing.T) {
	live := []Host{
		{ID: "i-own", State: HostRegistered, Config: "small", Owner: "octo"},
		{ID: "i-a", State: HostRegistered, Config: "small", Owner: "octo"},                             // spare
		{ID: "i-b", State: HostAlive, Config: "small", Owner: "octo", Deadline: now.Add(time.Minute)},  // still registering: spare
		{ID: "i-c", State: HostAlive, Config: "small", Owner: "octo", Deadline: now.Add(-time.Minute)}, // never registered
		{ID: "i-d", State: HostRegistered, Config: "small", Owner: "octo", Took: 5},                    // busy
		{ID: "i-e", State: HostRegistered, Config: "large", Owner: "octo"},                             // other labels
		{ID: "i-f", State: HostRegistered, Config: "small", Owner: "octo/app"},                         // repo runner: not our jobs
	}
	if n := Spare(live, []string{"i-own"}, "small", "octo", now); n != 2 {
		t.Fatalf("Spare = %d, want 2", n)
	}
}
