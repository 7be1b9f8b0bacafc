package bootstraptest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Defaults of a fake instance.
const (
	InstanceID  = "i-0123456789abcdef0"
	Region      = "eu-west-1"
	Environment = "ghr"
	Config      = "default"
	Bucket      = "ghr-dist"
	RunnerUser  = "ghr-runner"
	RunnerDir   = "/opt/actions-runner"
)

// safePath holds no sbin directory: were a stub ever missing, the real shutdown, useradd or
// runuser of the machine running the tests could not be reached.
const safePath = "/usr/local/bin:/usr/bin:/bin"

// Host is one fake instance.
type Host struct {
	Root  string // GHR_ROOT: every path the bootstrap writes lands under it
	State string // fake SSM and S3, the fake passwd, the call records, fault switches
	Bin   string // stub commands, first on PATH
	IMDS  *IMDS
	Vars  map[string]string // template variables; tests change them before UserData
}

// New builds a host whose IMDS serves the usual ghr tags, with every template variable set
// for a fast run (token wait 5 s, no shutdown delay). cloudWatchAgent installs the agent's
// control script.
func New(tb testing.TB, cloudWatchAgent bool) *Host {
	tb.Helper()
	return NewWithTags(tb, cloudWatchAgent, map[string]string{
		"ghr:environment":   Environment,
		"ghr:runner-config": Config,
		"ghr:type":          "org",
		"ghr:owner":         "octo-org",
		"ghr:job-id":        "42",
		"ghr:created-by":    "scale-up",
	})
}

// NewWithTags is New with the given instance tags (nil: metadata tags disabled).
func NewWithTags(tb testing.TB, cloudWatchAgent bool, tags map[string]string) *Host {
	tb.Helper()
	dir := tb.TempDir()
	h := &Host{
		Root:  filepath.Join(dir, "root"),
		State: filepath.Join(dir, "state"),
		Bin:   filepath.Join(dir, "bin"),
		IMDS:  NewIMDS(InstanceID, Region, tags),
	}
	tb.Cleanup(h.IMDS.Close)
	for _, d := range []string{h.Root, filepath.Join(h.Root, "tmp"), h.State, filepath.Join(h.State, "fail"), filepath.Join(h.State, "calls"), h.Bin} {
		must(tb, os.MkdirAll(d, 0o755))
	}
	stubs := map[string]string{
		"aws": awsStub, "shutdown": recorderStub, "chown": recorderStub,
		"useradd": useraddStub, "getent": getentStub, "runuser": runuserStub,
		"sleep": sleepStub,
	}
	if cloudWatchAgent {
		stubs["amazon-cloudwatch-agent-ctl"] = recorderStub
	}
	for name, body := range stubs {
		h.writeExec(tb, filepath.Join(h.Bin, name), body)
	}
	must(tb, os.WriteFile(filepath.Join(h.State, "record.sh"), []byte(h.bake(recordSh)), 0o644))
	must(tb, os.WriteFile(filepath.Join(h.State, "passwd"), nil, 0o644))
	start, err := os.ReadFile(filepath.Join(TemplatesDir(), "start-runner.sh"))
	must(tb, err)
	h.Vars = map[string]string{
		"metadata_url":                h.IMDS.URL,
		"environment":                 Environment,
		"runner_config":               Config,
		"dist_bucket":                 Bucket,
		"runner_user":                 RunnerUser,
		"runner_dir":                  RunnerDir,
		"token_wait_timeout_seconds":  "5",
		"shutdown_delay_seconds":      "0",
		"cloudwatch_config_parameter": "",
		"install_software":            "",
		"pre_install_script":          "",
		"post_install_script":         "",
		"start_runner_script":         string(start),
	}
	return h
}

// TemplatesDir is terraform/modules/runners/templates in this source tree.
func TemplatesDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "terraform", "modules", "runners", "templates")
}

// TokenPath is where scale-up writes the instance's token.
func TokenPath(environment, config, instanceID string) string {
	return "/" + environment + "/runners/" + config + "/tokens/" + instanceID
}

// DistArch is the runner architecture name of the machine running the tests, as the
// bootstrap derives it from uname -m.
func DistArch() string {
	if runtime.GOARCH == "arm64" {
		return "arm64"
	}
	return "x64"
}

func (h *Host) bake(s string) string { return strings.ReplaceAll(s, "@STATE@", h.State) }

func (h *Host) writeExec(tb testing.TB, path, body string) {
	tb.Helper()
	must(tb, os.MkdirAll(filepath.Dir(path), 0o755))
	must(tb, os.WriteFile(path, []byte(h.bake(body)), 0o755))
}

// PutParameter stores an SSM parameter.
func (h *Host) PutParameter(tb testing.TB, name, value string) {
	tb.Helper()
	p := filepath.Join(h.State, "ssm", name)
	must(tb, os.MkdirAll(filepath.Dir(p), 0o755))
	// Written whole then renamed, so a bootstrap polling meanwhile never reads half a value.
	must(tb, os.WriteFile(p+".tmp", []byte(value), 0o600))
	must(tb, os.Rename(p+".tmp", p))
}

// HasParameter reports whether an SSM parameter exists.
func (h *Host) HasParameter(name string) bool {
	_, err := os.Stat(filepath.Join(h.State, "ssm", name))
	return err == nil
}

// PutObject stores an S3 object.
func (h *Host) PutObject(tb testing.TB, bucket, key string, data []byte) {
	tb.Helper()
	p := filepath.Join(h.State, "s3", bucket, key)
	must(tb, os.MkdirAll(filepath.Dir(p), 0o755))
	must(tb, os.WriteFile(p, data, 0o644))
}

// AddUser puts a user in the fake passwd, as on an image that already has it.
func (h *Host) AddUser(tb testing.TB, name, home string) {
	tb.Helper()
	f, err := os.OpenFile(filepath.Join(h.State, "passwd"), os.O_APPEND|os.O_WRONLY, 0)
	must(tb, err)
	defer f.Close()
	_, err = fmt.Fprintf(f, "%s:x:1002:1002::%s:/bin/bash\n", name, home)
	must(tb, err)
}

// Fail makes a stub fail: "ssm-delete", "config.sh", "run.sh", "svc.sh",
// "installdependencies.sh".
func (h *Host) Fail(tb testing.TB, what string) {
	tb.Helper()
	must(tb, os.WriteFile(filepath.Join(h.State, "fail", what), nil, 0o644))
}

// RunnerExit sets the stub run.sh's exit status.
func (h *Host) RunnerExit(tb testing.TB, status int) {
	tb.Helper()
	must(tb, os.WriteFile(filepath.Join(h.State, "run.exit"), []byte(strconv.Itoa(status)), 0o644))
}

// RunnerTarball is a stub runner as the syncer stores it: actions-runner-linux-<arch>.tar.gz
// with config.sh, run.sh, svc.sh and bin/installdependencies.sh that record their calls.
func (h *Host) RunnerTarball(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	body := []byte(h.bake(runnerStub))
	for _, name := range []string{"./config.sh", "./run.sh", "./svc.sh", "./bin/installdependencies.sh"} {
		must(tb, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(body)), ModTime: time.Unix(0, 0)}))
		_, err := tw.Write(body)
		must(tb, err)
	}
	must(tb, tw.Close())
	must(tb, gz.Close())
	return buf.Bytes()
}

// Prebuild installs the stub runner into the root, as a prebuilt image has it.
func (h *Host) Prebuild(tb testing.TB) {
	tb.Helper()
	dir := filepath.Join(h.Root, h.Vars["runner_dir"])
	for _, name := range []string{"config.sh", "run.sh", "svc.sh", "bin/installdependencies.sh"} {
		h.writeExec(tb, filepath.Join(dir, name), runnerStub)
	}
}

// UserData renders the user-data template with h.Vars.
func (h *Host) UserData(tb testing.TB) string {
	tb.Helper()
	tmpl, err := os.ReadFile(filepath.Join(TemplatesDir(), "user-data.sh.tftpl"))
	must(tb, err)
	out, err := Render(string(tmpl), h.Vars)
	must(tb, err)
	return out
}

// Result is one bootstrap run.
type Result struct {
	Output   string        // stdout and stderr, as the console shows them
	Log      string        // /var/log/ghr-bootstrap.log under the root
	ExitCode int           // of the user-data script
	Started  time.Time     // just before bash was started
	Elapsed  time.Duration // until the script and its log writer ended
}

// Run executes the user data as cloud-init would (as the test's user, in the fake root).
func (h *Host) Run(ctx context.Context, tb testing.TB, userData string) Result {
	tb.Helper()
	for _, stub := range []string{"shutdown", "useradd", "runuser", "chown", "aws"} {
		if _, err := os.Stat(filepath.Join(h.Bin, stub)); err != nil {
			tb.Fatalf("stub %s missing: refusing to run the bootstrap against the real system", stub)
		}
	}
	script := filepath.Join(h.State, "user-data.sh")
	must(tb, os.WriteFile(script, []byte(userData), 0o755))
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = h.Root
	cmd.Env = []string{
		"PATH=" + h.Bin + ":" + safePath,
		"GHR_ROOT=" + h.Root,
		"TMPDIR=" + filepath.Join(h.Root, "tmp"),
		"HOME=" + filepath.Join(h.Root, "root"),
		"LANG=C.UTF-8",
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	r := Result{Started: time.Now()}
	err := cmd.Run()
	r.Elapsed = time.Since(r.Started)
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.ExitCode = exit.ExitCode()
	case err != nil:
		tb.Fatalf("run user data: %v", err)
	}
	r.Output = out.String()
	if b, err := os.ReadFile(filepath.Join(h.Root, "var", "log", "ghr-bootstrap.log")); err == nil {
		r.Log = string(b)
	}
	return r
}

// Call is one recorded stub call.
type Call struct {
	Cmd    string
	Args   []string
	Env    map[string]string // region, home, user, pwd, t ($EPOCHREALTIME)
	Seq    int
	Called time.Time
}

// Calls returns every recorded call in order.
func (h *Host) Calls(tb testing.TB) []Call {
	tb.Helper()
	dir := filepath.Join(h.State, "calls")
	files, _ := filepath.Glob(filepath.Join(dir, "*.args"))
	sort.Strings(files)
	calls := make([]Call, 0, len(files))
	for i, f := range files {
		raw, err := os.ReadFile(f)
		must(tb, err)
		argv := strings.Split(strings.TrimSuffix(string(raw), "\x00"), "\x00")
		envRaw, err := os.ReadFile(strings.TrimSuffix(f, ".args") + ".env")
		must(tb, err)
		env := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(string(envRaw)), "\n") {
			k, v, _ := strings.Cut(line, "=")
			env[k] = v
		}
		c := Call{Cmd: argv[0], Args: argv[1:], Env: env, Seq: i}
		if sec, err := strconv.ParseFloat(strings.ReplaceAll(env["t"], ",", "."), 64); err == nil {
			c.Called = time.Unix(0, int64(sec*1e9))
		}
		calls = append(calls, c)
	}
	return calls
}

// CallsTo filters Calls by command.
// Called reports whether cmd has been called so far; safe while the script runs, from any
// goroutine (a call being recorded is read as one).
func (h *Host) Called(cmd string) bool {
	files, _ := filepath.Glob(filepath.Join(h.State, "calls", "*.args"))
	for _, f := range files {
		if raw, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(raw), cmd+"\x00") {
			return true
		}
	}
	return false
}

func (h *Host) CallsTo(tb testing.TB, cmd string) []Call {
	tb.Helper()
	var out []Call
	for _, c := range h.Calls(tb) {
		if c.Cmd == cmd {
			out = append(out, c)
		}
	}
	return out
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// Record installs commands that only record their calls (dnf, systemctl, usermod, id...).
func (h *Host) Record(tb testing.TB, names ...string) {
	tb.Helper()
	for _, n := range names {
		h.writeExec(tb, filepath.Join(h.Bin, n), recorderStub)
	}
}
