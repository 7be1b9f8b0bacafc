package syncer

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-github/v60/github"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
)

// Credentials resolves the syncer's optional GitHub credentials once per container: a token,
// an App, or nil (anonymous).
func Credentials(ctx context.Context, cfg config.Syncer, r config.ParameterReader) (TokenSource, error) {
	switch {
	case cfg.Token != nil:
		tok, err := cfg.Token.Resolve(ctx, r)
		if err != nil {
			return nil, err
		}
		return func(context.Context) (string, error) { return tok, nil }, nil
	case cfg.App != nil:
		app, err := githubapp.Load(ctx, *cfg.App, r, githubapp.Config{})
		if err != nil {
			return nil, err
		}
		return AppToken(app), nil
	}
	return nil, nil
}

// AppToken authenticates as one of the App's installations: any installation token may read
// public releases, at the installation's rate limit instead of the anonymous one.
func AppToken(app *githubapp.App) TokenSource {
	var (
		mu sync.Mutex
		id int64
	)
	return func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if id == 0 {
			insts, _, err := app.AppClient().Apps.ListInstallations(ctx, &github.ListOptions{PerPage: 1})
			if err != nil {
				return "", fmt.Errorf("list app installations: %w", err)
			}
			if len(insts) == 0 {
				return "", errors.New("the GitHub App has no installation")
			}
			id = insts[0].GetID()
		}
		return app.Token(ctx, id)
	}
}
