package scaledown

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/tags"
)

// world is a small simulated deployment: instances, and GitHub's registrations per owner.
// Busy runners stay busy, so whatever should go must go within a few passes.
type world struct {
	now       time.Time
	configs   map[string]*config.RunnerConfig
	instances map[string]*Instance
	runners   map[Owner][]Runner
}

var propOwners = []Owner{octo, other, {Level: tags.TypeRepo, Name: "octo/app"}}

func randomWorld(r *rand.Rand) *world {
	w := &world{now: t0, instances: map[string]*Instance{}, runners: map[Owner][]Runner{}}
	windows := []config.IdleWindow{{Cron: "* * * * *", TimeZone: "UTC", IdleCount: r.IntN(3)}}
	w.configs = cfgs(
		config.RunnerConfig{Key: "a", MinRunningMinutes: 1 + r.IntN(20), BootMinutes: 1 + r.IntN(10)},
		config.RunnerConfig{Key: "b", MinRunningMinutes: 1 + r.IntN(20), BootMinutes: 1 + r.IntN(10), IdleConfig: windows, IdleEviction: config.EvictNewestFirst},
		config.RunnerConfig{Key: "c", Level: "org", PoolSize: r.IntN(3), PoolOwner: "octo"},
	)
	for _, o := range propOwners {
		w.runners[o] = []Runner{}
	}
	var nextRunner int64
	n := r.IntN(30)
	for i := range n {
		id := fmt.Sprintf("i-%08x", i)
		o := propOwners[r.IntN(len(propOwners))]
		in := &Instance{ID: id, RunnerConfig: []string{"a", "b", "c", "gone"}[r.IntN(4)], Owner: o,
			LaunchTime: t0.Add(-time.Duration(r.IntN(120)) * time.Minute), Protected: r.IntN(10) == 0}
		if r.IntN(5) == 0 {
			in.OrphanTag = t0.Add(-time.Duration(r.IntN(20)) * time.Minute).Format(time.RFC3339)
		}
		w.instances[id] = in
		if r.IntN(4) != 0 { // registered
			nextRunner++
			w.runners[o] = append(w.runners[o], Runner{ID: nextRunner, Name: prefix + id, Online: r.IntN(4) != 0, Busy: r.IntN(3) == 0})
		}
	}
	for range r.IntN(5) { // registrations whose instance is gone
		nextRunner++
		o := propOwners[r.IntN(len(propOwners))]
		w.runners[o] = append(w.runners[o], Runner{ID: nextRunner, Name: fmt.Sprintf("%si-dead%04x", prefix, nextRunner), Online: r.IntN(3) == 0, Busy: r.IntN(3) == 0})
	}
	return w
}

func (w *world) state(listed func(Owner) bool) State {
	s := State{Now: w.now, RunnerNamePrefix: prefix, Configs: w.configs, Runners: map[Owner][]Runner{}}
	for _, id := range slices.Sorted(maps.Keys(w.instances)) {
		s.Instances = append(s.Instances, *w.instances[id])
	}
	for o, rs := range w.runners {
		if listed(o) {
			s.Runners[o] = slices.Clone(rs)
		}
	}
	return s
}

func (w *world) busyRunner(owner Owner, id int64) bool {
	for _, r := range w.runners[owner] {
		if r.ID == id {
			return r.Busy
		}
	}
	return false
}

// listedBusy reports whether GitHub lists the instance's registration as busy anywhere.
func (w *world) listedBusy(instanceID string) bool {
	for _, rs := range w.runners {
		for _, r := range rs {
			if r.Name == prefix+instanceID && r.Busy {
				return true
			}
		}
	}
	return false
}

// apply carries a plan out the way the executor does, with GitHub refusing busy runners.
func (w *world) apply(p Plan) {
	for _, rm := range p.Removals {
		if w.busyRunner(rm.Owner, rm.RunnerID) {
			continue // 422: keep
		}
		w.runners[rm.Owner] = slices.DeleteFunc(w.runners[rm.Owner], func(r Runner) bool { return r.ID == rm.RunnerID })
		delete(w.instances, rm.InstanceID)
	}
	for _, id := range p.Terminate {
		delete(w.instances, id)
	}
	for _, id := range p.MarkOrphans {
		w.instances[id].OrphanTag = w.now.Format(time.RFC3339)
	}
	for _, id := range p.ClearOrphans {
		w.instances[id].OrphanTag = ""
	}
}

func TestPropertyNeverRemovesBusyAndConverges(t *testing.T) {
	const (
		states = 3000
		passes = 8 // enough for min running (20m) + boot (10m) + two orphan phases at 5-minute passes
	)
	r := rand.New(rand.NewPCG(1, 2))
	for n := range states {
		w := randomWorld(r)
		failing := propOwners[r.IntN(len(propOwners))]
		for pass := range passes {
			// The first passes also see a failed runner list for one owner.
			listed := func(o Owner) bool { return pass >= 2 || o != failing }
			s := w.state(listed)
			p := Decide(s)
			for _, rm := range p.Removals {
				if w.busyRunner(rm.Owner, rm.RunnerID) {
					t.Fatalf("state %d pass %d: removal of busy runner %+v", n, pass, rm)
				}
				if rm.InstanceID != "" && w.instances[rm.InstanceID].Protected {
					t.Fatalf("state %d pass %d: removal of protected instance %s", n, pass, rm.InstanceID)
				}
			}
			for _, id := range p.Terminate {
				if w.listedBusy(id) {
					t.Fatalf("state %d pass %d: terminate %s, which GitHub lists busy", n, pass, id)
				}
				if w.instances[id].Protected {
					t.Fatalf("state %d pass %d: terminate protected %s", n, pass, id)
				}
			}
			w.apply(p)
			w.now = w.now.Add(5 * time.Minute)
		}
		w.checkConverged(t, n)
	}
}

// checkConverged: after enough passes only busy, protected or kept idle instances remain,
// and no ghost registration is left.
func (w *world) checkConverged(t *testing.T, n int) {
	t.Helper()
	idle := map[groupKey]int{}
	for _, in := range w.instances {
		if in.Protected || w.listedBusy(in.ID) {
			continue
		}
		reg := false
		for _, r := range w.runners[in.Owner] {
			if r.Name == prefix+in.ID {
				reg = true
				if !r.Online {
					t.Fatalf("state %d: offline idle runner of %s left behind", n, in.ID)
				}
			}
		}
		if !reg {
			t.Fatalf("state %d: unregistered instance %s left behind", n, in.ID)
		}
		idle[groupKey{in.RunnerConfig, in.Owner}]++
	}
	for k, got := range idle {
		cfg, ok := w.configs[k.config]
		if !ok {
			cfg = &fallbackConfig
		}
		if keep := KeepIdle(cfg, k.owner, w.now); got > keep {
			t.Fatalf("state %d: %d idle runners of %v left, keep is %d", n, got, k, keep)
		}
	}
	for _, rs := range w.runners {
		for _, r := range rs {
			id, _ := tags.InstanceIDFromRunnerName(prefix, r.Name)
			if _, alive := w.instances[id]; !alive && !r.Busy && !r.Online {
				t.Fatalf("state %d: ghost %s left behind", n, r.Name)
			}
		}
	}
}
