// Package motoserver starts a moto_server (a local AWS emulator) on a free loopback port for
// integration tests, and builds AWS SDK configs that talk only to it.
package motoserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Limits of starting the emulator.
const (
	startTimeout = 30 * time.Second // a cold Python start on a busy 2-core CI machine
	pollEvery    = 50 * time.Millisecond
	Region       = "us-east-1" // moto's default; AMIs and AZs it knows live here
)

// InstallHint tells a developer how to get the emulator.
const InstallHint = "moto_server not found: run scripts/check-tools.sh (installs moto[server]==5.2.1 with pip)"

// Server is a running moto_server.
type Server struct {
	URL string // http://127.0.0.1:PORT
	cmd *exec.Cmd
}

// Start runs a fresh moto_server for the test and stops it on cleanup. A missing binary fails
// the test: integration tests must not pass by not running.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		tb.Fatal(InstallHint)
	}
	port, err := freePort()
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	logPath := filepath.Join(tb.TempDir(), "moto.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start moto_server: %v", err)
	}
	s := &Server{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		logf.Close()
	})
	if err := s.wait(); err != nil {
		log, _ := os.ReadFile(logPath)
		tb.Fatalf("moto_server did not start: %v\n%s", err, log)
	}
	return s
}

func (s *Server) wait() error {
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL + "/moto-api/data.json")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(pollEvery)
	}
	return fmt.Errorf("no answer on %s after %s", s.URL, startTimeout)
}

// AWSConfig returns an SDK config with static test credentials aimed at the emulator.
func (s *Server) AWSConfig() aws.Config {
	return aws.Config{
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint:     aws.String(s.URL),
		RetryMaxAttempts: 1,
	}
}

// Env returns the environment a ghr binary needs to use the emulator.
func (s *Server) Env() []string {
	return []string{
		"AWS_ENDPOINT_URL=" + s.URL,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=testing",
		"AWS_SECRET_ACCESS_KEY=testing",
	}
}

// Reset wipes all emulator state between subtests.
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
