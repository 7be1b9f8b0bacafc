package scaleup

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/runner"
	"github.com/google/go-github/v60/github"
)

// authorizationTTL: how long an installation's details and a repository's authorization are
// reused. Installations and their repository selections change rarely; within this time a
// repository removed from the installation is still launched for, and its registration then
// fails and is cleaned up as before.
const authorizationTTL = time.Hour

// ErrUnauthorized marks a job that can never be served: its installation token cannot be
// minted (unknown or suspended installation, another account's installation) or its
// repository is outside the installation. Such a job is acknowledged, never launched for.
var ErrUnauthorized = errors.New("job not authorized by its installation")

func unauthorized(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnauthorized, fmt.Sprintf(format, args...))
}

// installation is what authorization needs of a GitHub App installation.
type installation struct {
	account   string // login of the account it is installed on
	selected  bool   // repository_selection "selected": only listed repositories
	suspended bool
	fetched   time.Time
}

// Authorize reports whether the job's installation may serve a runner for repo: the
// installation exists, is not suspended, belongs to the repository's account (and the runner
// owner's), covers the repository, and an installation token can be minted. Calls are cached
// (authorizationTTL), so steady state costs nothing: one installation lookup per
// installation, one repository lookup per repository only for installations limited to
// selected repositories, and the token mint registration needs anyway. Errors wrapping
// ErrUnauthorized are final for the job; any other error (network, 5xx, rate limit, our own
// credentials refused) is not the job's fault.
func (g *AppGitHub) Authorize(ctx context.Context, o runner.Owner, repo string) error {
	repoOwner, _, ok := strings.Cut(repo, "/")
	if !ok || repoOwner == "" {
		return unauthorized("repository %q is not owner/name", repo)
	}
	if runnerAccount, _, _ := strings.Cut(o.Name, "/"); !strings.EqualFold(runnerAccount, repoOwner) {
		return unauthorized("runner owner %s is outside repository %s's account", o.Name, repo)
	}
	key := fmt.Sprintf("%d:%s", o.InstallationID, strings.ToLower(repo))
	g.mu.Lock()
	at, ok := g.authorized[key]
	g.mu.Unlock()
	if ok && g.now().Sub(at) < authorizationTTL {
		return nil
	}
	id, err := g.authorize(ctx, o.InstallationID, repo, repoOwner)
	if err != nil {
		return err
	}
	if err := g.call(ctx, func() error { _, err := g.app.Token(ctx, id); return err }); err != nil {
		if notFound(err) || statusOf(err) == http.StatusForbidden {
			return unauthorized("installation %d: no token can be minted: %v", id, err)
		}
		return fmt.Errorf("authorize %s: %w", repo, err)
	}
	g.mu.Lock()
	g.authorized[key] = g.now()
	g.mu.Unlock()
	return nil
}

// authorize checks the installation named by the job (or, when the job names none, the one
// covering repo) and returns its id.
func (g *AppGitHub) authorize(ctx context.Context, id int64, repo, repoOwner string) (int64, error) {
	if id == 0 {
		found, err := g.repoInstallation(ctx, repo)
		if err != nil {
			return 0, err
		}
		return found, nil
	}
	in, err := g.installation(ctx, id)
	if err != nil {
		return 0, err
	}
	switch {
	case in.suspended:
		return 0, unauthorized("installation %d is suspended", id)
	case !strings.EqualFold(in.account, repoOwner):
		return 0, unauthorized("installation %d belongs to %s, not to %s", id, in.account, repoOwner)
	case in.selected:
		found, err := g.repoInstallation(ctx, repo)
		if errors.Is(err, ErrUnauthorized) || (err == nil && found != id) {
			return 0, unauthorized("repository %s is not in installation %d's selected repositories", repo, id)
		}
		if err != nil {
			return 0, err
		}
	}
	return id, nil
}

// installation fetches an installation's account and repository selection, cached.
func (g *AppGitHub) installation(ctx context.Context, id int64) (installation, error) {
	g.mu.Lock()
	in, ok := g.installs[id]
	g.mu.Unlock()
	if ok && g.now().Sub(in.fetched) < authorizationTTL {
		return in, nil
	}
	var got *github.Installation
	err := g.call(ctx, func() (err error) {
		got, _, err = g.app.AppClient().Apps.GetInstallation(ctx, id)
		return err
	})
	if err != nil {
		if notFound(err) {
			return installation{}, unauthorized("installation %d does not exist for this App", id)
		}
		return installation{}, fmt.Errorf("get installation %d: %w", id, err)
	}
	in = installation{
		account: got.GetAccount().GetLogin(), selected: got.GetRepositorySelection() == "selected",
		suspended: got.SuspendedAt != nil, fetched: g.now(),
	}
	g.mu.Lock()
	g.installs[id] = in
	g.mu.Unlock()
	return in, nil
}

// repoInstallation returns the id of the App's installation covering repo.
func (g *AppGitHub) repoInstallation(ctx context.Context, repo string) (int64, error) {
	var id int64
	err := g.call(ctx, func() (err error) {
		id, err = g.app.InstallationID(ctx, repo)
		return err
	})
	if err != nil {
		if notFound(err) {
			return 0, unauthorized("repository %s is in no installation of this App", repo)
		}
		return 0, fmt.Errorf("find installation of %s: %w", repo, err)
	}
	return id, nil
}

func statusOf(err error) int {
	var gh *github.ErrorResponse
	if errors.As(err, &gh) && gh.Response != nil {
		return gh.Response.StatusCode
	}
	return 0
}

func notFound(err error) bool { return statusOf(err) == http.StatusNotFound }
