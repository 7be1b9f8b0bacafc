package scaledown

import (
	"cmp"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/tags"
)

// KeepIdle is how many idle runners of cfg the owner keeps at now: the largest idle_count of
// the active idle windows, and at least the warm pool's size for the config's pool owner so
// the pool and the scale-down never undo each other's work.
func KeepIdle(cfg *config.RunnerConfig, owner Owner, now time.Time) int {
	keep := 0
	for _, w := range cfg.IdleConfig {
		// Windows were validated when the configs were parsed; a window that still fails
		// keeps nothing rather than everything.
		if active, err := w.Active(now); err == nil && active {
			keep = max(keep, w.IdleCount)
		}
	}
	if cfg.PoolSize > 0 && owner.Level == tags.TypeOrg && owner.Name == cfg.PoolOwner {
		keep = max(keep, cfg.PoolSize)
	}
	return keep
}

// candidate is an idle (not busy) runner, or a booting instance not registered yet.
type candidate struct {
	inst      *Instance
	runner    *Runner // nil while booting unregistered
	owner     Owner   // where the registration lives
	available bool    // can take a job now or soon: online, or booting
}

// keepOrder sorts candidates so that the ones to keep come first: idle_eviction names who
// goes first, so oldest_first keeps the newest and newest_first keeps the oldest. Ties fall
// to the instance id so every pass decides the same way.
func keepOrder(cands []candidate, eviction string) {
	slices.SortFunc(cands, func(a, b candidate) int {
		c := a.inst.LaunchTime.Compare(b.inst.LaunchTime)
		if eviction != config.EvictNewestFirst {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(a.inst.ID, b.inst.ID))
	})
}
