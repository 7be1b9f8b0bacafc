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
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/sandbox"
)

func init() {
	register("local demo", "[-jobs N] [-json FILE] [flags]", "deploy locally, run N jobs end to end, report (exit 1 on a lost job or leak)", runLocal("demo"))
	register("local up", "[flags]", "deploy locally and keep running until Ctrl-C", runLocal("up"))
	register("local soak", "[-jobs N] [-spread D] [-json FILE] [flags]", "N jobs over D with every fault at once (exit 1 on a broken invariant)", runLocal("soak"))
}

// destroyTimeout bounds the clean-up of a deployment in an emulator we did not start.
const destroyTimeout = 3 * time.Minute

// prefixRule is the module's rule for var.prefix (terraform/variables.tf), checked before any work.
var prefixRule = regexp.MustCompile(`^[a-z][a-z0-9-]{0,22}[a-z0-9]$`)

// localFlags are the flags every `ghr local` command shares, plus each one's own.
type localFlags struct {
	cmd     string
	o       sandbox.Options
	verbose bool
	jobs    int
	jsonOut string
	spread  time.Duration
	outage  time.Duration
	seed    uint64
}

func (f *localFlags) define(fs *flag.FlagSet, cmd string) {
	f.cmd = cmd
	fs.StringVar(&f.o.MotoEndpoint, "moto", "", "use this moto_server endpoint (http://127.0.0.1:PORT) instead of starting one")
	fs.StringVar(&f.o.Prefix, "prefix", sandbox.DefaultPrefix, "deployment prefix; give each sandbox sharing one -moto its own")
	fs.StringVar(&f.o.Root, "root", "", "repository root (default: found from the working directory)")
	fs.StringVar(&f.o.WorkDir, "workdir", "", "where state, binaries and logs go (default: a new temp dir, removed at the end)")
	fs.Float64Var(&f.o.Speedup, "speedup", sandbox.DefaultSpeedup, "how much faster than deployed schedules fire")
	fs.DurationVar(&f.o.BootDelay, "boot-delay", sandbox.DefaultBootDelay, "simulated instance boot time")
	fs.BoolVar(&f.verbose, "v", false, "log the sandbox's own progress")
	if cmd == "demo" || cmd == "soak" {
		// Every demo and soak host boots the real user data where hosts can (Linux network
		// namespaces, as root): a boot is where instances die and fail, and the demo report
		// shows its phases.
		fs.Float64Var(&f.o.RealBoots, "real-boots", defaultRealBoots(), "share of instances (0..1) that run the real user data and start-runner.sh; the rest are Go hosts (Linux as root only)")
	}
	switch cmd {
	case "demo":
		fs.IntVar(&f.jobs, "jobs", 20, "number of workflow jobs")
		fs.StringVar(&f.jsonOut, "json", "", "also write the report as JSON to this file")
	case "soak":
		fs.IntVar(&f.jobs, "jobs", 40, "number of workflow jobs")
		fs.StringVar(&f.jsonOut, "json", "", "also write the report as JSON to this file")
		fs.DurationVar(&f.spread, "spread", time.Minute, "queue the jobs evenly over this period")
		fs.DurationVar(&f.outage, "outage", 0, "length of each outage (DescribeInstances, GitHub's JIT endpoint, all EC2 capacity, in turn; default a third of -spread, at most 10m)")
		fs.Uint64Var(&f.seed, "seed", 7, "fault and job randomness")
	}
}

// check validates the command line before anything starts.
func (f *localFlags) check(ctx context.Context) error {
	if !prefixRule.MatchString(f.o.Prefix) {
		return usageError{fmt.Sprintf("-prefix %q: 2 to 24 lower-case letters, digits or hyphens, starting with a letter and not ending with a hyphen", f.o.Prefix)}
	}
	if f.cmd != "up" && f.jobs < 1 {
		return usageError{fmt.Sprintf("-jobs %d: want at least 1", f.jobs)}
	}
	if f.o.MotoEndpoint != "" {
		if err := motoproc.Check(ctx, f.o.MotoEndpoint); err != nil {
			return usageError{"-moto: " + err.Error()}
		}
	}
	return nil
}

func runLocal(cmd string) runFunc {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		var f localFlags
		fs := newFlags("local " + cmd)
		f.define(fs, cmd)
		if err := parseFlags(fs, args, 0, stdout); err != nil {
			return err
		}
		if err := f.check(ctx); err != nil {
			return err
		}
		if f.o.Root == "" {
			root, err := findRoot()
			if err != nil {
				return err
			}
			f.o.Root = root
		}
		return local(ctx, cmd, f, stdout, stderr)
	}
}

func local(ctx context.Context, cmd string, f localFlags, stdout, stderr io.Writer) (err error) {
	o := f.o
	if err := ensureDist(ctx, o.Root, stderr); err != nil {
		return interrupted(ctx, "building", err)
	}
	ownWorkDir := o.WorkDir == ""
	if ownWorkDir {
		if o.WorkDir, err = os.MkdirTemp("", "ghr-local-"); err != nil {
			return err
		}
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelInfo
	}
	o.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	o.Progress = func(line string) { fmt.Fprintln(stderr, line) }
	fmt.Fprintf(stderr, "region: %s; prefix: %s; work dir: %s\n", motoproc.Region, o.Prefix, o.WorkDir)

	sb, err := sandbox.Up(ctx, o)
	// Whatever happens, leave nothing behind: the emulator's resources (when it is not ours
	// it outlives us; ours dies with Close) and, unless the command failed and its logs
	// explain why, the work folder.
	defer func() {
		if sb != nil {
			sb.Close()
		}
		if o.MotoEndpoint != "" {
			destroy(ctx, o, stderr)
		}
		if ownWorkDir && (err == nil || errors.Is(err, errInterrupted)) {
			os.RemoveAll(o.WorkDir)
		}
	}()
	if err != nil {
		return interrupted(ctx, "deploying", err)
	}
	switch cmd {
	case "up":
		return up(ctx, sb, stdout, stderr)
	case "demo":
		return interrupted(ctx, "running the demo", demo(ctx, sb, f.jobs, f.jsonOut, stdout, stderr))
	default:
		o := sandbox.SoakSize(f.jobs, f.spread, f.seed)
		if f.outage > 0 {
			o.SetOutage(f.outage)
		}
		return interrupted(ctx, "soaking", soak(ctx, sb, o, f.jsonOut, stdout, stderr))
	}
}

// interrupted reports err as an interruption when ctx ended (Ctrl-C), whatever the step's
// own error says (terraform's is just "exit status 1").
func interrupted(ctx context.Context, while string, err error) error {
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("%w while %s: stopped everything and removed what it had created", errInterrupted, while)
	}
	return err
}

// destroy removes the deployment from an emulator ghr did not start, so its prefix can be
// used again; a state lost to an interrupted apply may leave some behind, which it names.
func destroy(ctx context.Context, o sandbox.Options, stderr io.Writer) {
	dataDir := filepath.Join(o.WorkDir, "terraform")
	if _, err := os.Stat(filepath.Join(dataDir, "terraform.tfstate")); err != nil {
		if _, err := os.Stat(filepath.Join(dataDir, "sandbox.tfvars.json")); err == nil {
			fmt.Fprintf(stderr, "destroy: the apply ended before saving its state: resources named %s-* may remain in %s\n", o.Prefix, o.MotoEndpoint)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), destroyTimeout)
	defer cancel()
	fmt.Fprintf(stderr, "destroy: removing prefix %s from %s …\n", o.Prefix, o.MotoEndpoint)
	tf, err := sandbox.NewTerraform(ctx, cmp.Or(o.Example, filepath.Join(o.Root, "examples", "local")), dataDir, io.Discard)
	if err == nil {
		err = tf.Destroy(ctx)
	}
	if err != nil {
		fmt.Fprintf(stderr, "destroy: %v: resources named %s-* may remain in %s\n", err, o.Prefix, o.MotoEndpoint)
	}
}

// ensureDist builds the functions for this machine when a zip is missing.
func ensureDist(ctx context.Context, root string, stderr io.Writer) error {
	names, err := distbuild.Functions(root)
	if err != nil {
		return err
	}
	dist := filepath.Join(root, "dist")
	var missing []string
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dist, n+".zip")); err != nil {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		fmt.Fprintf(stderr, "build: using %d function zips in %s (make dist ARCH=%s rebuilds them)\n", len(names), dist, runtime.GOARCH)
		return nil
	}
	start := time.Now()
	fmt.Fprintf(stderr, "build: %s for linux/%s into %s …\n", strings.Join(missing, ", "), runtime.GOARCH, dist)
	for _, n := range missing {
		if err := distbuild.Build(ctx, root, dist, runtime.GOARCH, n); err != nil {
			return fmt.Errorf("build %s: %w", n, err)
		}
	}
	fmt.Fprintf(stderr, "build: %d functions in %s\n", len(missing), time.Since(start).Round(time.Second))
	return nil
}

func up(ctx context.Context, sb *sandbox.Sandbox, stdout, stderr io.Writer) error {
	ctl, err := startControl(ctx, sb.Sim.Sim)
	if err != nil {
		return err
	}
	defer ctl.Close()
	info := map[string]any{
		"region": motoproc.Region, "webhook_url": sb.WebhookURL, "webhook_secret": sb.WebhookSecret,
		"github_api_url": sb.Sim.URL, "github_app_id": sb.Sim.AppID(), "github_app_key_file": sb.KeyFile,
		"installations": sb.Installations, "aws_endpoint": sb.Moto, "functions_aws_endpoint": sb.ProxyURL,
		"prefix": sb.Opts.Prefix, "workdir": sb.Opts.WorkDir, "owners": sb.Owners, "repos": sb.Repos,
		"control_url": ctl.URL,
	}
	fmt.Fprintf(stdout, "ghr is running locally (Ctrl-C stops and removes everything)\n\n")
	fmt.Fprintf(stdout, "  region          %s\n  prefix          %s\n  webhook URL     %s\n  webhook secret  %s\n", motoproc.Region, sb.Opts.Prefix, sb.WebhookURL, sb.WebhookSecret)
	fmt.Fprintf(stdout, "  GitHub API      %s\n  App id          %d\n  App key         %s\n", sb.Sim.URL, sb.Sim.AppID(), sb.KeyFile)
	for _, owner := range sb.Owners {
		fmt.Fprintf(stdout, "  installation    %d (%s)\n", sb.Installations[owner], owner)
	}
	fmt.Fprintf(stdout, "  AWS endpoint    %s\n  logs            %s\n\n", sb.Moto, filepath.Join(sb.Opts.WorkDir, "sandbox.log"))
	fmt.Fprintf(stdout, "queue a job:  go run ./cmd/ghr sim queue -control %s -repo %s -labels %s\n\n", ctl.URL, sb.Repos[0], strings.Join(sandbox.SmallLabels, ","))
	b, _ := json.Marshal(info)
	fmt.Fprintf(stdout, "%s\n", b)
	<-ctx.Done()
	fmt.Fprintln(stderr, "stopping: Ctrl-C received")
	return nil
}

func demo(ctx context.Context, sb *sandbox.Sandbox, jobs int, jsonOut string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "queueing %d jobs\n", jobs)
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() { defer close(watched); showStatusMidRun(watchCtx, sb, stderr) }()
	rep, err := sb.Run(ctx, sandbox.DemoScenario(jobs), stderr)
	stopWatch()
	<-watched
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

// midRunPoll is how often the demo looks for the moment to show `ghr status`.
const midRunPoll = 200 * time.Millisecond

// showStatusMidRun prints `ghr status` of the sandbox once, at the first moment jobs are both
// running and waiting: what an operator would see during the demo.
func showStatusMidRun(ctx context.Context, sb *sandbox.Sandbox, w io.Writer) {
	d := newDeployment(sb.Opts.Prefix, motoproc.HarnessConfig(sb.Moto))
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(midRunPoll):
		}
		if queued, running, _ := sb.Sim.JobCounts(); queued == 0 || running == 0 {
			continue
		}
		st, err := d.Status(ctx)
		if err != nil {
			fmt.Fprintf(w, "ghr status: %v\n", err)
			return
		}
		fmt.Fprintf(w, "\n$ ghr status -prefix %s   (AWS_ENDPOINT_URL=%s)\n", sb.Opts.Prefix, sb.Moto)
		_ = printStatus(w, st)
		fmt.Fprintln(w)
		return
	}
}

func soak(ctx context.Context, sb *sandbox.Sandbox, o sandbox.SoakOptions, jsonOut string, stdout, stderr io.Writer) error {
	fmt.Fprintf(stderr, "soaking %d jobs over %s with every fault at once (outages of %s each)\n", o.Jobs, o.Spread, o.Outage)
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

// defaultRealBoots is 1 where the sandbox can boot hosts for real: network namespaces need
// Linux and root.
func defaultRealBoots() float64 {
	if runtime.GOOS == "linux" && os.Geteuid() == 0 {
		return 1
	}
	return 0
}
