package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
)

func needTools(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("deploys the module into moto_server")
	}
	for _, bin := range []string{"moto_server", "terraform"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (scripts/check-tools.sh)", bin)
		}
	}
}

// localUp runs `ghr local up args...` until its context ends.
type localUp struct {
	cancel         context.CancelFunc
	stdout, stderr *syncBuffer
	done           chan error
}

func startLocalUp(args ...string) *localUp {
	ctx, cancel := context.WithCancel(context.Background())
	l := &localUp{cancel: cancel, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1)}
	go func() { l.done <- run(ctx, append([]string{"local", "up"}, args...), l.stdout, l.stderr) }()
	return l
}

type upInfo struct {
	Region        string           `json:"region"`
	AppID         int64            `json:"github_app_id"`
	KeyFile       string           `json:"github_app_key_file"`
	Installations map[string]int64 `json:"installations"`
	Control       string           `json:"control_url"`
	Prefix        string           `json:"prefix"`
	WorkDir       string           `json:"workdir"`
}

func (l *localUp) info(t *testing.T) upInfo {
	t.Helper()
	var info upInfo
	deadline := time.Now().Add(20 * time.Minute) // a busy shared machine
	for info.Control == "" {
		select {
		case err := <-l.done:
			t.Fatalf("local up ended: %v\n%s", err, l.stderr.String())
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("local up printed no endpoints:\n%s", l.stderr.String())
		}
		for _, line := range strings.Split(l.stdout.String(), "\n") {
			if strings.HasPrefix(line, "{") {
				_ = json.Unmarshal([]byte(line), &info)
			}
		}
	}
	return info
}

func functionNames(t *testing.T, moto string) []string {
	t.Helper()
	out, err := lambda.NewFromConfig(motoproc.AWSConfig(moto)).ListFunctions(context.Background(), &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range out.Functions {
		names = append(names, *f.FunctionName)
	}
	return names
}

// TestLocalUpTwoSandboxesOneEmulator: two `local up` with their own -prefix share one
// emulator; each prints what a user needs, runs a job queued by hand, and on Ctrl-C removes
// its own deployment and work folder and nothing of the other's.
func TestLocalUpTwoSandboxesOneEmulator(t *testing.T) {
	needTools(t)
	moto, err := motoproc.Start(context.Background(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer moto.Stop()
	a := startLocalUp("-moto", moto.URL, "-prefix", "ghr-a")
	defer a.cancel()
	b := startLocalUp("-moto", moto.URL, "-prefix", "ghr-b")
	defer b.cancel()
	ia, ib := a.info(t), b.info(t)

	for _, want := range []string{"build: ", "apply: ", " resources in ", "functions: ", "region: us-east-1"} {
		if !strings.Contains(a.stderr.String(), want) {
			t.Errorf("local up's progress lacks %q:\n%s", want, a.stderr.String())
		}
	}
	if ia.Region != motoproc.Region || ia.AppID == 0 || ia.Prefix != "ghr-a" || len(ia.Installations) == 0 {
		t.Fatalf("endpoint line %+v lacks region, App id, prefix or installations", ia)
	}
	for owner, id := range ia.Installations {
		if !strings.Contains(a.stdout.String(), fmt.Sprintf("installation    %d (%s)", id, owner)) {
			t.Errorf("installation %d of %s not printed:\n%s", id, owner, a.stdout.String())
		}
	}
	if key, err := os.ReadFile(ia.KeyFile); err != nil || !strings.Contains(string(key), "PRIVATE KEY") {
		t.Fatalf("App key file %s: %v", ia.KeyFile, err)
	}

	var q strings.Builder
	if err := run(context.Background(), []string{"sim", "queue", "-control", ia.Control, "-repo", "octo-org/app", "-labels", "self-hosted,linux,x64", "-duration", "1s"}, &q, io.Discard); err != nil {
		t.Fatal(err)
	}
	var id int64
	if _, err := fmt.Sscanf(q.String(), "queued job %d", &id); err != nil {
		t.Fatalf("sim queue printed %q", q.String())
	}
	deadline := time.Now().Add(3 * time.Minute)
	for status := ""; status != "completed"; {
		if time.Now().After(deadline) {
			t.Fatalf("job %d queued by hand still %q", id, status)
		}
		time.Sleep(500 * time.Millisecond)
		resp, err := http.Get(fmt.Sprint(ia.Control, "/jobs/", id))
		if err != nil {
			t.Fatal(err)
		}
		var j queuedJob
		_ = json.NewDecoder(resp.Body).Decode(&j)
		resp.Body.Close()
		status = j.Status
	}

	a.cancel()
	if err := <-a.done; err != nil {
		t.Fatalf("local up after Ctrl-C: %v\n%s", err, a.stderr.String())
	}
	if _, err := os.Stat(ia.WorkDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work folder %s left behind: %v", ia.WorkDir, err)
	}
	var left, other int
	for _, n := range functionNames(t, moto.URL) {
		left += b2i(strings.HasPrefix(n, "ghr-a-"))
		other += b2i(strings.HasPrefix(n, "ghr-b-"))
	}
	if left != 0 || other == 0 {
		t.Fatalf("after stopping ghr-a: %d of its functions remain, %d of ghr-b's (want 0 and all)", left, other)
	}
	b.cancel()
	if err := <-b.done; err != nil {
		t.Fatalf("second local up: %v", err)
	}
	if _, err := os.Stat(ib.WorkDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work folder %s left behind", ib.WorkDir)
	}
}

// TestLocalUpInterrupted: Ctrl-C during the apply ends `local up` with an interruption (not
// terraform's exit status), exit code 130, and no work folder left.
func TestLocalUpInterrupted(t *testing.T) {
	needTools(t)
	l := startLocalUp()
	defer l.cancel()
	deadline := time.Now().Add(15 * time.Minute) // may build the functions first, on a busy machine
	for !strings.Contains(l.stderr.String(), "apply: terraform init") {
		if time.Now().After(deadline) {
			t.Fatalf("apply never started:\n%s", l.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // inside terraform
	l.cancel()
	err := <-l.done
	if !errors.Is(err, errInterrupted) || exitCode(err, io.Discard) != exitInterrupted || strings.Contains(err.Error(), "exit status") {
		t.Fatalf("interrupted local up: %v, want an interruption", err)
	}
	m := regexp.MustCompile(`work dir: (\S+)`).FindStringSubmatch(l.stderr.String())
	if m == nil {
		t.Fatalf("no work dir printed:\n%s", l.stderr.String())
	}
	if _, err := os.Stat(m[1]); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("work folder %s left behind after Ctrl-C: %v", m[1], err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
