package scaledown

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/tags"
)

// tokenGrace: a token parameter younger than this is never stale. EC2's instance list is
// eventually consistent, so a token written just after its launch may be listed before its
// instance is; every instance has read (and deleted) its token long before this.
const tokenGrace = 15 * time.Minute

// orphanConfirmAfter: the second orphan phase must come from a later pass, not from a pass
// that overlapped the one that set the tag.
const orphanConfirmAfter = time.Minute

// deadLaunchGrace: how long past its launching invocation's deadline an unregistered
// instance may still be waiting for that invocation's registration (clocks of two
// functions, the deadline's rounding up to the second).
const deadLaunchGrace = 30 * time.Second

// deadLaunch reports whether the invocation that launched inst ended without storing its
// registration (killed or starved between CreateFleet and registering): no runner will ever
// come of it, so it is not waited for as booting and holds no place in the warm pool. GitHub
// listing its registration (the tag call failed after storing it) overrides this.
func (i *Instance) deadLaunch(now time.Time) bool {
	return !i.Registered && !i.LaunchDeadline.IsZero() && !now.Before(i.LaunchDeadline.Add(deadLaunchGrace))
}

// fallbackConfig applies to instances whose runner config is no longer deployed: the schema
// defaults, no idle windows, no pool.
var fallbackConfig = config.RunnerConfig{MinRunningMinutes: 5, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}

type groupKey struct {
	config string
	owner  Owner
}

// nameKey finds a registration by owner and name: GitHub keeps runner names unique within
// one owner, never across owners.
type nameKey struct {
	owner Owner
	name  string
}

// Decide turns one pass's state into a plan. It is pure: same state, same plan.
func Decide(s State) Plan {
	var p Plan
	running := make(map[string]bool, len(s.Instances))
	for i := range s.Instances {
		running[s.Instances[i].ID] = true
	}
	owners := slices.SortedFunc(maps.Keys(s.Runners), compareOwners)
	// An instance's registration is the one in the instance's own owner: anyone who can
	// register a runner anywhere the App is installed can pick the same name elsewhere, and
	// acting on that one would DELETE the impostor and terminate a busy runner.
	byName := map[nameKey]*Runner{}
	for _, o := range owners {
		rs := s.Runners[o]
		for i := range rs {
			byName[nameKey{o, rs[i].Name}] = &rs[i]
		}
	}

	insts := make([]*Instance, len(s.Instances))
	for i := range s.Instances {
		insts[i] = &s.Instances[i]
	}
	slices.SortFunc(insts, func(a, b *Instance) int { return cmp.Compare(a.ID, b.ID) })

	groups := map[groupKey][]candidate{}
	for _, inst := range insts {
		if inst.Protected {
			continue
		}
		cfg := s.config(inst.RunnerConfig)
		booting := s.Now.Sub(inst.LaunchTime) < minutes(cfg.BootMinutes)
		reg, registered := byName[nameKey{inst.Owner, tags.RunnerName(s.RunnerNamePrefix, inst.ID)}]
		if registered && inst.RunnerID > 0 && reg.ID != inst.RunnerID {
			// Its own registration is gone and another took its name: not the instance's.
			registered = false
		}
		_, ownerListed := s.Runners[inst.Owner]
		switch {
		case registered:
			if inst.OrphanTag != "" {
				p.ClearOrphans = append(p.ClearOrphans, inst.ID)
			}
			if reg.Busy {
				continue
			}
			k := groupKey{inst.RunnerConfig, inst.Owner}
			groups[k] = append(groups[k], candidate{inst: inst, runner: reg, owner: inst.Owner, available: reg.Online || booting})
		case !ownerListed && inst.Owner.Valid():
			// No list for its owner this pass: it may be registered and busy there.
		case booting && !inst.deadLaunch(s.Now):
			if inst.Owner.Valid() {
				k := groupKey{inst.RunnerConfig, inst.Owner}
				groups[k] = append(groups[k], candidate{inst: inst, owner: inst.Owner, available: true})
			}
		default:
			p.orphan(inst, s.Now)
		}
	}

	keys := slices.SortedFunc(maps.Keys(groups), func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.config, b.config), cmp.Compare(a.owner.Level, b.owner.Level), cmp.Compare(a.owner.Name, b.owner.Name))
	})
	for _, k := range keys {
		cfg := s.config(k.config)
		p.Removals = append(p.Removals, idleRemovals(groups[k], cfg, k.owner, s)...)
	}
	// An instance on its way out keeps its tag: clearing it would be a wasted call.
	leaving := make(map[string]bool, len(p.Removals))
	for _, r := range p.Removals {
		leaving[r.InstanceID] = true
	}
	p.ClearOrphans = slices.DeleteFunc(p.ClearOrphans, func(id string) bool { return leaving[id] })

	for _, o := range owners {
		for _, r := range s.Runners[o] {
			id, ours := tags.InstanceIDFromRunnerName(s.RunnerNamePrefix, r.Name)
			if ours && !running[id] && !r.Online && !r.Busy {
				p.Removals = append(p.Removals, Removal{Owner: o, RunnerID: r.ID, RunnerName: r.Name, Reason: ReasonGhost})
			}
		}
	}

	for _, t := range s.Tokens {
		if !running[t.InstanceID] && (s.Now.Sub(t.Modified) >= tokenGrace || s.Ended[t.InstanceID]) {
			p.DeleteTokens = append(p.DeleteTokens, t.Name)
		}
	}
	return p
}

// idleRemovals keeps the configured number of available idle runners of one group and
// removes the rest that are past the minimum running time.
func idleRemovals(cands []candidate, cfg *config.RunnerConfig, owner Owner, s State) []Removal {
	keepOrder(cands, cfg.IdleEviction)
	keep := KeepIdle(cfg, owner, s.Now)
	var out []Removal
	for _, c := range cands {
		if c.available && keep > 0 {
			keep--
			continue
		}
		if c.runner == nil || s.Now.Sub(c.inst.LaunchTime) < minutes(cfg.MinRunningMinutes) {
			continue
		}
		if !c.runner.Online && c.available {
			// Registered and still within boot_minutes: its runner has not connected yet and
			// may still take its job. Removing it would leave the job to a re-check and a new
			// boot (the sandbox's loaded boots outlast a 1-minute minimum running time).
			continue
		}
		reason := ReasonIdle
		if !c.runner.Online {
			reason = ReasonOffline
		}
		out = append(out, Removal{Owner: c.owner, RunnerID: c.runner.ID, RunnerName: c.runner.Name, InstanceID: c.inst.ID, Reason: reason})
	}
	// Eviction order: if a pass runs out of time, the ones idle_eviction names go first.
	slices.Reverse(out)
	return out
}

// orphan applies the two phases to an unregistered instance past its boot time.
func (p *Plan) orphan(inst *Instance, now time.Time) {
	marked, err := time.Parse(time.RFC3339, inst.OrphanTag)
	switch {
	case inst.OrphanTag == "" || err != nil:
		p.MarkOrphans = append(p.MarkOrphans, inst.ID)
	case now.Sub(marked) >= orphanConfirmAfter:
		p.Terminate = append(p.Terminate, inst.ID)
	}
}

func (s *State) config(key string) *config.RunnerConfig {
	if c, ok := s.Configs[key]; ok {
		return c
	}
	return &fallbackConfig
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }
