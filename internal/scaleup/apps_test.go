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
