package scaledown

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/tags"
)

// GitHub list limits.
const (
	perPage = 100 // GitHub's maximum page size: fewest calls per pass
	// maxRunnerPages bounds one owner's list (10,000 runners, GitHub's per-group limit).
	// A list cut short is an error, never a partial list: a missing runner looks unregistered.
	maxRunnerPages = 100
	// maxInstallationPages bounds the installation sweep (10,000 accounts).
	maxInstallationPages = 100
)

// Answers to a runner DELETE.
type RemoveResult int

const (
	Removed  RemoveResult = iota // 204: GitHub removed the registration
	Busy                         // 422: the runner is running a job; GitHub kept it
	NotFound                     // 404: the registration was already gone
)

func (r RemoveResult) String() string {
	return [...]string{"removed", "busy", "not_found"}[r]
}

// GitHub lists and removes runner registrations through a GitHub App. It is safe for
// concurrent use and shared by every pass of a warm container.
type GitHub struct {
	// Apps are the deployment's Apps; nil is App alone. Registrations belong to the owner, so
	// each call goes out as whichever App the set picks (githubapp.Choose), whichever App
	// registered the runner.
	Apps *githubapp.Set
	App  *githubapp.App // the webhook App, when Apps is nil

	mu       sync.Mutex
	accounts map[string]int64 // account login → installation id, from the installation sweep
}

// OrgOwners lists the organizations the App is installed in (paged, 100 per page), so the
// reconcile finds ghost registrations even in an org where no instance is left. It also
// remembers each account's installation, which saves a lookup per owner.
func (g *GitHub) OrgOwners(ctx context.Context) ([]Owner, error) {
	opts := &github.ListOptions{PerPage: perPage}
	var owners []Owner
	accounts := map[string]int64{}
	for page := 0; ; page++ {
		if page == maxInstallationPages {
			return nil, fmt.Errorf("list installations: more than %d pages", maxInstallationPages)
		}
		// The webhook App is installed wherever jobs come from: its installations are the owners.
		insts, resp, err := g.set().Webhook().AppClient().Apps.ListInstallations(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list installations: %w", err)
		}
		for _, in := range insts {
			login := in.GetAccount().GetLogin()
			if login == "" {
				continue
			}
			accounts[login] = in.GetID()
			g.set().Webhook().RememberInstallation(login, in.GetID())
			if in.GetAccount().GetType() == "Organization" {
				owners = append(owners, Owner{Level: tags.TypeOrg, Name: login})
			}
		}
		if resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	g.mu.Lock()
	g.accounts = accounts
	g.mu.Unlock()
	return owners, nil
}

// client returns the client for owner's registrations. A repository's installation is its
// account's: an App is installed at most once per account.
func (g *GitHub) client(_ context.Context, owner Owner) (*github.Client, error) {
	account, _, _ := strings.Cut(owner.Name, "/")
	g.mu.Lock()
	id := g.accounts[account] // 0: the set looks it up
	g.mu.Unlock()
	return g.set().OwnerClient(owner.Name, id), nil
}

func (g *GitHub) set() *githubapp.Set {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.Apps == nil {
		g.Apps = githubapp.NewSet(g.App)
	}
	return g.Apps
}

// ListRunners returns every registration of owner, 100 per page, with status and busy, so
// no per-runner call is needed.
func (g *GitHub) ListRunners(ctx context.Context, owner Owner) ([]Runner, error) {
	c, err := g.client(ctx, owner)
	if err != nil {
		return nil, err
	}
	org, repo, _ := strings.Cut(owner.Name, "/")
	opts := &github.ListOptions{PerPage: perPage}
	var out []Runner
	for page := 0; ; page++ {
		if page == maxRunnerPages {
			return nil, fmt.Errorf("list runners of %s: more than %d pages", owner, maxRunnerPages)
		}
		var rs *github.Runners
		var resp *github.Response
		if owner.Level == tags.TypeOrg {
			rs, resp, err = c.Actions.ListOrganizationRunners(ctx, org, opts)
		} else {
			rs, resp, err = c.Actions.ListRunners(ctx, org, repo, opts)
		}
		if err != nil {
			return nil, fmt.Errorf("list runners of %s: %w", owner, err)
		}
		for _, r := range rs.Runners {
			out = append(out, Runner{ID: r.GetID(), Name: r.GetName(), Online: r.GetStatus() == "online", Busy: r.GetBusy()})
		}
		if resp.NextPage == 0 {
			return out, nil
		}
		opts.Page = resp.NextPage
	}
}

// RemoveRunner deletes one registration. A busy runner is GitHub's to keep: it answers 422
// and the caller must leave the instance alone.
func (g *GitHub) RemoveRunner(ctx context.Context, owner Owner, runnerID int64) (RemoveResult, error) {
	c, err := g.client(ctx, owner)
	if err != nil {
		return 0, err
	}
	org, repo, _ := strings.Cut(owner.Name, "/")
	if owner.Level == tags.TypeOrg {
		_, err = c.Actions.RemoveOrganizationRunner(ctx, org, runnerID)
	} else {
		_, err = c.Actions.RemoveRunner(ctx, org, repo, runnerID)
	}
	var er *github.ErrorResponse
	switch {
	case err == nil:
		return Removed, nil
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity:
		return Busy, nil
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return NotFound, nil
	}
	return 0, fmt.Errorf("remove runner %d of %s: %w", runnerID, owner, err)
}

// FindRunner looks one registration up in owner, exactly: by id when scale-up recorded it
// (GET …/runners/{id}), else by name (GET …/runners?name=). Unlike a page-numbered list, which
// can skip a runner that registers while it is read, the answer is a runner or GitHub's 404.
func (g *GitHub) FindRunner(ctx context.Context, owner Owner, runnerID int64, name string) (Runner, bool, error) {
	c, err := g.client(ctx, owner)
	if err != nil {
		return Runner{}, false, err
	}
	org, repo, _ := strings.Cut(owner.Name, "/")
	if runnerID > 0 {
		var r *github.Runner
		if owner.Level == tags.TypeOrg {
			r, _, err = c.Actions.GetOrganizationRunner(ctx, org, runnerID)
		} else {
			r, _, err = c.Actions.GetRunner(ctx, org, repo, runnerID)
		}
		var er *github.ErrorResponse
		switch {
		case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
			return Runner{}, false, nil
		case err != nil:
			return Runner{}, false, fmt.Errorf("get runner %d of %s: %w", runnerID, owner, err)
		}
		return Runner{ID: r.GetID(), Name: r.GetName(), Online: r.GetStatus() == "online", Busy: r.GetBusy()}, r.GetName() == name, nil
	}
	path := "orgs/" + org + "/actions/runners"
	if owner.Level == tags.TypeRepo {
		path = "repos/" + org + "/" + repo + "/actions/runners"
	}
	req, err := c.NewRequest(http.MethodGet, path+"?name="+url.QueryEscape(name), nil)
	if err != nil {
		return Runner{}, false, err
	}
	var rs github.Runners
	if _, err := c.Do(ctx, req, &rs); err != nil {
		return Runner{}, false, fmt.Errorf("find runner %s of %s: %w", name, owner, err)
	}
	for _, r := range rs.Runners {
		if r.GetName() == name {
			return Runner{ID: r.GetID(), Name: r.GetName(), Online: r.GetStatus() == "online", Busy: r.GetBusy()}, true, nil
		}
	}
	return Runner{}, false, nil
}
