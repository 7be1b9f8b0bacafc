package scaledown

import (
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/tags"
)

const prefix = "ghr-"

var (
	t0    = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC) // a Monday
	octo  = Owner{Level: tags.TypeOrg, Name: "octo"}
	other = Owner{Level: tags.TypeOrg, Name: "other"}
)

func cfgs(cs ...config.RunnerConfig) map[string]*config.RunnerConfig {
	m := map[string]*config.RunnerConfig{}
	for i := range cs {
		c := cs[i]
		if c.BootMinutes == 0 {
			c.BootMinutes = 5
		}
		if c.MinRunningMinutes == 0 {
			c.MinRunningMinutes = 10
		}
		if c.IdleEviction == "" {
			c.IdleEviction = config.EvictOldestFirst
		}
		m[c.Key] = &c
	}
	return m
}

// inst is an instance of config "small" for octo launched age ago.
func inst(id string, age time.Duration) Instance {
	return Instance{ID: id, RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-age)}
}

func idle(id string, rid int64) Runner {
	return Runner{ID: rid, Name: prefix + id, Online: true}
}

func busy(id string, rid int64) Runner {
	return Runner{ID: rid, Name: prefix + id, Online: true, Busy: true}
}

func offline(id string, rid int64) Runner {
	return Runner{ID: rid, Name: prefix + id}
}

func state(c map[string]*config.RunnerConfig, insts []Instance, runners map[Owner][]Runner) State {
	return State{Now: t0, RunnerNamePrefix: prefix, Configs: c, Instances: insts, Runners: runners}
}

func removedIDs(p Plan) []string {
	var out []string
	for _, r := range p.Removals {
		out = append(out, r.Reason+":"+r.RunnerName)
	}
	return out
}

func TestDecideIdle(t *testing.T) {
	small := config.RunnerConfig{Key: "small"}
	window := func(cron, tz string, n int) []config.IdleWindow {
		return []config.IdleWindow{{Cron: cron, TimeZone: tz, IdleCount: n}}
	}
	three := []Instance{inst("i-a0000006", 60*time.Minute), inst("i-a0000007", 40*time.Minute), inst("i-a0000009", 20*time.Minute)}
	threeIdle := map[Owner][]Runner{octo: {idle("i-a0000006", 1), idle("i-a0000007", 2), idle("i-a0000009", 3)}}
	tests := []struct {
		name    string
		cfg     config.RunnerConfig
		insts   []Instance
		runners map[Owner][]Runner
		want    []string
	}{
		{"idle past minimum running time goes", small, []Instance{inst("i-a0000006", 11*time.Minute)},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}, []string{"idle:ghr-i-a0000006"}},
		{"idle at exactly the minimum running time goes", small, []Instance{inst("i-a0000006", 10*time.Minute)},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}, []string{"idle:ghr-i-a0000006"}},
		{"idle a second short of the minimum stays", small, []Instance{inst("i-a0000006", 10*time.Minute-time.Second)},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}, nil},
		{"busy never goes", small, []Instance{inst("i-a0000006", 10*time.Hour)},
			map[Owner][]Runner{octo: {busy("i-a0000006", 1)}}, nil},
		{"offline after boot goes as offline", small, []Instance{inst("i-a0000006", 30*time.Minute)},
			map[Owner][]Runner{octo: {offline("i-a0000006", 1)}}, []string{"offline:ghr-i-a0000006"}},
		{"registered, offline, still booting past the minimum running time stays", config.RunnerConfig{Key: "small", MinRunningMinutes: 1, BootMinutes: 3},
			[]Instance{inst("i-a0000006", 2*time.Minute)}, map[Owner][]Runner{octo: {offline("i-a0000006", 1)}}, nil},
		{"registered, offline past boot time goes as offline", config.RunnerConfig{Key: "small", MinRunningMinutes: 1, BootMinutes: 3},
			[]Instance{inst("i-a0000006", 3*time.Minute)}, map[Owner][]Runner{octo: {offline("i-a0000006", 1)}}, []string{"offline:ghr-i-a0000006"}},
		{"no idle window: all idle go", small, three, threeIdle, []string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007", "idle:ghr-i-a0000009"}},
		{"active window keeps newest with oldest_first", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1)},
			three, threeIdle, []string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007"}},
		{"active window keeps oldest with newest_first", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1), IdleEviction: config.EvictNewestFirst},
			three, threeIdle, []string{"idle:ghr-i-a0000009", "idle:ghr-i-a0000007"}},
		{"inactive window keeps none", config.RunnerConfig{Key: "small", IdleConfig: window("* 3 * * *", "UTC", 2)},
			three, threeIdle, []string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007", "idle:ghr-i-a0000009"}},
		{"young idle runner fills the kept slot", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1)},
			append(slices.Clone(three), inst("i-a000000a", 2*time.Minute)),
			map[Owner][]Runner{octo: {idle("i-a0000006", 1), idle("i-a0000007", 2), idle("i-a0000009", 3), offline("i-a000000a", 4)}},
			[]string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007", "idle:ghr-i-a0000009"}},
		{"booting unregistered instance fills the kept slot", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1)},
			append(slices.Clone(three), inst("i-a000000a", 2*time.Minute)), threeIdle,
			[]string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007", "idle:ghr-i-a0000009"}},
		{"offline runner never fills a kept slot", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1)},
			[]Instance{inst("i-a0000006", 60*time.Minute), inst("i-a0000007", 30*time.Minute)},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1), offline("i-a0000007", 2)}}, []string{"offline:ghr-i-a0000007"}},
		{"busy runners do not count as idle", config.RunnerConfig{Key: "small", IdleConfig: window("* * * * *", "UTC", 1)},
			three, map[Owner][]Runner{octo: {idle("i-a0000006", 1), busy("i-a0000007", 2), busy("i-a0000009", 3)}}, nil},
		{"pool size keeps idle runners of the pool owner", config.RunnerConfig{Key: "small", Level: "org", PoolSize: 2, PoolOwner: "octo"},
			three, threeIdle, []string{"idle:ghr-i-a0000006"}},
		{"pool size does not apply to another owner", config.RunnerConfig{Key: "small", Level: "org", PoolSize: 2, PoolOwner: "other"},
			three, threeIdle, []string{"idle:ghr-i-a0000006", "idle:ghr-i-a0000007", "idle:ghr-i-a0000009"}},
		{"protected instance is never removed", small, []Instance{{ID: "i-a0000006", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour), Protected: true}},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}, nil},
		{"owner not listed: nothing is decided", small, []Instance{inst("i-a0000006", time.Hour)}, map[Owner][]Runner{}, nil},
		{"unknown config uses the schema defaults", small, []Instance{{ID: "i-a0000006", RunnerConfig: "gone", Owner: octo, LaunchTime: t0.Add(-6 * time.Minute)}},
			map[Owner][]Runner{octo: {idle("i-a0000006", 1)}}, []string{"idle:ghr-i-a0000006"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Decide(state(cfgs(tt.cfg), tt.insts, tt.runners))
			if got := removedIDs(p); !slices.Equal(got, tt.want) {
				t.Errorf("removals = %v, want %v", got, tt.want)
			}
			if len(p.Terminate)+len(p.MarkOrphans) != 0 {
				t.Errorf("unexpected orphan actions: %+v", p)
			}
		})
	}
}

// The scale-down impostor: a same-named idle runner registered in another owner (or one
// whose id is not the instance's) must never stand for the instance. Today's main matched it
// by name, DELETEd the impostor (204) and terminated the busy victim.
func TestDecideIgnoresImpostorRegistrations(t *testing.T) {
	small := config.RunnerConfig{Key: "small"}
	victim := inst("i-a0000006", time.Hour)
	victim.RunnerID = 1
	p := Decide(state(cfgs(small), []Instance{victim}, map[Owner][]Runner{
		octo:  {busy("i-a0000006", 1)},
		other: {idle("i-a0000006", 2)},
	}))
	if !p.Empty() {
		t.Fatalf("a busy runner with an idle impostor elsewhere: plan %+v, want nothing", p)
	}

	// Same owner, another id: the instance's own registration is gone; the one holding its
	// name is not its own and is never removed.
	p = Decide(state(cfgs(small), []Instance{victim}, map[Owner][]Runner{octo: {idle("i-a0000006", 7)}}))
	if len(p.Removals) != 0 || !slices.Equal(p.MarkOrphans, []string{"i-a0000006"}) {
		t.Fatalf("registration with another id: plan %+v, want the instance marked orphan and no removal", p)
	}

	// A same-named registration only in another owner: the instance is unregistered where
	// it belongs; the impostor is neither removed nor a ghost (its name's instance runs).
	p = Decide(state(cfgs(small), []Instance{victim}, map[Owner][]Runner{octo: {}, other: {idle("i-a0000006", 2)}}))
	if len(p.Removals) != 0 || !slices.Equal(p.MarkOrphans, []string{"i-a0000006"}) {
		t.Fatalf("registration under another owner: plan %+v, want the instance marked orphan and no removal", p)
	}
}
