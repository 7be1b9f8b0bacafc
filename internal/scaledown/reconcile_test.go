package scaledown

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

// racingGitHub makes a runner take a job between the list and the DELETE, the race the
// DELETE's busy answer exists for.
type racingGitHub struct {
	*GitHub
	gh     *ghfake.Server
	owner  string
	runner int64
}

func (r *racingGitHub) ListRunners(ctx context.Context, o Owner) ([]Runner, error) {
	rs, err := r.GitHub.ListRunners(ctx, o)
	if "orgs/"+o.Name == r.owner {
		r.gh.SetBusy(r.owner, r.runner, true)
	}
	return rs, err
}

func TestReconcilePass(t *testing.T) {
	ctx := context.Background()
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddInstallation(8, "empty", "Organization")
	old := t0.Add(-time.Hour)
	fleet := newMemFleet(
		Instance{ID: "i-a0000011", RunnerConfig: "small", Owner: octo, LaunchTime: old},
		Instance{ID: "i-a0000008", RunnerConfig: "small", Owner: octo, LaunchTime: old},
		Instance{ID: "i-a0000017", RunnerConfig: "small", Owner: octo, LaunchTime: old},
		Instance{ID: "i-a0000015", RunnerConfig: "small", Owner: octo, LaunchTime: old},
		Instance{ID: "i-a0000016", RunnerConfig: "small", Owner: octo, LaunchTime: old, Protected: true},
		Instance{ID: "i-a0000014", RunnerConfig: "small", Owner: Owner{Level: tags.TypeRepo, Name: "stranger/app"}, LaunchTime: old},
	)
	gh.AddRunner("orgs/octo", "ghr-i-a0000011", true, false)
	gh.AddRunner("orgs/octo", "ghr-i-a0000008", true, true)
	race := gh.AddRunner("orgs/octo", "ghr-i-a0000017", true, false)
	gh.AddRunner("orgs/octo", "ghr-i-a0000016", true, false)
	gh.AddRunner("orgs/octo", "ghr-i-a000000b", false, false)
	gh.AddRunner("orgs/empty", "ghr-i-a000000c", false, false)
	gh.AddRunner("orgs/octo", "laptop", false, false)
	toks := &memTokens{tokens: map[string]string{"/ghr/runners/small/tokens/i-a0000011": "i-a0000011", "/ghr/runners/small/tokens/i-a000000b": "i-a000000b"}}
	now := t0
	app := gh.App(t)
	r := &Reconciler{
		Fleet:            fleet,
		GitHub:           &racingGitHub{GitHub: &GitHub{App: app}, gh: gh, owner: "orgs/octo", runner: race},
		Tokens:           toks,
		Configs:          []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}},
		RunnerNamePrefix: prefix,
		Log:              quietLog(),
		Now:              func() time.Time { return now },
		RelistDelay:      time.Millisecond,
	}
	var emf bytes.Buffer
	r.Metrics = metrics.New(&emf, "ghr", "scale-down")
	published := func() []metrics.Point {
		t.Helper()
		r.Metrics.Flush()
		pts, err := metrics.Read(&emf)
		if err != nil {
			t.Fatal(err)
		}
		emf.Reset()
		return pts
	}

	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := Result{Instances: 6, Owners: 3, OwnersFailed: 1, Removed: 3, KeptBusy: 1, Terminated: 1, MarkedOrphans: 1, TokensDeleted: 1}
	if res != want {
		t.Errorf("first pass = %+v\nwant %+v", res, want)
	}
	for id, alive := range map[string]bool{"i-a0000011": false, "i-a0000008": true, "i-a0000017": true, "i-a0000015": true, "i-a0000016": true, "i-a0000014": true} {
		if fleet.has(id) != alive {
			t.Errorf("%s alive = %v, want %v", id, fleet.has(id), alive)
		}
	}
	names := func(owner string) []string {
		var out []string
		for _, x := range gh.Runners(owner) {
			out = append(out, x.Name)
		}
		return out
	}
	if got, want := names("orgs/octo"), []string{"ghr-i-a0000008", "ghr-i-a0000017", "ghr-i-a0000016", "laptop"}; !slices.Equal(got, want) {
		t.Errorf("octo runners = %v, want %v", got, want)
	}
	if got := names("orgs/empty"); len(got) != 0 {
		t.Errorf("ghost left in an org without instances: %v", got)
	}
	if terminates, lists := fleet.calls("TerminateInstances"), fleet.calls("DescribeInstances"); terminates != 1 || lists != 2 {
		t.Errorf("terminate calls = %d, list calls = %d; want 1 and 2 (ghosts seen)", terminates, lists)
	}
	if _, ok := toks.tokens["/ghr/runners/small/tokens/i-a000000b"]; ok {
		t.Error("stale token kept")
	}
	pts := published()
	small := map[string]string{"config": "small"}
	for name, want := range map[string]float64{"RunnersLive": 6, "RunnersIdle": 3, "RunnersBusy": 1} {
		if got := metrics.Sum(pts, name, small); got != want {
			t.Errorf("first pass %s = %v, want %v", name, got, want)
		}
	}
	if got := metrics.Sum(pts, "InstancesTerminated", map[string]string{"reason": ReasonIdle}); got != 1 {
		t.Errorf("first pass terminated idle = %v, want 1", got)
	}

	// Second pass, five minutes on: the marked orphan goes; the raced runner is idle again.
	gh.SetBusy("orgs/octo", race, false)
	now = now.Add(5 * time.Minute)
	r.GitHub = &GitHub{App: app}
	if res, err = r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if res.Terminated != 2 || res.Removed != 1 || fleet.has("i-a0000015") || fleet.has("i-a0000017") {
		t.Errorf("second pass = %+v; orphan alive %v, race alive %v", res, fleet.has("i-a0000015"), fleet.has("i-a0000017"))
	}
	pts = published()
	for reason, want := range map[string]float64{ReasonOrphan: 1, ReasonIdle: 1} {
		if got := metrics.Sum(pts, "InstancesTerminated", map[string]string{"reason": reason}); got != want {
			t.Errorf("second pass terminated %s = %v, want %v", reason, got, want)
		}
	}
}

func TestReconcileKeepsTimeForTerminate(t *testing.T) {
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	gh.AddRunner("orgs/octo", "ghr-i-a0000006", true, false)
	fleet := newMemFleet(Instance{ID: "i-a0000006", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Hour)})
	r := &Reconciler{Fleet: fleet, GitHub: &GitHub{App: gh.App(t)}, RunnerNamePrefix: prefix, Log: quietLog(),
		Configs: []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 1, BootMinutes: 1}},
		Now:     func() time.Time { return t0 }}
	ctx, cancel := context.WithTimeout(context.Background(), terminateReserve/2)
	defer cancel()
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.RemoveFailed != 1 || res.Removed != 0 || len(gh.Runners("orgs/octo")) != 1 || !fleet.has("i-a0000006") {
		t.Errorf("a pass without time to terminate removed a registration: %+v", res)
	}
}

// A host that died at boot never reads its token: the next pass deletes it when EC2 lists the
// instance as ended, rather than after tokenGrace. A young token whose instance EC2 does not
// list at all may belong to a launch not listed yet, and stays.
func TestEndedHostTokenGoesAtOnce(t *testing.T) {
	ctx := context.Background()
	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	fleet := newMemFleet(Instance{ID: "i-a0000020", RunnerConfig: "small", Owner: octo, LaunchTime: t0.Add(-time.Minute)})
	fleet.fake.Kill("i-a0000020", "Server.SpotInstanceTermination")
	dead, unlisted := "/ghr/runners/small/tokens/i-a0000020", "/ghr/runners/small/tokens/i-a0000021"
	toks := &memTokens{tokens: map[string]string{dead: "i-a0000020", unlisted: "i-a0000021"},
		modified: map[string]time.Time{dead: t0.Add(-time.Minute), unlisted: t0.Add(-time.Minute)}}
	r := &Reconciler{Fleet: fleet, GitHub: &GitHub{App: gh.App(t)}, Tokens: toks, RunnerNamePrefix: prefix, Log: quietLog(),
		Configs: []config.RunnerConfig{{Key: "small", Level: "org", MinRunningMinutes: 10, BootMinutes: 5, IdleEviction: config.EvictOldestFirst}},
		Now:     func() time.Time { return t0 }, RelistDelay: time.Millisecond}
	res, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := toks.tokens[dead]; ok || res.TokensDeleted != 1 {
		t.Fatalf("tokens left %v after %+v: the dead host's token must go", toks.tokens, res)
	}
	if _, ok := toks.tokens[unlisted]; !ok {
		t.Fatalf("the token of an instance EC2 does not list yet was deleted")
	}
}
