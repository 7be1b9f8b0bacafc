package scaleup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// GitHub registration lifetimes.
const (
	// registrationTokenMargin: a cached registration token (valid one hour) is replaced this
	// long before it expires, leaving a booting instance time to use it.
	registrationTokenMargin = 15 * time.Minute
	// defaultRunnerGroupID is the Default runner group, which every org and repo has.
	defaultRunnerGroupID = 1
	// jitWorkFolder is the runner's work directory, relative to its install directory.
	jitWorkFolder = "_work"
	// runnerGroupsPage is the largest page of the runner groups list.
	runnerGroupsPage = 100
)

// Registration is one runner to register.
type Registration struct {
	Owner       runner.Owner
	Name        string
	Labels      []string
	RunnerGroup string // org runner group name; "" is Default
	Ephemeral   bool
}

// GitHub is what scale-up asks of GitHub.
type GitHub interface {
	// Register returns the runner token parameter's value (docs/runner-token.md): the encoded
	// JIT config for an ephemeral runner, a registration document for a persistent one; and
	// the runner id GitHub gave the registration (0 when it does not say: a registration
	// token registers nothing until the host runs config.sh).
	Register(ctx context.Context, r Registration) (value string, runnerID int64, err error)
	// Deregister deletes a runner registration that will never run (its host died).
	Deregister(ctx context.Context, o runner.Owner, runnerID int64) error
	// Authorize reports whether the job's installation may serve a runner for repo; an error
	// wrapping ErrUnauthorized means it never can.
	Authorize(ctx context.Context, o runner.Owner, repo string) error
	// JobQueued reports whether the job still waits for a runner.
	JobQueued(ctx context.Context, o runner.Owner, repo string, jobID int64) (bool, error)
	// Paused returns how long GitHub asked us to hold off (0 when calls may go).
	Paused() time.Duration
}

// AppGitHub implements GitHub with the App library: installation tokens are minted once per
// installation and cached, every call is paced per endpoint by githubapp.Transport, at most
// Concurrency calls are in flight, and a rate-limit answer pauses every call until its
// Retry-After has passed.
type AppGitHub struct {
	apps   *githubapp.Set
	app    *githubapp.App // the webhook App: the job's installation is its (authorize.go)
	webURL string         // for persistent runners' --url
	sem    chan struct{}
	now    func() time.Time

	mu         sync.Mutex
	pauseTill  time.Time
	groups     map[string]int64              // "org/group" → id
	regTokens  map[string]*registrationToken // owner → token
	installs   map[int64]installation        // installation id → details (authorize.go)
	authorized map[string]time.Time          // "installation:owner/repo" → when authorized
}

type registrationToken struct {
	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ GitHub = (*AppGitHub)(nil)

// NewAppGitHub wraps app alone: NewAppGitHubSet of one App.
func NewAppGitHub(app *githubapp.App, webURL string, concurrency int, now func() time.Time) *AppGitHub {
	return NewAppGitHubSet(githubapp.NewSet(app), webURL, concurrency, now)
}

// NewAppGitHubSet wraps the deployment's Apps: each call on an owner goes out as the App the
// set picks for it (githubapp.Choose), so JIT configs spread over the Apps installed on the
// job's owner, each within its own budget. webURL is the GitHub web URL (config.WebURL);
// concurrency bounds calls in flight; now nil uses time.Now.
func NewAppGitHubSet(apps *githubapp.Set, webURL string, concurrency int, now func() time.Time) *AppGitHub {
	if now == nil {
		now = time.Now
	}
	return &AppGitHub{
		apps: apps, app: apps.Webhook(), webURL: strings.TrimSuffix(webURL, "/"), sem: make(chan struct{}, max(concurrency, 1)), now: now,
		groups: map[string]int64{}, regTokens: map[string]*registrationToken{},
		installs: map[int64]installation{}, authorized: map[string]time.Time{},
	}
}

// ErrPaused is returned without calling GitHub while a rate limit's wait runs.
var ErrPaused = errors.New("github calls paused by a rate limit")

// Paused implements GitHub.
func (g *AppGitHub) Paused() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return max(g.pauseTill.Sub(g.now()), 0)
}

// call runs fn within the concurrency bound, refusing while paused and pausing on a limit.
func (g *AppGitHub) call(ctx context.Context, fn func() error) error {
	if d := g.Paused(); d > 0 {
		return fmt.Errorf("%w for %s", ErrPaused, d.Round(time.Second))
	}
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := fn()
	<-g.sem
	if wait, limited := githubapp.RateLimitWait(err); limited {
		g.mu.Lock()
		if until := g.now().Add(wait); until.After(g.pauseTill) {
			g.pauseTill = until
		}
		g.mu.Unlock()
	}
	return err
}

// client returns the owner's client: o.InstallationID is the webhook App's installation (from
// the event); the set picks the App per call.
func (g *AppGitHub) client(_ context.Context, o runner.Owner) (*github.Client, error) {
	return g.apps.OwnerClient(o.Name, o.InstallationID), nil
}

// Register implements GitHub.
func (g *AppGitHub) Register(ctx context.Context, r Registration) (string, int64, error) {
	c, err := g.client(ctx, r.Owner)
	if err != nil {
		return "", 0, err
	}
	org, repo, isRepo := strings.Cut(r.Owner.Name, "/")
	if r.Owner.Level == queue.LevelRepo && !isRepo {
		return "", 0, fmt.Errorf("repo-level owner %q is not owner/repo", r.Owner.Name)
	}
	groupID, err := g.runnerGroupID(ctx, c, r.Owner, r.RunnerGroup)
	if err != nil {
		return "", 0, err
	}
	if !r.Ephemeral {
		doc, err := g.registrationArgs(ctx, c, r, groupID)
		return doc, 0, err
	}
	req := &github.GenerateJITConfigRequest{Name: r.Name, RunnerGroupID: groupID, Labels: r.Labels, WorkFolder: github.String(jitWorkFolder)}
	var jit *github.JITRunnerConfig
	err = g.call(ctx, func() (err error) {
		if r.Owner.Level == queue.LevelRepo {
			jit, _, err = c.Actions.GenerateRepoJITConfig(ctx, org, repo, req)
		} else {
			jit, _, err = c.Actions.GenerateOrgJITConfig(ctx, org, req)
		}
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("generate jit config for %s: %w", r.Name, err)
	}
	if err := runnertoken.ValidateJIT(jit.GetEncodedJITConfig()); err != nil {
		return "", 0, fmt.Errorf("generate jit config for %s: %w", r.Name, err)
	}
	if jit.GetRunner().GetID() <= 0 {
		// Without it clean-up and scale-down could never prove the registration is ours.
		return "", 0, fmt.Errorf("generate jit config for %s: answer carries no runner id", r.Name)
	}
	return jit.GetEncodedJITConfig(), jit.GetRunner().GetID(), nil
}

// registrationArgs renders the registration document (docs/runner-token.md) around the
// owner's registration token, which is fetched once and reused until near expiry.
func (g *AppGitHub) registrationArgs(ctx context.Context, c *github.Client, r Registration, groupID int64) (string, error) {
	tok, err := g.registrationToken(ctx, c, r.Owner)
	if err != nil {
		return "", err
	}
	doc := runnertoken.Registration{URL: g.webURL + "/" + r.Owner.Name, Token: tok, Name: r.Name, Labels: r.Labels, Ephemeral: r.Ephemeral}
	if r.Owner.Level == queue.LevelOrg && groupID != defaultRunnerGroupID {
		doc.RunnerGroup = r.RunnerGroup
	}
	return doc.Encode()
}

func (g *AppGitHub) registrationToken(ctx context.Context, c *github.Client, o runner.Owner) (string, error) {
	g.mu.Lock()
	e, ok := g.regTokens[o.Name]
	if !ok {
		e = &registrationToken{}
		g.regTokens[o.Name] = e
	}
	g.mu.Unlock()

	e.mu.Lock() // one request per owner even when a whole batch registers at once
	defer e.mu.Unlock()
	if e.token != "" && g.now().Add(registrationTokenMargin).Before(e.expires) {
		return e.token, nil
	}
	var tok *github.RegistrationToken
	err := g.call(ctx, func() (err error) {
		if org, repo, isRepo := strings.Cut(o.Name, "/"); isRepo {
			tok, _, err = c.Actions.CreateRegistrationToken(ctx, org, repo)
		} else {
			tok, _, err = c.Actions.CreateOrganizationRegistrationToken(ctx, org)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("registration token for %s: %w", o.Name, err)
	}
	e.token, e.expires = tok.GetToken(), tok.GetExpiresAt().Time
	return e.token, nil
}

// runnerGroupID resolves an org runner group name once per container.
func (g *AppGitHub) runnerGroupID(ctx context.Context, c *github.Client, o runner.Owner, name string) (int64, error) {
	if o.Level == queue.LevelRepo || name == "" || strings.EqualFold(name, "default") {
		return defaultRunnerGroupID, nil
	}
	org, _, _ := strings.Cut(o.Name, "/")
	key := org + "/" + name
	g.mu.Lock()
	id, ok := g.groups[key]
	g.mu.Unlock()
	if ok {
		return id, nil
	}
	opts := &github.ListOrgRunnerGroupOptions{ListOptions: github.ListOptions{PerPage: runnerGroupsPage}}
	for {
		var page *github.RunnerGroups
		var resp *github.Response
		err := g.call(ctx, func() (err error) {
			page, resp, err = c.Actions.ListOrganizationRunnerGroups(ctx, org, opts)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("list runner groups of %s: %w", org, err)
		}
		for _, rg := range page.RunnerGroups {
			if rg.GetName() == name {
				g.mu.Lock()
				g.groups[key] = rg.GetID()
				g.mu.Unlock()
				return rg.GetID(), nil
			}
		}
		if resp.NextPage == 0 {
			return 0, fmt.Errorf("runner group %q not found in %s", name, org)
		}
		opts.Page = resp.NextPage
	}
}

// Deregister implements GitHub; a registration already gone is not an error.
func (g *AppGitHub) Deregister(ctx context.Context, o runner.Owner, runnerID int64) error {
	c, err := g.client(ctx, o)
	if err != nil {
		return err
	}
	org, repo, isRepo := strings.Cut(o.Name, "/")
	err = g.call(ctx, func() (err error) {
		if isRepo {
			_, err = c.Actions.RemoveRunner(ctx, org, repo, runnerID)
		} else {
			_, err = c.Actions.RemoveOrganizationRunner(ctx, org, runnerID)
		}
		return err
	})
	if err != nil && !notFound(err) {
		return fmt.Errorf("delete runner %d of %s: %w", runnerID, o.Name, err)
	}
	return nil
}

// JobQueued implements GitHub.
func (g *AppGitHub) JobQueued(ctx context.Context, o runner.Owner, repo string, jobID int64) (bool, error) {
	c, err := g.client(ctx, o)
	if err != nil {
		return true, err
	}
	owner, name, ok := strings.Cut(repo, "/")
	if !ok {
		return true, fmt.Errorf("repo %q is not owner/name", repo)
	}
	var job *github.WorkflowJob
	err = g.call(ctx, func() (err error) {
		job, _, err = c.Actions.GetWorkflowJobByID(ctx, owner, name, jobID)
		return err
	})
	if err != nil {
		return true, fmt.Errorf("get job %d: %w", jobID, err)
	}
	return job.GetStatus() == "queued", nil
}
