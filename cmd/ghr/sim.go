package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
)

func init() {
	register("sim", "[-webhook URL] [-secret S] [-org O]", "run the GitHub simulator alone until Ctrl-C", runSim)
	register("sim queue", "-repo OWNER/NAME -labels L1,L2 [-n N]", "queue workflow jobs by hand in a running `local up` or `sim`", runSimQueue)
}

// controlEnv names the control URL for `ghr sim queue` when -control is not given.
const (
	controlEnv     = "GHR_SIM_CONTROL"
	controlTimeout = 10 * time.Second
)

// runSim runs the GitHub simulator alone, for driving ghr's functions (or anything else that
// speaks GitHub's API) by hand.
func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("sim")
	webhook := fs.String("webhook", "", "URL to deliver workflow_job webhooks to")
	secret := fs.String("secret", "", "webhook secret")
	org := fs.String("org", "octo-org", "organization to create, with the App installed")
	repos := fs.String("repos", "app,api", "comma-separated repositories of the organization")
	keyOut := fs.String("key-out", "", "write the App's private key (PEM) to this file")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	srv, err := ghsim.Start(ctx, ghsim.Options{WebhookURL: *webhook, WebhookSecret: *secret})
	if err != nil {
		return err
	}
	defer srv.Close()
	if _, err := srv.AddOrg(*org); err != nil {
		return err
	}
	for _, r := range strings.Split(*repos, ",") {
		if r = strings.TrimSpace(r); r != "" {
			if _, err := srv.AddRepo(*org, r); err != nil {
				return err
			}
		}
	}
	in, err := srv.Install(*org)
	if err != nil {
		return err
	}
	if *keyOut != "" {
		if err := os.WriteFile(*keyOut, srv.PrivateKeyPEM(), 0o600); err != nil {
			return err
		}
	}
	ctl, err := startControl(ctx, srv.Sim)
	if err != nil {
		return err
	}
	defer ctl.Close()
	b, _ := json.Marshal(map[string]any{"github_api_url": srv.URL, "app_id": srv.AppID(), "installation_id": in.ID,
		"org": *org, "key_file": *keyOut, "control_url": ctl.URL})
	fmt.Fprintf(stdout, "%s\n", b)
	<-ctx.Done()
	return nil
}

func runSimQueue(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("sim queue")
	ctlURL := fs.String("control", os.Getenv(controlEnv), "control URL printed by `ghr local up` or `ghr sim` (default $"+controlEnv+")")
	repo := fs.String("repo", "", "repository OWNER/NAME the job runs for")
	labels := fs.String("labels", "", "comma-separated runs-on labels, e.g. self-hosted,linux,x64")
	n := fs.Int("n", 1, "number of jobs")
	dur := fs.Duration("duration", 2*time.Second, "how long each job runs on its runner")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	var ls []string
	for _, l := range strings.Split(*labels, ",") {
		if l = strings.TrimSpace(l); l != "" {
			ls = append(ls, l)
		}
	}
	switch {
	case *ctlURL == "":
		return usageError{"-control: give the control URL `ghr local up` printed (or set " + controlEnv + ")"}
	case !strings.Contains(*repo, "/"):
		return usageError{"-repo: want OWNER/NAME"}
	case len(ls) == 0:
		return usageError{"-labels: want at least one label"}
	case *n < 1:
		return usageError{"-n: want at least 1"}
	}
	body, _ := json.Marshal(queueRequest{Repo: *repo, Labels: ls, Duration: dur.String()})
	client := &http.Client{Timeout: controlTimeout}
	for range *n {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(*ctlURL, "/")+"/jobs", bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		out, _ := io.ReadAll(io.LimitReader(resp.Body, maxControlBody))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("queue: %s: %s", resp.Status, cmp.Or(strings.TrimSpace(string(out)), "no detail"))
		}
		var j queuedJob
		if err := json.Unmarshal(out, &j); err != nil {
			return fmt.Errorf("queue: answer: %w", err)
		}
		fmt.Fprintf(stdout, "queued job %d (run %d) in %s for [%s]\n", j.ID, j.RunID, j.Repo, strings.Join(j.Labels, " "))
	}
	return nil
}
