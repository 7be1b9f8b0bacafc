package pool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// Fleet lists the deployment's live instances.
type Fleet interface {
	List(ctx context.Context) ([]scaledown.Instance, error)
}

// Registrations lists an owner's runner registrations.
type Registrations interface {
	ListRunners(ctx context.Context, owner scaledown.Owner) ([]scaledown.Runner, error)
}

// Launcher starts and registers count org-level runners of cfg in owner, tagged as created
// by the pool, and returns the instance ids it started (some, even with an error).
type Launcher interface {
	Launch(ctx context.Context, cfg *config.RunnerConfig, org string, count int) ([]string, error)
}

var (
	_ Fleet         = scaledown.EC2{}
	_ Registrations = (*scaledown.GitHub)(nil)
	_ Launcher      = scaleup.PoolLauncher{}
)

// Pool runs scheduled top-up passes.
type Pool struct {
	Fleet            Fleet
	GitHub           Registrations
	Launcher         Launcher
	Configs          []config.RunnerConfig
	RunnerNamePrefix string
	Log              *slog.Logger
	Now              func() time.Time  // nil means time.Now
	Metrics          *metrics.Recorder // nil records nothing
	Drain            *drain.Switch     // operators' drain switch: drained pools are not topped up
}

// Run tops up every pool once. Lists are shared: one instance list per pass and one runner
// list per pool owner.
func (p *Pool) Run(ctx context.Context) ([]Count, error) {
	var pools []*config.RunnerConfig
	for i := range p.Configs {
		if c := &p.Configs[i]; c.PoolSize > 0 && c.Level == tags.TypeOrg && c.PoolOwner != "" {
			pools = append(pools, c)
		}
	}
	drained, err := p.Drain.Get(ctx)
	if err != nil {
		p.Log.Warn("drain switch unreadable; last value kept", logging.KeyError, err.Error())
	}
	pools = slices.DeleteFunc(pools, func(c *config.RunnerConfig) bool { return drained.Drained(c.Key) })
	if len(pools) == 0 {
		return nil, nil
	}
	insts, err := p.Fleet.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("pool: list instances: %w", err)
	}
	runners := map[string][]scaledown.Runner{}
	var counts []Count
	var errs []error
	for _, cfg := range pools {
		rs, listed := runners[cfg.PoolOwner]
		if !listed {
			rs, err = p.GitHub.ListRunners(ctx, scaledown.Owner{Level: tags.TypeOrg, Name: cfg.PoolOwner})
			if err != nil {
				// Without the list every pool runner would look missing: launching would overshoot.
				errs = append(errs, fmt.Errorf("pool %s: list runners of %s: %w", cfg.Key, cfg.PoolOwner, err))
				continue
			}
			runners[cfg.PoolOwner] = rs
		}
		c := TopUp(cfg, insts, rs, p.RunnerNamePrefix, p.now())
		log := p.Log.With(logging.KeyRunnerConfig, cfg.Key, logging.KeyOwner, cfg.PoolOwner, "idle", c.Idle, "live", c.Live, "pool_size", cfg.PoolSize)
		if c.Launch > 0 {
			ids, err := p.Launcher.Launch(ctx, cfg, cfg.PoolOwner, c.Launch)
			p.Metrics.Add(metrics.PoolLaunched, len(ids), cfg.Key)
			if err != nil {
				errs = append(errs, fmt.Errorf("pool %s: launch %d: %w", cfg.Key, c.Launch, err))
				log.Warn("pool top-up short", "wanted", c.Launch, "launched", len(ids), logging.KeyError, err.Error())
			} else {
				log.Info("pool topped up", "launched", len(ids))
			}
			c.Launch = len(ids)
		} else {
			log.Debug("pool full")
		}
		counts = append(counts, c)
	}
	return counts, errors.Join(errs...)
}

// Handle is the scheduled Lambda entry point: one pass, its counts logged and returned.
func (p *Pool) Handle(ctx context.Context) ([]Count, error) {
	counts, err := p.Run(ctx)
	p.Log.Info("pool pass done", "pools", counts)
	if err != nil {
		p.Log.Error("pool pass incomplete", logging.KeyError, err.Error())
	}
	return counts, err
}

func (p *Pool) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
