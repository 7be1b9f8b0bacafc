// Package pool keeps warm runners: for every org-level runner config with a pool_size, a
// scheduled pass counts the idle runners of its pool owner and launches the shortfall
// through the scale-up launch path, never above max_runners.
//
// Idle means online and not busy, or still booting within boot_minutes (registered offline
// or not registered yet), so a pass does not launch again for runners that are on their way.
// The scale-down keeps pool_size idle runners of the pool owner (scaledown.KeepIdle), so the
// two never undo each other's work.
package pool

import (
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Count is one config's pool arithmetic, logged with every pass.
type Count struct {
	Config string `json:"config"`
	Owner  string `json:"owner"`
	Idle   int    `json:"idle"`
	Live   int    `json:"live"` // the config's instances across owners, counted against max_runners
	Launch int    `json:"launch"`
}

// TopUp decides how many runners to launch for cfg's pool. insts are the deployment's live
// instances, runners the pool owner's registrations.
func TopUp(cfg *config.RunnerConfig, insts []scaledown.Instance, runners []scaledown.Runner, prefix string, now time.Time) Count {
	c := Count{Config: cfg.Key, Owner: cfg.PoolOwner}
	byName := make(map[string]scaledown.Runner, len(runners))
	for _, r := range runners {
		byName[r.Name] = r
	}
	owner := scaledown.Owner{Level: tags.TypeOrg, Name: cfg.PoolOwner}
	boot := time.Duration(cfg.BootMinutes) * time.Minute
	for _, in := range insts {
		if in.RunnerConfig != cfg.Key {
			continue
		}
		c.Live++
		if in.Owner != owner || in.Protected {
			continue
		}
		r, registered := byName[tags.RunnerName(prefix, in.ID)]
		booting := now.Sub(in.LaunchTime) < boot
		switch {
		case registered && !r.Busy && (r.Online || booting):
			c.Idle++
		case !registered && booting:
			c.Idle++
		}
	}
	c.Launch = max(cfg.PoolSize-c.Idle, 0)
	if cfg.MaxRunners >= 0 {
		c.Launch = min(c.Launch, max(cfg.MaxRunners-c.Live, 0))
	}
	return c
}
