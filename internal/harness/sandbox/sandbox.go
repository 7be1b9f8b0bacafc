package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/harness/awsproxy"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// Sandbox defaults.
const (
	DefaultPrefix    = "ghr-local"
	DefaultSpeedup   = 60              // a 5-minute schedule fires every 5 s
	DefaultBootDelay = 2 * time.Second // a simulated instance's boot, scaled down from ~30 s
)

// Options configure a sandbox.
type Options struct {
	Root         string // repository root: examples/local and dist/ are found from here
	Example      string // Terraform configuration; default <Root>/examples/local
	DistDir      string // Lambda zips; default <Root>/dist
	WorkDir      string // state, extracted binaries and logs; default a new temp dir
	MotoEndpoint string // use this emulator instead of starting one
	Prefix       string
	Speedup      float64
	BootDelay    time.Duration
	Seed         uint64
	Log          *slog.Logger
	// Sim adjusts the simulator's options (faults, limits) before it starts.
	Sim func(*ghsim.Options)
	// Vars add to or override examples/local's variables (e.g. small_max_runners).
	Vars map[string]any
	// Apps is how many GitHub Apps the deployment spreads its calls over (github_apps): the
	// webhook App and Apps-1 more, each installed on every owner with its own key and limits.
	// 0 is one App.
	Apps int
	// Progress, when set, hears one line per phase of Up (emulator, apply, functions).
	Progress func(line string)
	// RealBoots is the share of instances (0..1, chosen with Seed) that run the real user data
	// and start-runner.sh with the simulated runner (BootEnv); the rest are Go fakes.
	RealBoots float64
}

// Sandbox is a running deployment.
type Sandbox struct {
	Opts          Options
	Moto          string // the emulator's URL (Terraform and the hosts talk to it directly)
	Proxy         *awsproxy.Proxy
	ProxyURL      string // the functions' AWS endpoint
	Sim           *ghsim.Server
	TF            *Terraform
	Deployment    *Deployment
	Wiring        *Wiring
	Hosts         *Hosts
	WebhookURL    string
	WebhookSecret string
	Owners        []string // orgs and users with the App installed
	Repos         []string
	Installations map[string]int64 // owner → the App's installation id
	KeyFile       string           // the simulated App's private key (PEM, mode 0600)
	Resources     int              // resources in the applied Terraform state

	moreApps     []map[string]any // github_apps: the simulator's other Apps (Opts.Apps)
	moto         *motoproc.Proc
	runners      *ghsim.RunnerService
	bootDir      string
	lastProgress string
	proxy        *http.Server
	cancel       context.CancelFunc
	wg           sync.WaitGroup
	logFile      *os.File
}

// Up starts everything and returns when the webhook URL answers.
func Up(ctx context.Context, o Options) (_ *Sandbox, err error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	s := &Sandbox{Opts: o}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.logFile, err = os.Create(filepath.Join(o.WorkDir, "sandbox.log"))
	if err != nil {
		return nil, err
	}
	logs := io.Writer(s.logFile)
	if s.Opts.Log == nil {
		// Without a caller's logger the sandbox's own lines go beside the functions' output.
		s.Opts.Log = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})).With("component", "sandbox")
		o.Log = s.Opts.Log
	}

	s.Moto = o.MotoEndpoint
	if s.Moto == "" {
		if s.moto, err = motoproc.Start(ctx, logs); err != nil {
			return nil, err
		}
		s.Moto = s.moto.URL
		s.phase("emulator: started moto_server at %s", s.Moto)
	} else {
		s.phase("emulator: using %s (prefix %s)", s.Moto, o.Prefix)
	}
	if err := motoproc.LikeANewAccount(ctx, s.Moto); err != nil {
		return nil, err
	}
	if err := s.startProxy(); err != nil {
		return nil, err
	}
	var release *ghsim.Release
	if o.RealBoots > 0 {
		if release, err = simRunnerRelease(ctx, o.Root, o.WorkDir); err != nil {
			return nil, err
		}
	}
	if err := s.startSim(ctx, release); err != nil {
		return nil, err
	}
	o.Log.Info("applying Terraform", "example", o.Example)
	s.phase("apply: terraform init and apply %s …", o.Example)
	start := time.Now()
	if s.TF, err = NewTerraform(ctx, o.Example, filepath.Join(o.WorkDir, "terraform"), logs); err != nil {
		return nil, err
	}
	if err := s.TF.Apply(ctx, s.tfVars()); err != nil {
		return nil, fmt.Errorf("%w (log: %s)", err, s.logFile.Name())
	}
	o.Log.Info("applied", "seconds", time.Since(start).Seconds())
	if s.Resources, err = s.TF.Resources(); err != nil {
		return nil, err
	}
	s.phase("apply: %d resources in %s", s.Resources, time.Since(start).Round(time.Second))

	awsCfg := motoproc.HarnessConfig(s.Moto)
	if s.Deployment, err = Discover(ctx, awsCfg, o.Prefix+"-"); err != nil {
		return nil, err
	}
	s.Wiring, err = Wire(s.Deployment, WireOptions{
		DistDir: o.DistDir, WorkDir: filepath.Join(o.WorkDir, "functions"), Endpoint: s.ProxyURL,
		Speedup: o.Speedup, SQS: sqs.NewFromConfig(motoproc.HarnessConfig(s.Moto)), Logs: logs, Log: o.Log,
		Credentials: s.Proxy.Credentials, Allowed: s.Proxy.Allowed,
	})
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	if err := s.Wiring.Start(runCtx); err != nil {
		return nil, err
	}
	s.WebhookURL = s.Wiring.URL + "/webhook"
	s.phase("functions: %d started, webhook at %s", len(s.Deployment.Functions), s.WebhookURL)
	s.Sim.SetWebhook(s.WebhookURL, s.WebhookSecret)
	s.Hosts = &Hosts{EC2: ec2.NewFromConfig(awsCfg), SSM: ssm.NewFromConfig(awsCfg), Sim: s.Sim.Sim, Prefix: o.Prefix, RunnerNamePrefix: s.runnerNamePrefix(), BootDelay: o.BootDelay, Log: o.Log, Events: s.Wiring.Events}
	if o.RealBoots > 0 {
		if err := s.startBoots(ctx, awsCfg); err != nil {
			return nil, err
		}
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.Hosts.Run(runCtx) }()
	ship := &metricShipper{path: s.logFile.Name(), cw: cloudwatch.NewFromConfig(awsCfg), log: o.Log}
	go func() { defer s.wg.Done(); ship.run(runCtx) }()
	return s, nil
}

func (o *Options) defaults() error {
	if o.Root == "" {
		return errors.New("sandbox: repository root not set")
	}
	if o.Example == "" {
		o.Example = filepath.Join(o.Root, "examples", "local")
	}
	if o.DistDir == "" {
		o.DistDir = filepath.Join(o.Root, "dist")
	}
	if o.WorkDir == "" {
		dir, err := os.MkdirTemp("", "ghr-local-")
		if err != nil {
			return err
		}
		o.WorkDir = dir
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return err
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Speedup <= 0 {
		o.Speedup = DefaultSpeedup
	}
	if o.BootDelay < 0 {
		o.BootDelay = 0
	}
	return nil
}

func (s *Sandbox) startProxy() error {
	p, err := awsproxy.New(s.Moto, s.Opts.Seed)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	if s.Opts.Log != nil {
		p.SetLogger(s.Opts.Log)
	}
	s.Proxy, s.ProxyURL = p, "http://"+ln.Addr().String()
	s.proxy = &http.Server{Handler: p}
	go s.proxy.Serve(ln) //nolint:errcheck // ends with Close
	return nil
}

// The simulated world: an organization with two repositories, and a user with one, all
// with the App installed.
var (
	simOrg   = "octo-org"
	simUser  = "octocat"
	simRepos = []string{"octo-org/app", "octo-org/api", "octocat/dotfiles"}
)

func (s *Sandbox) startSim(ctx context.Context, release *ghsim.Release) error {
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	s.WebhookSecret = hex.EncodeToString(secret)
	// GitHub never re-runs a job by itself: ghr's spot-interruption path must (RetryLostJobs off).
	opts := ghsim.Options{WebhookSecret: s.WebhookSecret, Seed: s.Opts.Seed}
	if release != nil {
		opts.RunnerReleases = []ghsim.Release{*release}
	}
	if s.Opts.Sim != nil {
		s.Opts.Sim(&opts)
	}
	sim, err := ghsim.Start(ctx, opts)
	if err != nil {
		return err
	}
	s.Sim = sim
	if _, err := sim.AddOrg(simOrg); err != nil {
		return err
	}
	if _, err := sim.AddUser(simUser); err != nil {
		return err
	}
	for _, full := range simRepos {
		owner, name, _ := strings.Cut(full, "/")
		if _, err := sim.AddRepo(owner, name); err != nil {
			return err
		}
	}
	s.Installations = map[string]int64{}
	for _, owner := range []string{simOrg, simUser} {
		in, err := sim.Install(owner)
		if err != nil {
			return err
		}
		s.Installations[owner] = in.ID
	}
	for range s.Opts.Apps - 1 {
		a, err := sim.AddApp(ghsim.AppOptions{})
		if err != nil {
			return err
		}
		for _, owner := range []string{simOrg, simUser} {
			if _, err := sim.InstallApp(a.ID, owner); err != nil {
				return err
			}
		}
		s.moreApps = append(s.moreApps, map[string]any{"id": fmt.Sprint(a.ID), "key_base64": base64.StdEncoding.EncodeToString(a.PrivateKeyPEM)})
	}
	s.Owners, s.Repos = []string{simOrg, simUser}, simRepos
	s.KeyFile = filepath.Join(s.Opts.WorkDir, "app-key.pem")
	return os.WriteFile(s.KeyFile, sim.PrivateKeyPEM(), 0o600)
}

func (s *Sandbox) phase(format string, args ...any) {
	if s.Opts.Progress != nil {
		s.Opts.Progress(fmt.Sprintf(format, args...))
	}
}

// tfVars are examples/local's inputs: where AWS and GitHub are, the App's credentials, and
// the code to deploy.
func (s *Sandbox) tfVars() map[string]any {
	arch := map[string]string{"amd64": "x86_64", "arm64": "arm64"}[runtime.GOARCH]
	vars := map[string]any{
		"prefix":                s.Opts.Prefix,
		"aws_endpoint":          s.Moto,
		"github_api_url":        s.Sim.URL,
		"github_app_id":         fmt.Sprint(s.Sim.AppID()),
		"github_app_key_base64": base64.StdEncoding.EncodeToString(s.Sim.PrivateKeyPEM()),
		"webhook_secret":        s.WebhookSecret,
		"dist_dir":              s.Opts.DistDir,
		"lambda_architecture":   arch,
	}
	if len(s.moreApps) > 0 {
		vars["github_apps"] = s.moreApps
	}
	for k, v := range s.Opts.Vars {
		vars[k] = v
	}
	return vars
}

// Close stops everything it started. The emulator's state goes with it.
func (s *Sandbox) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.runners != nil {
		s.runners.Close()
	}
	if s.bootDir != "" {
		_ = os.RemoveAll(s.bootDir)
	}
	if s.Wiring != nil {
		s.Wiring.Stop()
	}
	if s.Sim != nil {
		s.Sim.Close()
	}
	if s.proxy != nil {
		s.proxy.Close()
		s.Proxy.Close() // the IAM evaluator
	}
	if s.moto != nil {
		s.moto.Stop()
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
}
