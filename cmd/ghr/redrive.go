package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/ops"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/ssmparam"
)

// redriveGitHubConcurrency bounds the job-state calls in flight; redrive is not in a hurry.
const redriveGitHubConcurrency = 2

func init() {
	register("redrive", "-prefix P [-dry-run] [-github-api-url URL]",
		"move build dead letters back to their queues, dropping jobs GitHub no longer queues", runRedrive)
}

func runRedrive(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var dry bool
	var apiURL string
	return deploymentCommand[[]ops.Redriven]{
		name: "redrive",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&dry, "dry-run", false, "show what would move, change nothing")
			fs.StringVar(&apiURL, "github-api-url", "", "GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3; default github.com)")
		},
		// Messages are moved one by one: what moved before a failure is shown.
		partial: func(rs []ops.Redriven) bool { return len(rs) > 0 },
		do: func(ctx context.Context, d *ops.Deployment, f *deploymentFlags, _ []string) ([]ops.Redriven, error) {
			queued, err := jobQueued(ctx, d, f.prefix, apiURL)
			if err != nil {
				return nil, err
			}
			return d.Redrive(ctx, dry, queued)
		},
		text: func(w io.Writer, rs []ops.Redriven) error {
			t := newTable(w, "DEAD-LETTER QUEUE", "JOB", "ACTION", "REASON")
			for _, r := range rs {
				action := r.Action
				if dry {
					action = "would be " + action
				}
				t.row(r.Queue, fmt.Sprint(r.JobID), t.paint(action, yellow, r.Action != "moved"), r.Reason)
			}
			if err := t.flush(); err != nil {
				return err
			}
			_, err := fmt.Fprintf(w, "%d dead letters looked at\n", len(rs))
			return err
		},
	}.run(ctx, args, stdout)
}

// jobQueued asks GitHub, as the deployment's App, whether a job still waits for a runner.
func jobQueued(ctx context.Context, d *ops.Deployment, prefix, apiURL string) (ops.JobQueued, error) {
	// The App's own credentials, where the module stores them (terraform/modules/secrets).
	src := config.GitHubApp{
		AppID:      config.Secret{Env: "GITHUB_APP_ID", Parameter: "/" + prefix + "/app/id"},
		PrivateKey: config.Secret{Env: "GITHUB_APP_KEY", Parameter: "/" + prefix + "/app/key"},
		APIURL:     apiURL,
	}
	params := ssmparam.Reader{API: d.SSM.(ssmparam.API)}
	app, err := githubapp.Load(ctx, src, params, githubapp.Config{PointsPerMinute: config.DefaultGitHubPointsPerMinute})
	if err != nil {
		return nil, fmt.Errorf("github app of %s: %w", prefix, err)
	}
	gh := scaleup.NewAppGitHub(app, "", redriveGitHubConcurrency, nil)
	return func(ctx context.Context, j queue.Job) (bool, error) {
		return gh.JobQueued(ctx, j.RunnerOwner(), j.Repo, j.JobID)
	}, nil
}
