// Command ghr is the project's CLI.
//
//	ghr local demo [flags]   deploy into a local AWS emulator, run 20 jobs end to end, report
//	ghr local up [flags]     deploy and keep running; prints the endpoints (also as JSON)
//	ghr local soak [flags]   deploy, run jobs with every fault injected at once, check invariants
//	ghr sim [flags]          run the GitHub simulator on its own
//	ghr version
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ghr-dev/ghr/internal/ghsim"
	"github.com/ghr-dev/ghr/internal/sandbox"
	"github.com/ghr-dev/ghr/internal/version"
)

const usage = `usage:
  ghr local demo [-jobs N] [-json FILE] [flags]   run N jobs end to end and report (exit 1 on a lost job or leak)
  ghr local up [flags]                            deploy locally and keep running until Ctrl-C
  ghr local soak [-jobs N] [-spread D] [-json FILE] [flags]
                                                  N jobs over D with every fault at once (exit 1 on a broken invariant)
  ghr sim [-webhook URL] [-secret S] [-org O]      run the GitHub simulator alone until Ctrl-C
  ghr version`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "ghr:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "version":
		fmt.Fprintln(stdout, version.Version)
		return nil
	case "sim":
		return sim(ctx, args[1:], stdout, stderr)
	case "local":
		if len(args) < 2 {
			return errors.New(usage)
		}
		return local(ctx, args[1], args[2:], stdout, stderr)
	default:
		return errors.New(usage)
	}
}

func local(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ghr local "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o sandbox.Options
	fs.StringVar(&o.MotoEndpoint, "moto", "", "use this moto_server endpoint instead of starting one")
	fs.StringVar(&o.Root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&o.WorkDir, "workdir", "", "where state, binaries and logs go (default: a new temp dir)")
	fs.Float64Var(&o.Speedup, "speedup", sandbox.DefaultSpeedup, "how much faster than deployed schedules fire")
	fs.DurationVar(&o.BootDelay, "boot-delay", sandbox.DefaultBootDelay, "simulated instance boot time")
	verbose := fs.Bool("v", false, "log the sandbox's own progress")
	jobs := fs.Int("jobs", 0, "demo, soak: number of workflow jobs (default 20 for demo, 40 for soak)")
	jsonOut := fs.String("json", "", "demo, soak: also write the report as JSON to this file")
	spread := fs.Duration("spread", time.Minute, "soak: queue the jobs evenly over this period")
	seed := fs.Uint64("seed", 7, "soak: fault and job randomness")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.Root == "" {
		root, err := findRoot()
		if err != nil {
			return err
		}
		o.Root = root
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	fmt.Fprintln(stderr, "starting: moto_server, GitHub simulator, terraform apply examples/local …")
	sb, err := sandbox.Up(ctx, o)
	if err != nil {
		return err
	}
	defer sb.Close()
	switch cmd {
	case "up":
		return up(ctx, sb, stdout)
	case "demo":
		return demo(ctx, sb, cmp.Or(*jobs, 20), *jsonOut, stdout, stderr)
	case "soak":
		return soak(ctx, sb, sandbox.SoakSize(cmp.Or(*jobs, 40), *spread, *seed), *jsonOut, stdout, stderr)
	default:
		return errors.New(usage)
	}
}

func up(ctx context.Context, sb *sandbox.Sandbox, stdout io.Writer) error {
	info := map[string]any{
		"webhook_url": sb.WebhookURL, "webhook_secret": sb.WebhookSecret, "github_api_url": sb.Sim.URL,
		"aws_endpoint": sb.Moto, "functions_aws_endpoint": sb.ProxyURL, "prefix": sb.Opts.Prefix,
		"workdir": sb.Opts.WorkDir, "owners": sb.Owners, "repos": sb.Repos,
	}
	fmt.Fprintf(stdout, "ghr is running locally (Ctrl-C stops and removes everything)\n\n")
	fmt.Fprintf(stdout, "  webhook URL     %s\n  webhook secret  %s\n  GitHub API      %s\n  AWS endpoint    %s\n  logs            %s\n\n",
		sb.WebhookURL, sb.WebhookSecret, sb.Sim.URL, sb.Moto, filepath.Join(sb.Opts.WorkDir, "sandbox.log"))
	b, _ := json.Marshal(info)
	fmt.Fprintf(stdout, "%s\n", b)
	<-ctx.Done()
	return nil
}

func demo(ctx context.Context, sb *sandbox.Sandbox, jobs int, jsonOut string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "deployed %d functions; queueing %d jobs\n", len(sb.Deployment.Functions), jobs)
	rep, err := sb.Run(ctx, sandbox.DemoScenario(jobs), stderr)
	if err != nil {
		return err
	}
	if err := publish(stdout, rep.Markdown(), rep.JSON(), jsonOut); err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("demo failed: %d of %d jobs ran, leftovers %+v (logs: %s)", rep.Completed, rep.Jobs, rep.Leftovers, filepath.Join(sb.Opts.WorkDir, "sandbox.log"))
	}
	return nil
}

func soak(ctx context.Context, sb *sandbox.Sandbox, o sandbox.SoakOptions, jsonOut string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "deployed %d functions; soaking %d jobs over %s with every fault at once\n", len(sb.Deployment.Functions), o.Jobs, o.Spread)
	rep, err := sb.Soak(ctx, o, stderr)
	if err != nil {
		return err
	}
	if err := publish(stdout, rep.Markdown(), rep.JSON(), jsonOut); err != nil {
		return err
	}
	if !rep.OK() {
		return fmt.Errorf("soak failed: %s (logs: %s)", strings.Join(rep.Violations, "; "), filepath.Join(sb.Opts.WorkDir, "sandbox.log"))
	}
	return nil
}

// publish prints a report and, when asked, writes its JSON.
func publish(stdout io.Writer, md string, js []byte, jsonOut string) error {
	fmt.Fprintln(stdout, md)
	if jsonOut == "" {
		return nil
	}
	return os.WriteFile(jsonOut, js, 0o644)
}

// findRoot walks up from the working directory to ghr's go.mod.
func findRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/ghr-dev/ghr") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the ghr repository: run from it or pass -root")
		}
		dir = parent
	}
}

// sim runs the GitHub simulator alone, for driving ghr's functions (or anything else that
// speaks GitHub's API) by hand.
func sim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ghr sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	webhook := fs.String("webhook", "", "URL to deliver workflow_job webhooks to")
	secret := fs.String("secret", "", "webhook secret")
	org := fs.String("org", "octo-org", "organization to create, with the App installed")
	repos := fs.String("repos", "app,api", "comma-separated repositories of the organization")
	keyOut := fs.String("key-out", "", "write the App's private key (PEM) to this file")
	if err := fs.Parse(args); err != nil {
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
	if _, err := srv.Install(*org); err != nil {
		return err
	}
	if *keyOut != "" {
		if err := os.WriteFile(*keyOut, srv.PrivateKeyPEM(), 0o600); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(map[string]any{"github_api_url": srv.URL, "app_id": srv.AppID(), "org": *org, "key_file": *keyOut})
	fmt.Fprintf(stdout, "%s\n", b)
	<-ctx.Done()
	return nil
}
