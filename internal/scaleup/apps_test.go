package scaleup_test

import (
	"context"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/tags"
)

// TestRunnersOfOneAppCleanedUpByAny: a registration belongs to its owner, not to the App that
// created it. Against the simulator with two Apps installed on one org, a runner registered
// by scale-up as either App is found and removed by scale-down's client as the other, and
// deregistered by scale-up as the other.
func TestRunnersOfOneAppCleanedUpByAny(t *testing.T) {
	ctx := context.Background()
	gh, err := ghsim.Start(ctx, ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gh.Close() })
	if _, err := gh.AddOrg("octo"); err != nil {
		t.Fatal(err)
	}
	if _, err := gh.Install("octo"); err != nil {
		t.Fatal(err)
	}
	second, err := gh.AddApp(ghsim.AppOptions{PrivateKeyPEM: ghfake.TestKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gh.InstallApp(second.ID, "octo"); err != nil {
		t.Fatal(err)
	}
	newApp := func(id int64) *githubapp.App {
		a, err := githubapp.New(githubapp.Config{AppID: id, PrivateKey: ghfake.TestKey(t), APIURL: gh.URL, Pacer: githubapp.NewPacer(1e6, 1e6)})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	one, two := newApp(gh.AppID()), newApp(second.ID)
	owner := runner.Owner{Level: queue.LevelOrg, Name: "octo"}
	for _, tc := range []struct {
		name       string
		registerAs *githubapp.App
		cleanAs    *githubapp.App
	}{
		{name: "registered as the webhook App, cleaned as the second", registerAs: one, cleanAs: two},
		{name: "registered as the second App, cleaned as the webhook App", registerAs: two, cleanAs: one},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := scaleup.NewAppGitHubSet(githubapp.NewSet(tc.registerAs), config.WebURL(gh.URL), 4, nil)
			clean := &scaledown.GitHub{Apps: githubapp.NewSet(tc.cleanAs)}
			sdOwner := scaledown.Owner{Level: tags.TypeOrg, Name: "octo"}
			for i, viaScaleDown := range []bool{true, false} {
				name := "ghr-i-" + tc.name[:3] + string(rune('a'+i))
				_, id, err := reg.Register(ctx, scaleup.Registration{Owner: owner, Name: name, Labels: []string{"self-hosted"}, Ephemeral: true})
				if err != nil {
					t.Fatal(err)
				}
				if _, found, err := clean.FindRunner(ctx, sdOwner, id, name); err != nil || !found {
					t.Fatalf("runner %d registered as one App: found %v (%v) as the other", id, found, err)
				}
				if viaScaleDown {
					if res, err := clean.RemoveRunner(ctx, sdOwner, id); err != nil || res != scaledown.Removed {
						t.Fatalf("scale-down removing runner %d: %v (%v), want removed", id, res, err)
					}
				} else if err := scaleup.NewAppGitHubSet(githubapp.NewSet(tc.cleanAs), config.WebURL(gh.URL), 4, nil).Deregister(ctx, owner, id); err != nil {
					t.Fatalf("scale-up deregistering runner %d: %v", id, err)
				}
				if _, found, err := clean.FindRunner(ctx, sdOwner, id, name); err != nil || found {
					t.Fatalf("runner %d after clean-up: found %v (%v), want gone", id, found, err)
				}
			}
		})
	}
}

// TestBurstSpreadsOverApps: through the handler, a burst beyond the webhook App's burst
// allowance is carried by the other Apps installed on the owner at once, each within its own
// budget, for one JIT config per job plus one installation lookup and one token per extra App.
func TestBurstSpreadsOverApps(t *testing.T) {
	const (
		apps   = 4
		perApp = 300 // points a minute: a 60-point burst, 12 JIT configs at once per App
		jobs   = 40  // more than one App's 12, fewer than four Apps' 48
	)
	ctx := context.Background()
	gh, in := ghsim.StartOrg(t, ctx, ghsim.Options{PrivateKeyPEM: ghfake.TestKey(t), SecondaryPoints: perApp}, "octo", "app")
	ids := []int64{gh.AppID()}
	for range apps - 1 {
		a, err := gh.AddApp(ghsim.AppOptions{PrivateKeyPEM: ghfake.TestKey(t)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gh.InstallApp(a.ID, "octo"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	var as []*githubapp.App
	for _, id := range ids {
		a, err := githubapp.New(githubapp.Config{AppID: id, PrivateKey: ghfake.TestKey(t), APIURL: gh.URL, PointsPerMinute: perApp})
		if err != nil {
			t.Fatal(err)
		}
		as = append(as, a)
	}
	w := newWorld(t, 0, config.CheckQueuedNever)
	w.h.Launcher.GitHub = scaleup.NewAppGitHubSet(githubapp.NewSet(as...), config.WebURL(gh.URL), 10, nil)
	var batch []queue.Job
	for i := range jobs {
		j := job(int64(i+1), "linux", "octo")
		j.InstallationID = in.ID
		batch = append(batch, j)
		if len(batch) == 10 {
			if retried := w.handle(sqsEvent(t, batch...)); len(retried) != 0 {
				t.Fatalf("retried %v", retried)
			}
			batch = nil
		}
	}
	if n := len(gh.Runners()); n != jobs {
		t.Fatalf("%d runners registered, want %d", n, jobs)
	}
	total := 0
	for i, a := range as {
		calls := a.Stats().Calls()
		t.Logf("App %d: %v", i+1, calls)
		if calls["POST /orgs/{org}/actions/runners/generate-jitconfig"] == 0 {
			t.Errorf("App %d made no JIT config", i+1)
		}
		total += a.Stats().Total()
	}
	if n := len(gh.Stats().SecondaryLimited); n != 0 {
		t.Errorf("secondary-limit answers %v", gh.Stats().SecondaryLimited)
	}
	// A JIT config per job, a token per App, a lookup per extra App, the job's installation.
	if want := jobs + apps + (apps - 1) + 1; total != want {
		t.Errorf("%d GitHub calls for %d runners over %d Apps, want %d", total, jobs, apps, want)
	}
}
