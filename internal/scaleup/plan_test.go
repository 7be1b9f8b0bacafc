package scaleup

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
)

func msg(id int64, cfg, owner string, queuedAt int) Message {
	return Message{ID: fmt.Sprintf("m%d", id), ReceiveCount: 1, Job: queue.Job{
		V: queue.Version, JobID: id, Repo: owner + "/r", Owner: owner, Level: queue.LevelOrg, RunnerConfig: cfg,
		Labels: []string{"self-hosted"}, QueuedAt: time.Unix(int64(queuedAt), 0),
	}}
}

func cfgs(cs ...config.RunnerConfig) map[string]*config.RunnerConfig {
	out := map[string]*config.RunnerConfig{}
	for i := range cs {
		out[cs[i].Key] = &cs[i]
	}
	return out
}

func ids(ms []Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func TestTriage(t *testing.T) {
	configs := cfgs(config.RunnerConfig{Key: "a"})
	verdicts := map[string]Verdict{}
	dup := msg(1, "a", "o", 0)
	dup.ID = "m1-again"
	keep := Triage([]Message{msg(1, "a", "o", 0), msg(2, "gone", "o", 0), dup, msg(3, "a", "o", 0)}, configs, verdicts)
	if got := ids(keep); !slices.Equal(got, []string{"m1", "m3"}) {
		t.Fatalf("kept %v, want the first message of each job with a config", got)
	}
	want := map[string]Verdict{"m2": UnknownConfig, "m1-again": Duplicate}
	if !maps.Equal(verdicts, want) {
		t.Fatalf("verdicts %v, want %v", verdicts, want)
	}
}

func TestMarkServed(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	reg := func(ids ...int64) Runner { return Runner{JobIDs: ids, Registered: true} }
	tests := []struct {
		name    string
		runners []Runner
		want    []string // kept
	}{
		{"no runners", nil, []string{"m1", "m2", "m3", "m4"}},
		{"whole fleet alive", []Runner{reg(1, 2, 3), reg(1, 2, 3), reg(1, 2, 3)}, []string{"m4"}},
		{"two of three alive: the first two jobs are served", []Runner{reg(1, 2, 3), reg(1, 2, 3)}, []string{"m3", "m4"}},
		{"unsorted tag read as sorted", []Runner{reg(3, 1, 2)}, []string{"m2", "m3", "m4"}},
		{"job retried into a second fleet", []Runner{reg(1, 3), reg(3)}, []string{"m2", "m4"}},
		{"pool runners serve no job", []Runner{reg(), reg()}, []string{"m1", "m2", "m3", "m4"}},
		{"registered long ago", []Runner{{JobIDs: []int64{1}, Registered: true, LaunchTime: now.Add(-time.Hour)}}, []string{"m2", "m3", "m4"}},
		{"unregistered before its launch deadline", []Runner{{JobIDs: []int64{1}, LaunchTime: now.Add(-time.Minute), Deadline: now.Add(time.Second)}}, []string{"m2", "m3", "m4"}},
		// The launching invocation had 12 s left: 30 s later it is over, however long the
		// invocation reading the listing may run.
		{"unregistered past its launch deadline", []Runner{{JobIDs: []int64{1}, LaunchTime: now.Add(-30 * time.Second), Deadline: now.Add(-18 * time.Second)}}, []string{"m1", "m2", "m3", "m4"}},
		{"no recorded deadline: Lambda's longest timeout", []Runner{{JobIDs: []int64{1}, LaunchTime: now.Add(-time.Minute)}}, []string{"m2", "m3", "m4"}},
		{"no recorded deadline, launched an hour ago", []Runner{{JobIDs: []int64{1}, LaunchTime: now.Add(-time.Hour)}}, []string{"m1", "m2", "m3", "m4"}},
		// ghr:took-job, set by clean-up from the in_progress event.
		{"runner took another launch's job: its own job has no runner", []Runner{{JobIDs: []int64{1}, Registered: true, Took: 99}}, []string{"m1", "m2", "m3", "m4"}},
		{"runner took the second job of its list", []Runner{{JobIDs: []int64{1, 2}, Registered: true, Took: 2}}, []string{"m1", "m3", "m4"}},
		{"one runner took the second job, the other is idle", []Runner{{JobIDs: []int64{1, 2}, Registered: true, Took: 2}, reg(1, 2)}, []string{"m3", "m4"}},
		{"dead host does not count towards the fleet", []Runner{
			{JobIDs: []int64{1, 2}, Registered: true, LaunchTime: now.Add(-time.Hour)},
			{JobIDs: []int64{1, 2}, LaunchTime: now.Add(-time.Hour), Deadline: now.Add(-45 * time.Minute)},
		}, []string{"m2", "m3", "m4"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			verdicts := map[string]Verdict{}
			msgs := []Message{msg(1, "a", "o", 0), msg(2, "a", "o", 0), msg(3, "a", "o", 0), msg(4, "a", "o", 0)}
			keep := MarkServed(msgs, map[string][]Runner{"a": tc.runners, "b": {reg(4)}}, now, verdicts)
			if got := ids(keep); !slices.Equal(got, tc.want) {
				t.Fatalf("kept %v, want %v", got, tc.want)
			}
			for id, v := range verdicts {
				if v != Served || slices.Contains(tc.want, id) {
					t.Fatalf("verdict %s=%s", id, v)
				}
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	unlimited := config.RunnerConfig{Key: "u", MaxRunners: -1, Labels: []string{"self-hosted", "u"}}
	capped := config.RunnerConfig{Key: "c", MaxRunners: 3, Labels: []string{"c"}}
	exact := config.RunnerConfig{Key: "x", MaxRunners: -1, UseJobLabels: true, Labels: []string{"x"}}
	configs := cfgs(unlimited, capped, exact)

	t.Run("cap: oldest first, rest over cap", func(t *testing.T) {
		verdicts := map[string]Verdict{}
		groups := Allocate([]Message{msg(10, "c", "o", 5), msg(11, "c", "o", 1), msg(12, "c", "p", 3)}, configs, map[string]int{"c": 1}, verdicts)
		if len(groups) != 2 || !slices.Equal(groups[0].JobIDs(), []int64{11}) || !slices.Equal(groups[1].JobIDs(), []int64{12}) {
			t.Fatalf("groups %+v, want o:[11] and p:[12]", groups)
		}
		if verdicts["m10"] != OverCap || verdicts["m11"] != Launch || verdicts["m12"] != Launch {
			t.Fatalf("verdicts %v", verdicts)
		}
	})
	t.Run("over the cap already", func(t *testing.T) {
		verdicts := map[string]Verdict{}
		if groups := Allocate([]Message{msg(1, "c", "o", 0)}, configs, map[string]int{"c": 5}, verdicts); len(groups) != 0 || verdicts["m1"] != OverCap {
			t.Fatalf("groups %v verdicts %v", groups, verdicts)
		}
	})
	t.Run("unlimited, large group split into tag-sized launches", func(t *testing.T) {
		var msgs []Message
		for i := range 30 {
			msgs = append(msgs, msg(int64(100-i), "u", "o", i))
		}
		msgs[7].Job.InstallationID = 42
		groups := Allocate(msgs, configs, map[string]int{"u": 1000}, map[string]Verdict{})
		var sizes []int
		for _, g := range groups {
			sizes = append(sizes, len(g.Jobs))
			if !slices.IsSorted(g.JobIDs()) || g.Owner != (runner.Owner{Name: "o", Level: "org", InstallationID: 42}) || !slices.Equal(g.Labels, unlimited.Labels) {
				t.Fatalf("group %+v: want ascending ids, the owner with its installation, the config's labels", g)
			}
		}
		if !slices.Equal(sizes, []int{maxJobsPerLaunch, maxJobsPerLaunch, 30 - 2*maxJobsPerLaunch}) {
			t.Fatalf("launch sizes %v", sizes)
		}
	})
	t.Run("job labels: one launch per label set", func(t *testing.T) {
		a, b, c := msg(1, "x", "o", 0), msg(2, "x", "o", 0), msg(3, "x", "o", 0)
		a.Job.Labels, b.Job.Labels, c.Job.Labels = []string{"x", "A100"}, []string{"x"}, []string{"a100", "X", "x"}
		groups := Allocate([]Message{a, b, c}, configs, nil, map[string]Verdict{})
		if len(groups) != 2 {
			t.Fatalf("groups %+v, want 2", groups)
		}
		for _, g := range groups {
			switch {
			case slices.Equal(g.JobIDs(), []int64{1, 3}) && slices.Equal(g.Labels, []string{"A100", "x"}):
			case slices.Equal(g.JobIDs(), []int64{2}) && slices.Equal(g.Labels, []string{"x"}):
			default:
				t.Fatalf("unexpected group %v labels %v", g.JobIDs(), g.Labels)
			}
		}
	})
}

func TestVerdictRetry(t *testing.T) {
	retried := map[Verdict]bool{OverCap: true, Failed: true, Launch: true}
	for v := Launch; v <= Failed; v++ {
		if v.Retry() != retried[v] {
			t.Errorf("%s.Retry() = %v", v, v.Retry())
		}
	}
}
