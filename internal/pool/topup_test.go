package pool

import (
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/tags"
)

const prefix = "ghr-"

var (
	now   = time.Date(2024, 6, 3, 12, 0, 0, 0, time.UTC)
	octo  = scaledown.Owner{Level: tags.TypeOrg, Name: "octo"}
	other = scaledown.Owner{Level: tags.TypeOrg, Name: "other"}
)

func in(id string, owner scaledown.Owner, age time.Duration) scaledown.Instance {
	return scaledown.Instance{ID: id, RunnerConfig: "warm", Owner: owner, LaunchTime: now.Add(-age)}
}

func reg(id string, online, busy bool) scaledown.Runner {
	return scaledown.Runner{ID: 1, Name: prefix + id, Online: online, Busy: busy}
}

func TestTopUp(t *testing.T) {
	tests := []struct {
		name       string
		max        int
		insts      []scaledown.Instance
		runners    []scaledown.Runner
		idle, want int
	}{
		{"empty pool fills", -1, nil, nil, 0, 3},
		{"idle online runners count", -1, []scaledown.Instance{in("i-a", octo, time.Hour), in("i-b", octo, time.Hour)},
			[]scaledown.Runner{reg("i-a", true, false), reg("i-b", true, false)}, 2, 1},
		{"busy runners do not", -1, []scaledown.Instance{in("i-a", octo, time.Hour), in("i-b", octo, time.Hour)},
			[]scaledown.Runner{reg("i-a", true, true), reg("i-b", true, false)}, 1, 2},
		{"booting: unregistered or registered offline counts", -1,
			[]scaledown.Instance{in("i-a", octo, time.Minute), in("i-b", octo, 4*time.Minute+59*time.Second)},
			[]scaledown.Runner{reg("i-b", false, false)}, 2, 1},
		{"past boot: unregistered or offline does not count", -1,
			[]scaledown.Instance{in("i-a", octo, 5*time.Minute), in("i-b", octo, time.Hour)},
			[]scaledown.Runner{reg("i-b", false, false)}, 0, 3},
		{"full pool launches nothing", -1,
			[]scaledown.Instance{in("i-a", octo, time.Hour), in("i-b", octo, time.Hour), in("i-c", octo, time.Hour), in("i-d", octo, time.Hour)},
			[]scaledown.Runner{reg("i-a", true, false), reg("i-b", true, false), reg("i-c", true, false), reg("i-d", true, false)}, 4, 0},
		{"another owner's idle runners do not count, but count against max", 4,
			[]scaledown.Instance{in("i-a", other, time.Hour), in("i-b", other, time.Hour)},
			nil, 0, 2},
		{"max reached", 2, []scaledown.Instance{in("i-a", octo, time.Hour), in("i-b", octo, time.Hour)},
			[]scaledown.Runner{reg("i-a", true, true), reg("i-b", true, true)}, 0, 0},
		{"protected instances are not pool runners", -1,
			[]scaledown.Instance{{ID: "i-a", RunnerConfig: "warm", Owner: octo, LaunchTime: now.Add(-time.Hour), Protected: true}},
			[]scaledown.Runner{reg("i-a", true, false)}, 0, 3},
		{"other configs are not counted", 3,
			[]scaledown.Instance{{ID: "i-a", RunnerConfig: "cold", Owner: octo, LaunchTime: now.Add(-time.Hour)}},
			[]scaledown.Runner{reg("i-a", true, false)}, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.RunnerConfig{Key: "warm", Level: "org", PoolSize: 3, PoolOwner: "octo", BootMinutes: 5, MaxRunners: tt.max}
			c := TopUp(cfg, tt.insts, tt.runners, prefix, now)
			if c.Idle != tt.idle || c.Launch != tt.want {
				t.Errorf("TopUp = idle %d launch %d, want idle %d launch %d", c.Idle, c.Launch, tt.idle, tt.want)
			}
		})
	}
}
