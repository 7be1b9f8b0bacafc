package ghsim

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/harness/testutil/vclock"
)

// Containers that split a budget between them (githubapp.NewBudgetPacer, fed by
// GITHUB_POINTS_PER_MINUTE) meet no secondary limit from the simulator set to that budget,
// because both count the same way: points per endpoint template (GET 1, mutation 5) over a
// sliding minute. Containers that each pace on the whole budget are refused.
func TestSplitBudgetMeetsNoSecondaryLimit(t *testing.T) {
	const budget, containers = 720, 4
	for _, tc := range []struct {
		name         string
		perContainer int
		wantLimited  bool
	}{
		{name: "split", perContainer: budget / containers},
		{name: "each on the whole budget", perContainer: budget, wantLimited: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			limited := burstContainers(t, budget, containers, tc.perContainer, 2*time.Minute)
			t.Logf("secondary-limit answers: %v", limited)
			if got := sumCounts(limited); (got > 0) != tc.wantLimited {
				t.Fatalf("%d secondary-limit answers, want limited %v", got, tc.wantLimited)
			}
		})
	}
}

// burstContainers runs containers Apps against a simulator whose secondary limit is budget,
// each App paced on perContainer points and calling a runner DELETE and the runner list
// as fast as its pacer lets it, on a virtual clock, for d. It returns the secondary-limit
// answers by endpoint.
func burstContainers(t *testing.T, budget, containers, perContainer int, d time.Duration) map[string]int {
	t.Helper()
	const callers = 2 // goroutines per container, one per endpoint
	clk := vclock.New(time.Now(), containers*callers)
	srv := start(t, Options{Now: clk.Now, SecondaryPoints: budget})
	w := seed(t, srv.Sim)
	end := clk.Now().Add(d)
	var wg sync.WaitGroup
	errs := make(chan error, containers*callers)
	for range containers {
		a, err := githubapp.New(githubapp.Config{AppID: srv.AppID(), PrivateKey: srv.PrivateKeyPEM(), APIURL: srv.URL,
			Pacer: githubapp.NewBudgetPacer(perContainer).WithClock(clk.Now, clk.Sleep), Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		c := a.Client(w.octo.ID)
		calls := []func(context.Context) error{
			func(ctx context.Context) error {
				// A mutation is charged before it is served; deleting a runner that does not
				// exist costs its 5 points without the work of minting JIT configs.
				_, err := c.Actions.RemoveOrganizationRunner(ctx, "octo", 424242)
				if er := (*github.ErrorResponse)(nil); errors.As(err, &er) && er.Response.StatusCode == http.StatusNotFound {
					return nil
				}
				return err
			},
			func(ctx context.Context) error {
				_, _, err := c.Actions.ListOrganizationRunners(ctx, "octo", nil)
				return err
			},
		}
		for _, call := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer clk.Exit()
				for clk.Now().Before(end) {
					if err := call(context.Background()); err != nil {
						if _, limited := githubapp.RateLimitWait(err); !limited {
							errs <- err
							return
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	return srv.Sim.Stats().SecondaryLimited
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
