package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// benchApps is the several-App burst's App count (issue 19): four Apps' budgets carry 500 JIT
// configs in well under a minute (the org endpoint's 334 need (1670-416)/1664 min = 45 s).
const benchApps = 4

// BenchmarkSandboxBurstApps4 is BenchmarkSandboxBurst with four GitHub Apps installed on every
// owner (github_apps): scale-up spreads JIT configs over them (githubapp.Choose), each App
// within its own budget. It reports the same figures and ceiling-shortfall-%.
func BenchmarkSandboxBurstApps4(b *testing.B) {
	ctx := context.Background()
	var worst burstFigures
	shortfall := 0.0
	sb := deploy(b, benchBootDelay, 0, map[string]any{"small_max_runners": benchMaxRunners},
		func() bool { return b.Failed() || worst.unserved > 0 || worst.secondaryHits > 0 }, "burst-apps4",
		func(o *Options) { o.Apps = benchApps })

	for b.Loop() {
		f, err := burst(ctx, b, sb)
		if err != nil {
			b.Fatal(err)
		}
		worst = worst.worst(f)
		s, err := ceilingShortfall(sb, f)
		if err != nil {
			b.Fatal(err)
		}
		shortfall = max(shortfall, s)
	}
	worst.report(b, shortfall, true)
}

// ceilingShortfall is how far, in percent, the burst's "every instance requested" fell short
// of the configured ceiling: the time scale-up's own pacing needs for the burst's JIT configs
// (each endpoint's points, less the bursts of every container of every App, over their
// summed refill; the slowest endpoint) against the time measured. 0 means at the ceiling.
func ceilingShortfall(sb *Sandbox, f burstFigures) (float64, error) {
	ideal, err := pacingFloor(sb, f.jitPoints)
	if err != nil {
		return 0, err
	}
	if f.requested <= 0 {
		return 0, fmt.Errorf("no launch time measured")
	}
	return max(0, 100*(1-ideal/f.requested)), nil
}

// pacingFloor is the seconds scale-up's pacing needs for jitPoints (points by endpoint),
// from the deployment's own configuration: the scale-up containers at once (the build
// queue's maximum concurrency) and each container's points per minute of each App
// (GITHUB_POINTS_PER_MINUTE and GITHUB_APPS), paced as githubapp.NewBudgetPacer does.
func pacingFloor(sb *Sandbox, jitPoints map[string]int) (float64, error) {
	fn, ok := sb.Deployment.Functions[sb.Opts.Prefix+"-scale-up"]
	if !ok {
		return 0, fmt.Errorf("no scale-up function")
	}
	containers := 0
	for _, m := range sb.Deployment.Mappings {
		if m.Function == fn.Name {
			containers = max(containers, m.MaxConcurrency)
		}
	}
	if containers == 0 {
		return 0, fmt.Errorf("scale-up's build queue mapping has no maximum concurrency")
	}
	perApp := []int{}
	n, err := strconv.Atoi(fn.Env["GITHUB_POINTS_PER_MINUTE"])
	if err != nil {
		return 0, fmt.Errorf("scale-up GITHUB_POINTS_PER_MINUTE: %w", err)
	}
	perApp = append(perApp, n)
	if raw := fn.Env["GITHUB_APPS"]; raw != "" {
		var apps []struct {
			PointsPerMinute int `json:"points_per_minute"`
		}
		if err := json.Unmarshal([]byte(raw), &apps); err != nil {
			return 0, fmt.Errorf("scale-up GITHUB_APPS: %w", err)
		}
		for _, a := range apps {
			perApp = append(perApp, a.PointsPerMinute)
		}
	}
	var burst, refill float64 // points; points a minute
	for _, ppm := range perApp {
		b := max(ppm/5, 5) // githubapp.NewBudgetPacer: a fifth as burst, at least one mutation
		burst += float64(containers * b)
		refill += float64(containers * (ppm - b))
	}
	floor := 0.0
	for _, p := range jitPoints {
		floor = max(floor, max(0, float64(p)-burst)/refill*60)
	}
	return floor, nil
}

// jitPoints are the JIT configs' secondary-limit points (5 a call) by endpoint.
func jitPoints(calls map[string]int) map[string]int {
	out := map[string]int{}
	for ep, n := range calls {
		if strings.Contains(ep, "generate-jitconfig") {
			out[ep] = 5 * n
		}
	}
	return out
}

// The configured ceiling of the burst's org endpoint (334 JIT configs, 1670 points) with the
// sandbox's split: scale-up's 2 containers at 260 points each (a 52-point burst, 208 a
// minute) per App.
func TestPacingFloor(t *testing.T) {
	for _, tc := range []struct {
		name string
		apps string // GITHUB_APPS
		want float64
	}{
		{name: "one App", want: (1670 - 104) / 416.0 * 60},
		{name: "four Apps", apps: `[{"points_per_minute":260},{"points_per_minute":260},{"points_per_minute":260}]`, want: (1670 - 416) / 1664.0 * 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"GITHUB_POINTS_PER_MINUTE": "260"}
			if tc.apps != "" {
				env["GITHUB_APPS"] = tc.apps
			}
			sb := &Sandbox{Opts: Options{Prefix: "p"}, Deployment: &Deployment{
				Functions: map[string]FunctionSpec{"p-scale-up": {Name: "p-scale-up", Env: env}},
				Mappings:  []MappingSpec{{Function: "p-scale-up", MaxConcurrency: 2}, {Function: "p-cleanup", MaxConcurrency: 9}},
			}}
			got, err := pacingFloor(sb, map[string]int{"POST /orgs/{org}/actions/runners/generate-jitconfig": 1670, "POST /repos/{owner}/{repo}/actions/runners/generate-jitconfig": 830})
			if err != nil || got < tc.want-0.01 || got > tc.want+0.01 {
				t.Fatalf("pacingFloor = %.2f s (%v), want %.2f", got, err, tc.want)
			}
		})
	}
}
