package bootstrap_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bt "github.com/ghr-dev/ghr/internal/harness/bootstrap/bootstraptest"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/syncer"
)

// runTimeout bounds one bootstrap run; the slowest scenario (token timeout) needs ~2 s.
const runTimeout = 30 * time.Second

const jitConfig = "eyJhIjoiYiJ9c2VjcmV0LWppdC1jb25maWc+Lw=="

var tokenPath = bt.TokenPath(bt.Environment, bt.Config, bt.InstanceID)

// newHost is a fake instance with the stub runner in the dist bucket under the key the syncer
// writes, so the two sides of the key layout are checked against each other.
func newHost(t *testing.T) *bt.Host {
	t.Helper()
	h := bt.New(t, false)
	h.PutObject(t, bt.Bucket, syncer.Key("linux-"+bt.DistArch()), h.RunnerTarball(t))
	return h
}

func run(t *testing.T, h *bt.Host) bt.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	r := h.Run(ctx, t, h.UserData(t))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bootstrap output (exit %d):\n%s", r.ExitCode, r.Output)
		}
	})
	return r
}

func mustOne(t *testing.T, h *bt.Host, cmd string) bt.Call {
	t.Helper()
	calls := h.CallsTo(t, cmd)
	if len(calls) != 1 {
		t.Fatalf("%s called %d times, want once", cmd, len(calls))
	}
	return calls[0]
}

func assertPoweredOff(t *testing.T, h *bt.Host) {
	t.Helper()
	c := mustOne(t, h, "shutdown")
	if !slices.Equal(c.Args, []string{"-h", "now"}) {
		t.Errorf("shutdown %q, want -h now", c.Args)
	}
}

func assertNoRunner(t *testing.T, h *bt.Host) {
	t.Helper()
	for _, cmd := range []string{"run.sh", "config.sh", "svc.sh"} {
		if n := len(h.CallsTo(t, cmd)); n != 0 {
			t.Errorf("%s called %d times after a fatal error", cmd, n)
		}
	}
}

func assertNoSecret(t *testing.T, r bt.Result, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(r.Output, s) || strings.Contains(r.Log, s) {
			t.Errorf("a secret %q... appears in the bootstrap's output", s[:8])
		}
	}
}

func TestEphemeralJIT(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.PutParameter(t, tokenPath, jitConfig)
	r := run(t, h)

	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	runs := h.CallsTo(t, "run.sh")
	if len(runs) != 1 || !slices.Equal(runs[0].Args, []string{"--jitconfig", jitConfig}) {
		t.Fatalf("run.sh calls %+v, want one with --jitconfig <token>", runs)
	}
	if n := len(h.CallsTo(t, "config.sh")); n != 0 {
		t.Errorf("config.sh called %d times for a JIT config", n)
	}
	// Non-root: created with useradd, entered through runuser, seen by run.sh.
	if c := mustOne(t, h, "useradd"); c.Args[len(c.Args)-1] != bt.RunnerUser {
		t.Errorf("useradd %q", c.Args)
	}
	ru := mustOne(t, h, "runuser")
	if ru.Args[0] != "-u" || ru.Args[1] != bt.RunnerUser {
		t.Errorf("runuser %q, want -u %s", ru.Args, bt.RunnerUser)
	}
	if got := runs[0].Env; got["user"] != bt.RunnerUser || got["home"] != "/home/"+bt.RunnerUser || !strings.HasSuffix(got["pwd"], bt.RunnerDir) {
		t.Errorf("run.sh saw %v", got)
	}
	if c := mustOne(t, h, "chown"); !slices.Equal(c.Args, []string{"-R", bt.RunnerUser + ":", h.Root + bt.RunnerDir}) {
		t.Errorf("chown %q", c.Args)
	}
	// Token read, deleted before the runner starts, and never logged.
	if h.HasParameter(tokenPath) {
		t.Error("token parameter left behind")
	}
	assertDeletedBefore(t, h, "run.sh")
	assertNoSecret(t, r, jitConfig)
	// Downloaded from the dist bucket; dependencies installed (not a prebuilt image).
	var cp bt.Call
	for _, c := range h.CallsTo(t, "aws") {
		if c.Args[0] == "s3" {
			cp = c
		}
	}
	if want := "s3://" + bt.Bucket + "/actions-runner-linux-" + bt.DistArch() + ".tar.gz"; !slices.Contains(cp.Args, want) {
		t.Errorf("s3 call %q, want %s", cp.Args, want)
	}
	if cp.Env["region"] != bt.Region {
		t.Errorf("aws region %q, want %s from IMDS", cp.Env["region"], bt.Region)
	}
	mustOne(t, h, "installdependencies.sh")
	// The runner's exit powers the instance off, and only after it ran.
	assertPoweredOff(t, h)
	if off := mustOne(t, h, "shutdown"); off.Seq < runs[0].Seq {
		t.Error("powered off before the runner ran")
	}
	if n := h.IMDS.TokenlessRequests(); n != 0 {
		t.Errorf("%d IMDS requests without an IMDSv2 token", n)
	}
	if !strings.Contains(r.Log, "type=org") || !strings.Contains(r.Log, "runner starting after") {
		t.Errorf("log lacks the instance summary or the overhead figure:\n%s", r.Log)
	}
}

func assertDeletedBefore(t *testing.T, h *bt.Host, cmd string) {
	t.Helper()
	del, next := -1, -1
	for _, c := range h.Calls(t) {
		if c.Cmd == "aws" && len(c.Args) > 1 && c.Args[1] == "delete-parameter" && slices.Contains(c.Args, tokenPath) {
			del = c.Seq
		}
		if c.Cmd == cmd && next < 0 {
			next = c.Seq
		}
	}
	if del < 0 || next < 0 || del > next {
		t.Errorf("token delete at call %d, %s at call %d: want the delete first", del, cmd, next)
	}
}

func TestEphemeralRunnerFailureStillPowersOff(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.PutParameter(t, tokenPath, jitConfig)
	h.RunnerExit(t, 3)
	r := run(t, h)
	if !strings.Contains(r.Log, "ephemeral runner exited with status 3") {
		t.Errorf("runner status not logged:\n%s", r.Log)
	}
	assertPoweredOff(t, h)
}

func TestPersistentRegistration(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	reg := runnertoken.Registration{
		URL: "https://github.com/octo-org", Token: "AABBCCREGTOKEN", Name: "ghr-" + bt.InstanceID,
		Labels: []string{"self-hosted", "linux", "gpu large"}, RunnerGroup: "Build Farm",
	}
	doc, err := reg.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.PutParameter(t, tokenPath, doc)
	r := run(t, h)

	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	cfg := mustOne(t, h, "config.sh")
	want := []string{"--unattended", "--url", reg.URL, "--token", reg.Token, "--name", reg.Name,
		"--no-default-labels", "--labels", "self-hosted,linux,gpu large", "--runnergroup", "Build Farm"}
	if !slices.Equal(cfg.Args, want) {
		t.Errorf("config.sh %q\nwant %q", cfg.Args, want)
	}
	if cfg.Env["user"] != bt.RunnerUser {
		t.Errorf("config.sh ran as %q", cfg.Env["user"])
	}
	svc := h.CallsTo(t, "svc.sh")
	if len(svc) != 2 || !slices.Equal(svc[0].Args, []string{"install", bt.RunnerUser}) || !slices.Equal(svc[1].Args, []string{"start"}) {
		t.Errorf("svc.sh calls %+v, want install %s then start", svc, bt.RunnerUser)
	}
	if n := len(h.CallsTo(t, "run.sh")); n != 0 {
		t.Errorf("run.sh called %d times; the service runs the runner", n)
	}
	if n := len(h.CallsTo(t, "shutdown")); n != 0 {
		t.Error("a persistent runner's instance powered off")
	}
	if h.HasParameter(tokenPath) {
		t.Error("token parameter left behind")
	}
	assertDeletedBefore(t, h, "config.sh")
	assertNoSecret(t, r, reg.Token)
}

func TestRegistrationEphemeral(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	doc, err := runnertoken.Registration{URL: "https://ghes.example/octo", Token: "TOKEN123456", Name: "n", Ephemeral: true}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	h.PutParameter(t, tokenPath, doc)
	run(t, h)
	cfg := mustOne(t, h, "config.sh")
	if want := []string{"--unattended", "--url", "https://ghes.example/octo", "--token", "TOKEN123456", "--name", "n", "--ephemeral"}; !slices.Equal(cfg.Args, want) {
		t.Errorf("config.sh %q, want %q", cfg.Args, want)
	}
	if r := mustOne(t, h, "run.sh"); len(r.Args) != 0 {
		t.Errorf("run.sh %q, want no arguments", r.Args)
	}
	if n := len(h.CallsTo(t, "svc.sh")); n != 0 {
		t.Error("an ephemeral runner was installed as a service")
	}
	assertPoweredOff(t, h)
}

func TestPrebuiltImage(t *testing.T) {
	t.Parallel()
	h := bt.New(t, false) // nothing in the dist bucket: a download would fail
	h.Prebuild(t)
	h.AddUser(t, bt.RunnerUser, "/srv/runner-home")
	h.PutParameter(t, tokenPath, jitConfig)
	r := run(t, h)
	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	for _, c := range h.CallsTo(t, "aws") {
		if c.Args[0] == "s3" {
			t.Errorf("prebuilt image downloaded the runner: %q", c.Args)
		}
	}
	for _, cmd := range []string{"useradd", "installdependencies.sh"} {
		if n := len(h.CallsTo(t, cmd)); n != 0 {
			t.Errorf("%s called on a prebuilt image", cmd)
		}
	}
	if run := mustOne(t, h, "run.sh"); run.Env["home"] != "/srv/runner-home" {
		t.Errorf("runner HOME %q, want the image user's", run.Env["home"])
	}
	if !strings.Contains(r.Log, "prebuilt image") {
		t.Errorf("log does not say the runner was preinstalled:\n%s", r.Log)
	}
	assertPoweredOff(t, h)
}

func TestTokenArrivesLate(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	// The token is stored once the script has found none and started waiting (its first
	// sleep): a fixed delay raced the script's own pace on a loaded machine.
	go func() {
		for deadline := time.Now().Add(time.Minute); !h.Called("sleep") && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		h.PutParameter(t, tokenPath, jitConfig)
	}()
	r := run(t, h)
	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	mustOne(t, h, "run.sh")
	if h.HasParameter(tokenPath) {
		t.Error("token parameter left behind")
	}
	// Polled with a doubling interval from 1 s, capped by TOKEN_POLL_MAX (5 s) and the time
	// left (the stub sleeps a tenth of each wait; the deadline counts real seconds).
	waits := sleepsBefore(t, h, "run.sh")
	if len(waits) == 0 || waits[0] != 1 {
		t.Errorf("waits between token reads %v s, want a backoff from 1 s", waits)
	}
	for i := 1; i < len(waits); i++ {
		if waits[i] > min(2*waits[i-1], 5) {
			t.Errorf("waits between token reads %v s: want each at most double the last and 5 s", waits)
			break
		}
	}
}

// sleepsBefore returns the lengths in seconds of the script's waits before its first call of
// cmd, in order.
func sleepsBefore(t *testing.T, h *bt.Host, cmd string) []int {
	t.Helper()
	var out []int
	for _, c := range h.Calls(t) {
		if c.Cmd == cmd {
			break
		}
		if c.Cmd == "sleep" {
			n, err := strconv.Atoi(strings.Join(c.Args, " "))
			if err != nil {
				t.Fatalf("sleep %q: %v", c.Args, err)
			}
			out = append(out, n)
		}
	}
	return out
}

func TestTokenTimeoutPowersOff(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.Vars["token_wait_timeout_seconds"] = "1"
	r := run(t, h)
	if r.ExitCode == 0 {
		t.Error("exit 0 after the token wait timed out")
	}
	if !strings.Contains(r.Log, "no runner token at "+tokenPath+" after 1s") || !strings.Contains(r.Log, "ParameterNotFound") {
		t.Errorf("log does not explain the timeout:\n%s", r.Log)
	}
	assertNoRunner(t, h)
	assertPoweredOff(t, h)
	if r.Elapsed > 10*time.Second {
		t.Errorf("a 1 s token wait took %s", r.Elapsed)
	}
}

func TestCloudWatchAndHooks(t *testing.T) {
	t.Parallel()
	h := bt.New(t, true)
	h.PutObject(t, bt.Bucket, syncer.Key("linux-"+bt.DistArch()), h.RunnerTarball(t))
	h.PutParameter(t, tokenPath, jitConfig)
	h.Vars["cloudwatch_config_parameter"] = "/ghr/cloudwatch"
	// Quotes and $ must survive the trip through user data as written.
	h.Vars["pre_install_script"] = "echo \"pre $((1+1)) 'ok'\" >" + h.State + "/pre.txt\n"
	h.Vars["post_install_script"] = "test -x " + h.Root + bt.RunnerDir + "/run.sh\ntouch " + h.State + "/post-ran\n"
	r := run(t, h)
	if r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	cw := mustOne(t, h, "amazon-cloudwatch-agent-ctl")
	if want := []string{"-a", "fetch-config", "-m", "ec2", "-s", "-c", "ssm:/ghr/cloudwatch"}; !slices.Equal(cw.Args, want) {
		t.Errorf("agent %q, want %q", cw.Args, want)
	}
	if !strings.Contains(r.Log, "running pre-install hook") || !strings.Contains(r.Log, "running post-install hook") {
		t.Errorf("hooks not logged:\n%s", r.Log)
	}
	if !fileHas(t, h.State+"/pre.txt", "pre 2 'ok'") || !fileHas(t, h.State+"/post-ran", "") {
		t.Error("hooks did not run as written")
	}
}

func TestFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		setup   func(t *testing.T, h *bt.Host)
		log     string
		deleted bool // the token was read (and so deleted) before the failure
	}{
		{"runner missing from bucket", func(t *testing.T, h *bt.Host) {
			h.Vars["dist_bucket"] = "empty-bucket"
		}, "could not get the runner from s3://empty-bucket/", false},
		{"root runner user", func(t *testing.T, h *bt.Host) { h.Vars["runner_user"] = "root" }, "must not run as root", false},
		{"IMDSv2 token refused", func(t *testing.T, h *bt.Host) { h.IMDS.RefuseTokens() }, "no IMDSv2 token", false},
		{"launched with another config's template", func(t *testing.T, h *bt.Host) {
			h.Vars["runner_config"] = "gpu"
		}, "tag ghr:runner-config=default but this launch template belongs to gpu", false},
		{"pre-install hook fails", func(t *testing.T, h *bt.Host) { h.Vars["pre_install_script"] = "exit 7\n" }, "pre-install hook failed", false},
		{"dependencies fail", func(t *testing.T, h *bt.Host) { h.Fail(t, "installdependencies.sh") }, "dependencies did not install", false},
		{"unknown token format", func(t *testing.T, h *bt.Host) {
			h.PutParameter(t, tokenPath, "ghr-registration-v9\nurl=x\n")
		}, "runner token: unknown format", true},
		{"unknown registration key", func(t *testing.T, h *bt.Host) {
			h.PutParameter(t, tokenPath, "ghr-registration-v1\nurl=u\ntoken=t\nname=n\nreplace=true\n")
		}, "unknown key replace on line 5", true},
		{"config.sh fails", func(t *testing.T, h *bt.Host) {
			doc, _ := runnertoken.Registration{URL: "u", Token: "t", Name: "n"}.Encode()
			h.PutParameter(t, tokenPath, doc)
			h.Fail(t, "config.sh")
		}, "config.sh failed", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHost(t)
			h.PutParameter(t, tokenPath, jitConfig)
			tc.setup(t, h)
			r := run(t, h)
			if r.ExitCode == 0 {
				t.Error("exit 0")
			}
			if !strings.Contains(r.Log, "fatal: ") || !strings.Contains(r.Log, tc.log) {
				t.Errorf("log lacks %q:\n%s", tc.log, r.Log)
			}
			if tc.deleted == h.HasParameter(tokenPath) {
				t.Errorf("token parameter present=%t, want %t", h.HasParameter(tokenPath), !tc.deleted)
			}
			if tc.name != "config.sh fails" {
				assertNoRunner(t, h)
			}
			assertPoweredOff(t, h)
		})
	}
}

// A token that cannot be deleted after it was read only warns: the runner still starts
// (scale-down removes stale token parameters).
func TestTokenDeleteFailureOnlyWarns(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.PutParameter(t, tokenPath, jitConfig)
	h.Fail(t, "ssm-delete")
	r := run(t, h)
	if r.ExitCode != 0 {
		t.Fatalf("exit %d:\n%s", r.ExitCode, r.Log)
	}
	if want := "warning: runner token read but not deleted from " + tokenPath + ": An error occurred (AccessDeniedException)"; !strings.Contains(r.Log, want) {
		t.Errorf("log lacks %q:\n%s", want, r.Log)
	}
	mustOne(t, h, "run.sh")
	if waits := sleepsBefore(t, h, "run.sh"); !slices.Equal(waits, []int{1, 2}) {
		t.Errorf("waits between delete attempts %v, want 1 then 2 s (DELETE_ATTEMPTS 3)", waits)
	}
}

// The default runner gets Docker, git, jq and the CloudWatch agent, installed only when the
// image lacks them, and Docker started for the runner user.
func TestInstallsMissingSoftware(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.Record(t, "dnf", "systemctl", "usermod", "id", "git", "jq", "docker") // the image has git, jq and docker
	h.Vars["install_software"] = "docker git jq amazon-cloudwatch-agent"
	h.PutParameter(t, tokenPath, jitConfig)
	if r := run(t, h); r.ExitCode != 0 {
		t.Fatalf("exit %d:\n%s", r.ExitCode, r.Log)
	}
	if got := strings.Join(mustOne(t, h, "dnf").Args, " "); got != "install -y amazon-cloudwatch-agent" {
		t.Errorf("dnf %s, want install -y amazon-cloudwatch-agent (only what the image lacks)", got)
	}
	if got := strings.Join(mustOne(t, h, "systemctl").Args, " "); got != "enable --now docker" {
		t.Errorf("systemctl %s, want enable --now docker", got)
	}
	if got := strings.Join(mustOne(t, h, "usermod").Args, " "); got != "-aG docker "+bt.RunnerUser {
		t.Errorf("usermod %s, want -aG docker %s", got, bt.RunnerUser)
	}
	assertDeletedBefore(t, h, "run.sh")
}

func TestUnknownSoftwareFailsTheBoot(t *testing.T) {
	t.Parallel()
	h := newHost(t)
	h.Vars["install_software"] = "emacs"
	h.PutParameter(t, tokenPath, jitConfig)
	r := run(t, h)
	if r.ExitCode == 0 || !strings.Contains(r.Log, "GHR_INSTALL_SOFTWARE: unknown package emacs") {
		t.Fatalf("exit %d, log:\n%s", r.ExitCode, r.Log)
	}
	assertPoweredOff(t, h)
}

func TestMetadataTagsDisabledUsesTemplateValues(t *testing.T) {
	t.Parallel()
	h := bt.NewWithTags(t, false, nil)
	h.PutObject(t, bt.Bucket, syncer.Key("linux-"+bt.DistArch()), h.RunnerTarball(t))
	h.PutParameter(t, tokenPath, jitConfig)
	if r := run(t, h); r.ExitCode != 0 {
		t.Fatalf("exit %d", r.ExitCode)
	}
	mustOne(t, h, "run.sh")
}

func fileHas(t *testing.T, path, want string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), want)
}
