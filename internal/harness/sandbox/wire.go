package sandbox

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
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

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

// Sandbox defaults.
const (
	// maxLocalConcurrency caps processes per function: a laptop cannot host Lambda's 1000.
	// Invocations beyond it wait for a process; only the function's own concurrency throttles.
	maxLocalConcurrency = 10
	// accountConcurrency is Lambda's default account concurrency, the limit of a function
	// without reserved concurrency.
	accountConcurrency = 1000
)

// WireOptions say where the code is and how the sandbox runs it.
type WireOptions struct {
	DistDir  string // where `make dist` put the zips
	WorkDir  string // where bootstraps are extracted
	Endpoint string // the emulator, injected as AWS_ENDPOINT_URL like Lambda injects credentials
	Speedup  float64
	SQS      lambdahost.SQSAPI
	Logs     io.Writer // function output
	Log      *slog.Logger
	// Env adds or overrides variables per function name (e.g. the simulator's URL).
	Env map[string]map[string]string
	// Credentials, when set, gives each function its own execution role's credentials (as
	// Lambda does) instead of the harness's: awsproxy.Proxy.Credentials.
	Credentials func(ctx context.Context, roleARN, session string) (aws.Credentials, error)
	// Allowed, when set, evaluates the execution role's IAM for an action on a resource
	// (awsproxy.Proxy.Allowed): Lambda refuses an SQS mapping the role may not poll.
	Allowed func(ctx context.Context, roleARN, action, resource string) (bool, error)
	// CrashRate kills this share of invocations mid-way (fault injection; see lambdahost).
	CrashRate float64
	Seed      uint64
}

// Wiring is a deployment ready to run.
type Wiring struct {
	Hosts     map[string]*lambdahost.Host
	Mappings  []*lambdahost.SQSMapping
	Schedules []*lambdahost.Schedule
	// Events plays EventBridge's bus for rules with event patterns (moto never invokes a
	// Lambda target): the simulated hosts publish EC2's events on it.
	Events *lambdahost.EventBus
	routes map[string]*lambdahost.HTTPAPI // "POST /webhook" → route

	srv *http.Server
	URL string // base URL of the HTTP API once started
	wg  sync.WaitGroup
}

// Wire builds a host per function (from the zip whose hash the emulator reports) and the
// event sources that invoke them.
func Wire(d *Deployment, o WireOptions) (*Wiring, error) {
	zips, err := zipsByHash(o.DistDir)
	if err != nil {
		return nil, err
	}
	w := &Wiring{Hosts: map[string]*lambdahost.Host{}, routes: map[string]*lambdahost.HTTPAPI{}}
	for _, name := range sortedKeys(d.Functions) {
		spec := d.Functions[name]
		zipPath, ok := zips[spec.CodeSha256]
		if !ok {
			return nil, fmt.Errorf("function %s: no zip in %s has the deployed code's hash %s (run make dist, then apply again)", name, o.DistDir, spec.CodeSha256)
		}
		bin, err := extractBootstrap(zipPath, filepath.Join(o.WorkDir, name))
		if err != nil {
			return nil, fmt.Errorf("function %s: %w", name, err)
		}
		env := map[string]string{}
		for k, v := range spec.Env {
			env[k] = v
		}
		for k, v := range motoproc.Env(o.Endpoint) {
			env[k] = v
		}
		if o.Credentials != nil && spec.Role != "" {
			c, err := o.Credentials(context.Background(), spec.Role, name)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", name, err)
			}
			env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"] = c.AccessKeyID, c.SecretAccessKey, c.SessionToken
		}
		for k, v := range o.Env[name] {
			env[k] = v
		}
		conc := spec.Concurrency
		if conc <= 0 {
			conc = accountConcurrency
		}
		w.Hosts[name] = lambdahost.New(lambdahost.Function{Name: name, Path: bin, Env: env, Timeout: spec.Timeout, MemoryMB: spec.MemoryMB,
			Concurrency: conc, Processes: min(conc, maxLocalConcurrency), Logs: o.Logs, CrashRate: o.CrashRate, Seed: o.Seed + uint64(len(w.Hosts))})
	}
	for _, m := range d.Mappings {
		if err := mappingAllowed(o, d.Functions[m.Function].Role, m); err != nil {
			return nil, err
		}
		pollers := 2
		if m.MaxConcurrency > 0 {
			pollers = min(pollers, m.MaxConcurrency)
		}
		w.Mappings = append(w.Mappings, &lambdahost.SQSMapping{
			Client: o.SQS, QueueURL: m.QueueURL, QueueARN: m.QueueARN, BatchSize: m.BatchSize, BatchingWindow: m.BatchingWindow,
			ReportBatchItemFailures: m.ReportBatchItemFailures, Pollers: pollers, Target: w.Hosts[m.Function], Log: o.Log,
		})
	}
	for _, s := range d.Schedules {
		w.Schedules = append(w.Schedules, &lambdahost.Schedule{Name: s.Name, Every: s.Every, Speedup: o.Speedup, Target: w.Hosts[s.Function], Log: o.Log})
	}
	w.Events = &lambdahost.EventBus{}
	for _, e := range d.Events {
		w.Events.Rules = append(w.Events.Rules, &lambdahost.EventRule{Name: e.Name, Pattern: e.Pattern, Target: w.Hosts[e.Function], Log: o.Log})
	}
	if err := w.Events.Check(); err != nil {
		return nil, err
	}
	for _, r := range d.Routes {
		w.routes[r.RouteKey] = &lambdahost.HTTPAPI{RouteKey: r.RouteKey, Target: w.Hosts[r.Function], Log: o.Log}
	}
	return w, nil
}

// mappingActions are what Lambda's SQS pollers do with the function's execution role, and
// what CreateEventSourceMapping checks the role for.
var mappingActions = []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}

func mappingAllowed(o WireOptions, role string, m MappingSpec) error {
	if o.Allowed == nil || role == "" {
		return nil
	}
	for _, a := range mappingActions {
		ok, err := o.Allowed(context.Background(), role, a, m.QueueARN)
		if err != nil {
			return fmt.Errorf("function %s: mapping from %s: %w", m.Function, m.QueueARN, err)
		}
		if !ok {
			return fmt.Errorf("function %s: Lambda refuses the mapping from %s (InvalidParameterValueException): the execution role may not %s", m.Function, m.QueueARN, a)
		}
	}
	return nil
}

// SetCrashRate makes this share of every function's invocations crash mid-way.
func (w *Wiring) SetCrashRate(rate float64) {
	for _, h := range w.Hosts {
		h.SetCrashRate(rate)
	}
}

// Start serves the HTTP routes on a loopback port and starts pollers and schedules.
func (w *Wiring) Start(ctx context.Context) error {
	mux := http.NewServeMux()
	for key, route := range w.routes {
		mux.Handle(key, route) // "POST /webhook" is a valid ServeMux pattern
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("http api listener: %w", err)
	}
	w.URL = "http://" + ln.Addr().String()
	w.srv = &http.Server{Handler: mux}
	go w.srv.Serve(ln) //nolint:errcheck // ends with Close
	for _, m := range w.Mappings {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); m.Run(ctx) }()
	}
	for _, s := range w.Schedules {
		w.wg.Add(1)
		go func() { defer w.wg.Done(); s.Run(ctx) }()
	}
	return nil
}

// Stop waits for pollers and schedules (after ctx passed to Start is cancelled) and stops
// every environment.
func (w *Wiring) Stop() {
	if w.srv != nil {
		w.srv.Close()
	}
	w.wg.Wait()
	w.Events.Wait()
	for _, h := range w.Hosts {
		h.Close()
	}
}

func zipsByHash(dir string) (map[string]string, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.zip"))
	if err != nil || len(paths) == 0 {
		return nil, fmt.Errorf("no Lambda zips in %s: run make dist", dir)
	}
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		out[base64.StdEncoding.EncodeToString(sum[:])] = p
	}
	return out, nil
}

func extractBootstrap(zipPath, dir string) (string, error) {
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", zipPath, err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name != "bootstrap" {
			continue
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", err
		}
		src, err := f.Open()
		if err != nil {
			return "", err
		}
		defer src.Close()
		out := filepath.Join(dir, "bootstrap")
		dst, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(dst, src); err != nil {
			dst.Close()
			return "", err
		}
		if err := dst.Close(); err != nil {
			return "", err
		}
		return out, checkArch(out)
	}
	return "", fmt.Errorf("%s has no bootstrap", zipPath)
}

// checkArch refuses a binary this machine cannot run, with the fix in the message.
func checkArch(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("bootstrap is not an ELF executable: %w", err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[runtime.GOARCH]
	if f.Machine != want {
		return fmt.Errorf("bootstrap is built for %s but this machine is %s: run make dist ARCH=%s and deploy with the matching lambda architecture",
			strings.TrimPrefix(f.Machine.String(), "EM_"), runtime.GOARCH, runtime.GOARCH)
	}
	return nil
}
