package ghsim

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

// runnerDir is an unpacked simulated runner without its binary: Listener runs in-process.
func runnerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "svc.sh.template"), []byte("#!/bin/bash\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func listener(t *testing.T, sim *Sim, dir string) (*simrunner.Listener, *bytes.Buffer) {
	t.Helper()
	rs := NewRunnerService(sim)
	t.Cleanup(rs.Close)
	ts := httptest.NewServer(rs)
	t.Cleanup(ts.Close)
	var out bytes.Buffer
	return &simrunner.Listener{Dir: dir, Service: ts.URL, Stdin: strings.NewReader(""), Out: &out, HTTP: ts.Client()}, &out
}

func runnerNamedT(t *testing.T, sim *Sim, name string) Runner {
	t.Helper()
	for _, r := range sim.Runners() {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no runner %s in %v", name, sim.Runners())
	return Runner{}
}

func TestSimulatedRunnerConfigureHonoursOptions(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	if _, err := srv.AddRunnerGroup("octo", "gpu"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantLabels []string
	}{
		{"exact labels", []string{"--no-default-labels", "--labels", "linux,big", "--ephemeral", "--runnergroup", "gpu", "--disableupdate"}, 0, []string{"linux", "big"}},
		{"default labels kept", []string{"--labels", "big"}, 0, []string{"self-hosted", "Linux", "X64", "big"}},
		{"no labels at all", []string{"--no-default-labels"}, 1, nil},
		{"unknown group", []string{"--runnergroup", "nope"}, 1, nil},
		{"unknown flag", []string{"--bogus"}, 2, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := srv.NewRegistrationToken("octo")
			if err != nil {
				t.Fatal(err)
			}
			name := "r" + string(rune('a'+i))
			l, out := listener(t, srv.Sim, runnerDir(t))
			args := append([]string{"configure", "--unattended", "--url", "https://github.com/octo", "--token", tok, "--name", name}, tt.args...)
			if code := l.Main(context.Background(), args); code != tt.wantCode {
				t.Fatalf("exit %d, want %d:\n%s", code, tt.wantCode, out)
			}
			if tt.wantCode != 0 {
				return
			}
			r := runnerNamedT(t, srv.Sim, name)
			if !slices.Equal(r.Labels, tt.wantLabels) {
				t.Errorf("labels %v, want %v", r.Labels, tt.wantLabels)
			}
			if _, err := os.Stat(filepath.Join(l.Dir, "svc.sh")); err != nil {
				t.Errorf("config.sh did not write svc.sh: %v", err)
			}
			var rf map[string]any
			b, _ := os.ReadFile(filepath.Join(l.Dir, ".runner"))
			_ = json.Unmarshal(b, &rf)
			if slices.Contains(tt.args, "--ephemeral") != (rf["Ephemeral"] == true) || slices.Contains(tt.args, "--disableupdate") != (rf["DisableUpdate"] == true) {
				t.Errorf(".runner %s does not record --ephemeral/--disableupdate", b)
			}
		})
	}
}

func TestSimulatedRunnerNeedsUnattendedAnswers(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	l, out := listener(t, srv.Sim, runnerDir(t))
	if code := l.Main(context.Background(), []string{"configure", "--unattended", "--url", "https://github.com/octo"}); code != 2 {
		t.Fatalf("configure without a token: exit %d, want 2:\n%s", code, out)
	}
	if code := l.Main(context.Background(), []string{"run"}); code != 1 {
		t.Fatalf("run unconfigured: exit %d, want 1:\n%s", code, out)
	}
}

func TestSimulatedEphemeralRunnerTakesOneJob(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	tok, err := srv.NewRegistrationToken("octo")
	if err != nil {
		t.Fatal(err)
	}
	l, out := listener(t, srv.Sim, runnerDir(t))
	if code := l.Main(context.Background(), []string{"configure", "--unattended", "--url", "https://github.com/octo", "--token", tok, "--name", "eph", "--no-default-labels", "--labels", "x", "--ephemeral"}); code != 0 {
		t.Fatalf("configure: %d\n%s", code, out)
	}
	for range 2 {
		if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}, Duration: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code := l.Main(ctx, []string{"run"}); code != 0 {
		t.Fatalf("run: exit %d\n%s", code, out)
	}
	queued, running, completed := srv.JobCounts()
	if completed != 1 || queued != 1 || running != 0 {
		t.Fatalf("queued %d running %d completed %d, want 1 0 1 (one job per ephemeral runner)\n%s", queued, running, completed, out)
	}
	if slices.ContainsFunc(srv.Runners(), func(r Runner) bool { return r.Name == "eph" }) {
		t.Error("the ephemeral runner is still registered after its job")
	}
}

func TestSimulatedRunnerRunsJITConfigOnce(t *testing.T) {
	srv := start(t, Options{})
	seed(t, srv.Sim)
	srv.mu.Lock()
	sc := scope{level: LevelOrg, name: "octo"}
	r := srv.newRunner(sc, "jit-1", defaultGroupID, []string{"x"}, true, true)
	enc, err := srv.encodeJIT(r, "Default", "_work")
	srv.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}, Duration: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	l, out := listener(t, srv.Sim, runnerDir(t))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code := l.Main(ctx, []string{"run", "--jitconfig", enc}); code != 0 {
		t.Fatalf("run --jitconfig: exit %d\n%s", code, out)
	}
	if _, _, completed := srv.JobCounts(); completed != 1 {
		t.Fatalf("%d jobs completed, want 1\n%s", completed, out)
	}
	if code := l.Main(ctx, []string{"run", "--jitconfig", enc}); code != 1 {
		t.Fatalf("a used JIT config connected again: exit %d\n%s", code, out)
	}
}

func TestRunnerServiceLosesAVanishedRunner(t *testing.T) {
	srv := start(t, Options{RunnerSessionGrace: 2 * simrunner.RenewEvery})
	seed(t, srv.Sim)
	tok, err := srv.NewRegistrationToken("octo")
	if err != nil {
		t.Fatal(err)
	}
	l, out := listener(t, srv.Sim, runnerDir(t))
	if code := l.Main(context.Background(), []string{"configure", "--unattended", "--url", "https://github.com/octo", "--token", tok, "--name", "p", "--labels", "x"}); code != 0 {
		t.Fatalf("configure: %d\n%s", code, out)
	}
	job, err := srv.QueueJob(JobSpec{Repo: "octo/app", Labels: []string{"x"}, Duration: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// The process dies mid-job (a terminated instance): no renewals, no goodbye.
	ctx, kill := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- l.Main(ctx, []string{"run"}) }()
	deadline := time.Now().Add(10 * time.Second)
	for j, _ := srv.Job(job.ID); j.Status != "in_progress"; j, _ = srv.Job(job.ID) {
		if time.Now().After(deadline) {
			t.Fatalf("job never started\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.HTTP = &http.Client{Transport: deadTransport{}}
	kill()
	<-done
	deadline = time.Now().Add(3 * srv.Sim.opts.RunnerSessionGrace)
	for runnerNamedT(t, srv.Sim, "p").Online {
		if time.Now().After(deadline) {
			t.Fatal("the service still sees a runner that stopped talking")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// deadTransport fails every request: a process killed without a chance to say goodbye.
type deadTransport struct{}

func (deadTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, http.ErrServerClosed
}
