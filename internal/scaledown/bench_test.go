package scaledown

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
)

// BenchmarkScaleDownRemove100IdleRunners measures one pass removing 100 idle runners of one
// owner through the real GitHub client against a counting fake GitHub (every HTTP call
// counted, including the installation sweep and a cold container's token mint) and a
// counting in-memory EC2. Targets: at most 1.05 GitHub calls per removed runner, one
// TerminateInstances call per pass.
func BenchmarkScaleDownRemove100IdleRunners(b *testing.B) {
	const runners = 100
	ctx := context.Background()
	gh := ghfake.New(b)
	gh.AddInstallation(7, "octo", "Organization")
	cfgs := []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}}
	var ghCalls, removed, terminateCalls, passes int
	for b.Loop() {
		b.StopTimer()
		fleet := newMemFleet()
		for i := range runners {
			id := fmt.Sprintf("i-%017x", i)
			fleet.put(Instance{ID: id, RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour)})
			gh.AddRunner("orgs/octo", prefix+id, true, false)
		}
		app := gh.App(b) // a cold container: the pass mints its installation token
		r := &Reconciler{Fleet: fleet, GitHub: &GitHub{App: app}, Configs: cfgs, RunnerNamePrefix: prefix, Log: quietLog(), Now: func() time.Time { return t0 }}
		b.StartTimer()

		res, err := r.Run(ctx)

		b.StopTimer()
		if err != nil || res.Removed != runners || res.Terminated != runners {
			b.Fatalf("pass = %+v, %v", res, err)
		}
		ghCalls += app.Stats().Total()
		removed += res.Removed
		terminateCalls += fleet.calls("TerminateInstances")
		passes++
		b.StartTimer()
	}
	b.ReportMetric(float64(ghCalls)/float64(removed), "github_calls/removed")
	b.ReportMetric(float64(terminateCalls)/float64(passes), "terminate_calls/pass")
}
