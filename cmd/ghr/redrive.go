package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
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
	var f deploymentFlags
	var dry bool
	var apiURL string
	fs := newFlags("redrive")
	f.define(fs)
	fs.BoolVar(&dry, "dry-run", false, "show what would move, change nothing")
	fs.StringVar(&apiURL, "github-api-url", "", "GitHub API URL (GitHub Enterprise Server: https://HOST/api/v3; default github.com)")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	// The App's own credentials, where the module stores them (terraform/modules/secrets).
	src := config.GitHubApp{
		AppID:      config.Secret{Env: "GITHUB_APP_ID", Parameter: "/" + f.prefix + "/app/id"},
		PrivateKey: config.Secret{Env: "GITHUB_APP_KEY", Parameter: "/" + f.prefix + "/app/key"},
		APIURL:     apiURL,
	}
	params := ssmparam.Reader{API: d.SSM.(ssmparam.API)}
	app, err := githubapp.Load(ctx, src, params, githubapp.Config{PointsPerMinute: config.DefaultGitHubPointsPerMinute})
	if err != nil {
		return fmt.Errorf("github app of %s: %w", f.prefix, err)
	}
	gh := scaleup.NewAppGitHub(app, "", redriveGitHubConcurrency, nil)
	queued := func(ctx context.Context, j queue.Job) (bool, error) {
		return gh.JobQueued(ctx, scaleup.Owner{Name: j.Owner, Level: j.Level, InstallationID: j.InstallationID}, j.Repo, j.JobID)
	}
	rs, err := d.Redrive(ctx, dry, queued)
	if f.json {
		if jerr := printJSON(stdout, rs); jerr != nil {
			return jerr
		}
		return err
	}
	t := newTable(stdout, "DEAD-LETTER QUEUE", "JOB", "ACTION", "REASON")
	for _, r := range rs {
		action := r.Action
		if dry {
			action = "would be " + action
		}
		t.row(r.Queue, fmt.Sprint(r.JobID), t.paint(action, yellow, r.Action != "moved"), r.Reason)
	}
	if ferr := t.flush(); ferr != nil {
		return ferr
	}
	fmt.Fprintf(stdout, "%d dead letters looked at\n", len(rs))
	return err
}
