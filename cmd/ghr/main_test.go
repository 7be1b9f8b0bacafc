package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is written by the command's goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// waitJSON waits for the first line of out that decodes into v with want set.
func waitJSON(t *testing.T, out *syncBuffer, v any, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "{") && json.Unmarshal([]byte(line), v) == nil && ok() {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no JSON line printed: %q", out.String())
}

func TestSimRunsAloneAndQueuesByHand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"sim", "-org", "acme", "-repos", "web"}, out, io.Discard) }()
	var info struct {
		URL     string `json:"github_api_url"`
		AppID   int64  `json:"app_id"`
		Control string `json:"control_url"`
	}
	waitJSON(t, out, &info, func() bool { return info.URL != "" })
	if info.AppID == 0 || info.Control == "" {
		t.Fatalf("incomplete endpoint line: %q", out.String())
	}
	resp, err := http.Get(info.URL + "/orgs/acme/installation")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized { // App JWT required, as on GitHub
		t.Fatalf("unauthenticated installation lookup answered %d, want 401", resp.StatusCode)
	}

	var qout bytes.Buffer
	if err := run(ctx, []string{"sim", "queue", "-control", info.Control, "-repo", "acme/web", "-labels", "self-hosted, linux", "-n", "2"}, &qout, io.Discard); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(qout.String(), "queued job "); got != 2 || !strings.Contains(qout.String(), "[self-hosted linux]") {
		t.Fatalf("sim queue printed %q, want two queued jobs", qout.String())
	}
	var id int64
	if _, err := fmt.Sscanf(qout.String(), "queued job %d", &id); err != nil {
		t.Fatalf("sim queue printed %q: %v", qout.String(), err)
	}
	r, err := http.Get(fmt.Sprint(info.Control, "/jobs/", id))
	if err != nil {
		t.Fatal(err)
	}
	var j queuedJob
	_ = json.NewDecoder(r.Body).Decode(&j)
	r.Body.Close()
	if j.ID != id || j.Repo != "acme/web" || j.Status != "queued" {
		t.Fatalf("job %d = %+v, want queued in acme/web", id, j)
	}
	err = run(ctx, []string{"sim", "queue", "-control", info.Control, "-repo", "acme/nope", "-labels", "x"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("queue for a missing repository: %v, want a 404", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestHelpAtEveryLevel: -h, --help and help print usage on stdout and succeed, for the
// top level, every group and every registered command.
func TestHelpAtEveryLevel(t *testing.T) {
	cases := [][]string{{"-h"}, {"--help"}, {"help"}, {"local", "-h"}, {"local", "--help"}, {"sim", "help"}}
	for _, c := range commands {
		cases = append(cases, append(append([]string{}, c.path...), "-h"), append(append([]string{}, c.path...), "--help"))
	}
	for _, args := range cases {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		if err != nil || exitCode(err, io.Discard) != 0 {
			t.Errorf("ghr %v: %v, want success", args, err)
		}
		if !strings.Contains(out.String(), "usage") || errOut.Len() != 0 {
			t.Errorf("ghr %v: stdout %q stderr %q, want usage on stdout only", args, out.String(), errOut.String())
		}
	}
}

// TestBadCommandLinesFailBeforeWork: each mistake is a usage error (exit 2), and the work
// folder it names stays untouched: nothing was started.
func TestBadCommandLinesFailBeforeWork(t *testing.T) {
	work := t.TempDir()
	cases := map[string][]string{
		"no command":        nil,
		"unknown":           {"nope"},
		"group alone":       {"local"},
		"unknown sub":       {"local", "upp", "-workdir", work},
		"bad flag":          {"local", "up", "-nope", "-workdir", work},
		"stray argument":    {"local", "up", "-workdir", work, "extra"},
		"flag value":        {"local", "demo", "-jobs", "many", "-workdir", work},
		"zero jobs":         {"local", "demo", "-jobs", "0", "-workdir", work},
		"remote moto":       {"local", "up", "-moto", "http://10.1.2.3:5000", "-workdir", work},
		"not a URL":         {"local", "up", "-moto", "127.0.0.1:5000", "-workdir", work},
		"nothing listening": {"local", "up", "-moto", "http://127.0.0.1:1", "-workdir", work},
		"bad prefix":        {"local", "up", "-prefix", "Bad_Prefix", "-workdir", work},
		"queue no control":  {"sim", "queue", "-control", "", "-repo", "a/b", "-labels", "x"},
		"queue no labels":   {"sim", "queue", "-control", "http://127.0.0.1:1", "-repo", "a/b"},
		"version argument":  {"version", "extra"},
		"fetch no version":  {"lambdas", "fetch", "-o", work},
		"fetch bad arch":    {"lambdas", "fetch", "-version", "1.0.0", "-arch", "sparc", "-o", work},
	}
	for name, args := range cases {
		var out bytes.Buffer
		err := run(context.Background(), args, &out, io.Discard)
		if !errors.Is(err, errUsage) || exitCode(err, io.Discard) != exitUsage {
			t.Errorf("%s: ghr %v = %v, want a usage error", name, args, err)
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 0 {
		t.Fatalf("a refused command line left %d entries in its work folder", len(entries))
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil || out.Len() == 0 {
		t.Fatalf("version: %v %q", err, out.String())
	}
}

func TestExitCodes(t *testing.T) {
	for err, want := range map[error]int{
		nil:                  0,
		usageError{"x"}:      exitUsage,
		errors.New("failed"): exitFailure,
		errInterrupted:       exitInterrupted,
		errors.Join(errInterrupted, errors.New("x")): exitInterrupted,
	} {
		if got := exitCode(err, io.Discard); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}
