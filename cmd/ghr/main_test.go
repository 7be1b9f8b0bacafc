package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
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

func TestSimRunsAlone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"sim", "-org", "acme", "-repos", "web"}, out, io.Discard) }()
	var info struct {
		URL   string `json:"github_api_url"`
		AppID int64  `json:"app_id"`
	}
	deadline := time.Now().Add(20 * time.Second)
	for info.URL == "" && time.Now().Before(deadline) {
		if line, ok := strings.CutSuffix(out.String(), "\n"); ok {
			_ = json.Unmarshal([]byte(line), &info)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if info.URL == "" || info.AppID == 0 {
		t.Fatalf("no endpoint printed: %q", out.String())
	}
	resp, err := http.Get(info.URL + "/orgs/acme/installation")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized { // App JWT required, as on GitHub
		t.Fatalf("unauthenticated installation lookup answered %d, want 401", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"nope"}, {"local"}} {
		if err := run(context.Background(), args, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("run(%v) = %v, want usage", args, err)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, &out, io.Discard); err != nil || out.Len() == 0 {
		t.Fatalf("version: %v %q", err, out.String())
	}
}
