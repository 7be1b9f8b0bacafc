package githubapp

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/harness/testutil/vclock"
)

// pointsServer counts the points each endpoint receives, stamped with the virtual time.
type pointsServer struct {
	clock *vclock.Clock
	mu    sync.Mutex
	spent map[string][]spend
}

type spend struct {
	at     time.Time
	points int
}

func (s *pointsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cost := getPoints
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		cost = mutationPoints
	}
	s.mu.Lock()
	ep := Endpoint(r.Method, r.URL.Path, "")
	s.spent[ep] = append(s.spent[ep], spend{at: s.clock.Now(), points: cost})
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// maxWindow is the most points one endpoint received within any 60 s, counted the way
// GitHub and internal/harness/ghsim count them: the calls in (t-60s, t].
func maxWindow(spends []spend) int {
	slices.SortStableFunc(spends, func(a, b spend) int { return a.at.Compare(b.at) })
	best, sum, first := 0, 0, 0
	for _, sp := range spends {
		sum += sp.points
		for !spends[first].at.After(sp.at.Add(-time.Minute)) {
			sum -= spends[first].points
			first++
		}
		best = max(best, sum)
	}
	return best
}

// runContainers runs n containers, each with its own pacer of perContainer points, for the
// given virtual duration. Each container calls two endpoints, a mutation and a read, from
// one goroutine apiece, as fast as its pacer lets it. It returns each endpoint's busiest
// minute.
func runContainers(t *testing.T, n, perContainer int, d time.Duration) map[string]int {
	t.Helper()
	calls := []struct{ method, path string }{
		{http.MethodPost, "/orgs/octo/actions/runners/generate-jitconfig"},
		{http.MethodGet, "/orgs/octo/actions/runners"},
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := vclock.New(start, n*len(calls))
	srv := &pointsServer{clock: clk, spent: map[string][]spend{}}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	var wg sync.WaitGroup
	errs := make(chan error, n*len(calls))
	for range n {
		tr := &Transport{Stats: NewStats(), Pacer: NewBudgetPacer(perContainer).WithClock(clk.Now, clk.Sleep)}
		client := &http.Client{Transport: tr}
		for _, c := range calls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer clk.Exit()
				for clk.Now().Before(start.Add(d)) {
					req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
					resp, err := client.Do(req)
					if err != nil {
						errs <- err
						return
					}
					resp.Body.Close()
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := map[string]int{}
	for ep, spends := range srv.spent {
		got[ep] = maxWindow(spends)
	}
	if len(got) != len(calls) {
		t.Fatalf("endpoints called: %v", got)
	}
	return got
}

// N containers each given budget/N spend at most the budget on any endpoint in any minute,
// however greedy; and the split wastes little of it.
func TestContainersSplittingABudgetStayWithinIt(t *testing.T) {
	const budget = 720
	for _, n := range []int{1, 3, 10, 20} {
		t.Run(fmt.Sprint(n, " containers"), func(t *testing.T) {
			per := budget / n
			for ep, got := range runContainers(t, n, per, 2*time.Minute) {
				t.Logf("%s: busiest minute %d of %d points", ep, got, budget)
				if got > budget {
					t.Errorf("%s: %d points in one minute, over the budget of %d", ep, got, budget)
				}
				// Each pacer earns its share minus at most one call's rounding per minute.
				if floor := n * (per - mutationPoints); got < floor {
					t.Errorf("%s: busiest minute %d points, want at least %d: the split wastes budget", ep, got, floor)
				}
			}
		})
	}
}

// The check above can fail: containers that each pace on the whole budget, as every
// container did before budgets were split, overspend it together.
func TestContainersEachOnTheWholeBudgetOverspend(t *testing.T) {
	const budget, n = 720, 4
	for ep, got := range runContainers(t, n, budget, 2*time.Minute) {
		t.Logf("%s: busiest minute %d points", ep, got)
		if got <= budget {
			t.Errorf("%s: %d points in the busiest minute; %d unsplit containers should overspend %d", ep, got, n, budget)
		}
	}
}

func TestBudgetPacerSplit(t *testing.T) {
	tests := []struct{ budget, perMin, burst int }{
		{budget: config.DefaultGitHubPointsPerMinute, perMin: pointsPerMinute, burst: burstPoints}, // as before budgets
		{budget: 720, perMin: 576, burst: 144},
		{budget: 72, perMin: 58, burst: 14},
		{budget: 24, perMin: 19, burst: mutationPoints}, // a fifth is less than one mutation
		{budget: config.MinGitHubPointsPerMinute, perMin: 5, burst: mutationPoints},
		{budget: 1, perMin: 5, burst: mutationPoints}, // raised to the minimum
	}
	for _, tc := range tests {
		p := NewBudgetPacer(tc.budget)
		if p.perMin != tc.perMin || p.burst != tc.burst {
			t.Errorf("NewBudgetPacer(%d): %d a minute after a burst of %d, want %d after %d", tc.budget, p.perMin, p.burst, tc.perMin, tc.burst)
		}
		if p.perMin+p.burst > max(tc.budget, config.MinGitHubPointsPerMinute) {
			t.Errorf("NewBudgetPacer(%d) may spend %d in a minute", tc.budget, p.perMin+p.burst)
		}
	}
}

func TestAppPacesWithItsPointsPerMinute(t *testing.T) {
	_, pemKey := testKey(t)
	app, err := New(Config{AppID: testAppID, PrivateKey: pemKey, PointsPerMinute: 60})
	if err != nil {
		t.Fatal(err)
	}
	p := app.http.Transport.(*Transport).Pacer
	if p.perMin+p.burst != 60 {
		t.Fatalf("PointsPerMinute 60: pacer spends %d a minute", p.perMin+p.burst)
	}
	src := config.GitHubApp{AppID: config.Secret{Value: "4242"}, PrivateKey: config.Secret{Value: string(pemKey)}, PointsPerMinute: 30}
	app, err = Load(context.Background(), src, nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	if p := app.http.Transport.(*Transport).Pacer; p.perMin+p.burst != 30 {
		t.Fatalf("Load with GITHUB_POINTS_PER_MINUTE 30: pacer spends %d a minute", p.perMin+p.burst)
	}
}

// A wait that would outlast the caller's deadline is refused at once as a local rate limit,
// without sending anything and without spending the budget.
func TestPacingPastTheDeadlineIsARateLimit(t *testing.T) {
	clk := vclock.New(time.Now(), 1)
	p := NewBudgetPacer(config.MinGitHubPointsPerMinute).WithClock(clk.Now, clk.Sleep)
	ctx, cancel := context.WithDeadline(context.Background(), clk.Now().Add(10*time.Second))
	defer cancel()
	if waited, err := p.wait(ctx, "POST /x", mutationPoints); err != nil || waited {
		t.Fatalf("the burst: waited %v, %v", waited, err)
	}
	waited, err := p.wait(ctx, "POST /x", mutationPoints)
	if !waited {
		t.Error("a refused call does not count as a pacing wait")
	}
	wait, limited := RateLimitWait(err)
	if !limited || wait != time.Minute {
		t.Fatalf("err = %v (wait %s), want a rate limit waiting a minute for 5 points at 5 a minute", err, wait)
	}
	if tok := p.limiter("POST /x").TokensAt(clk.Now()); tok != 0 {
		t.Fatalf("a refused call left %v tokens, want 0 (nothing spent, nothing owed)", tok)
	}
}
