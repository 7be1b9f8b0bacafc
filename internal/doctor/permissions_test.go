package doctor

import (
	"fmt"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
)

func TestNeededPermissions(t *testing.T) {
	org, repo := config.RunnerConfig{Level: "org"}, config.RunnerConfig{Level: "repo"}
	for _, c := range []struct {
		cfgs  []config.RunnerConfig
		users bool
		want  string
	}{
		{[]config.RunnerConfig{org}, false, "map[actions:write metadata:read organization_self_hosted_runners:write]"},
		{[]config.RunnerConfig{org}, true, "map[actions:write administration:write metadata:read organization_self_hosted_runners:write]"},
		{[]config.RunnerConfig{repo}, false, "map[actions:write administration:write metadata:read]"},
		{[]config.RunnerConfig{org, repo}, false, "map[actions:write administration:write metadata:read organization_self_hosted_runners:write]"},
		{[]config.RunnerConfig{{Level: "org", CapacityType: config.CapacityOnDemand}}, false, "map[actions:read metadata:read organization_self_hosted_runners:write]"},
	} {
		if got := fmt.Sprint(NeededPermissions(c.cfgs, c.users)); got != c.want {
			t.Errorf("NeededPermissions(%v, users=%v) = %s, want %s", c.cfgs, c.users, got, c.want)
		}
	}
}
