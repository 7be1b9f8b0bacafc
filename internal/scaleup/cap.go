package scaleup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/runner"
)

// ErrOverCap says hosts a launch started were terminated before registration because
// concurrent launches had already filled the runner config's max_runners. Waiting fixes it.
var ErrOverCap = errors.New("runner config at max_runners after concurrent launches")

// Excess returns the hosts of mine that lie beyond max: registered hosts first, then by
// launch time, a host of mine after any other launched in the same second, then by id.
// Concurrent launches that each counted the same free slots thus keep at most max between
// them: a launch whose re-count missed another's hosts re-counted before they existed, so
// they launched no earlier than its own (EC2's launch time has whole seconds), and the later
// re-count ranks them behind. Ranking ties by id instead let both keep (one listing without
// the other's host, the other's id first). Two launches in one second that see each other
// may both give back: a retry, never a runner over the cap. A registered host is never
// excess, since only a host that survived this check gets registered. Hosts of mine the
// listing does not show yet (eventual consistency) rank last. max < 0 is unlimited.
func Excess(live []Runner, mine []string, max int) []string {
	if max < 0 {
		return nil
	}
	byID := make(map[string]Runner, len(live)+len(mine))
	for _, r := range live {
		byID[r.ID] = r
	}
	all := slices.Clone(live)
	unseen := map[string]bool{}
	for _, id := range mine {
		if _, ok := byID[id]; !ok {
			unseen[id] = true
			all = append(all, Runner{ID: id})
		}
	}
	own := map[string]bool{}
	for _, id := range mine {
		own[id] = true
	}
	slices.SortFunc(all, func(a, b Runner) int {
		return cmp.Or(
			-cmp.Compare(boolInt(a.Registered), boolInt(b.Registered)),
			cmp.Compare(boolInt(unseen[a.ID]), boolInt(unseen[b.ID])),
			a.LaunchTime.Truncate(time.Second).Compare(b.LaunchTime.Truncate(time.Second)),
			cmp.Compare(boolInt(own[a.ID]), boolInt(own[b.ID])),
			cmp.Compare(a.ID, b.ID),
		)
	})
	var out []string
	for i, r := range all {
		if i >= max && own[r.ID] && !r.Registered {
			out = append(out, r.ID)
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// enforceCap re-counts the runner config's hosts after a launch and terminates, before any
// is registered, the new hosts beyond max_runners (Excess). A re-count that fails gives back
// every new host: the cap holds even when the count cannot be confirmed. It returns the
// hosts kept and why any were given back.
func (l *Launcher) enforceCap(ctx context.Context, spec runner.LaunchSpec, ids []string) ([]string, error) {
	if spec.Config.MaxRunners < 0 || len(ids) == 0 {
		return ids, nil
	}
	drop := ids
	live, err := l.Compute.Runners(ctx, spec.Config.Key)
	if err != nil {
		err = fmt.Errorf("re-count %s after launch: %w", spec.Config.Key, err)
	} else if drop = Excess(live, ids, spec.Config.MaxRunners); len(drop) > 0 {
		err = fmt.Errorf("%w: %d of %d new hosts given back", ErrOverCap, len(drop), len(ids))
	}
	if len(drop) == 0 {
		return ids, nil
	}
	l.logger().Warn("launch over max_runners", logging.KeyRunnerConfig, spec.Config.Key, "instance_ids", drop, logging.KeyError, err.Error())
	if terr := l.terminate(ctx, drop); terr != nil {
		err = errors.Join(err, terr)
	}
	return slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return slices.Contains(drop, id) }), err
}
