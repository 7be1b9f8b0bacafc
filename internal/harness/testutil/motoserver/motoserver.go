// Package motoserver starts a moto_server (a local AWS emulator) on a free loopback port for
// integration tests, and builds AWS SDK configs that talk only to it.
package motoserver

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// Region is the emulator's region.
const Region = motoproc.Region

// Server is a running moto_server.
type Server struct {
	URL string // http://127.0.0.1:PORT
}

// Start runs a fresh moto_server for the test and stops it on cleanup. A missing binary fails
// the test: integration tests must not pass by not running. Under -short it skips the test
// (see package slow), so a test that forgets to say it is slow still stays out of the fast set.
func Start(tb testing.TB) *Server {
	tb.Helper()
	slow.Skip(tb, slow.Emulator)
	logPath := filepath.Join(tb.TempDir(), "moto.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := motoproc.Start(context.Background(), logf)
	if err != nil {
		logf.Close()
		log, _ := os.ReadFile(logPath)
		tb.Fatalf("%v\n%s", err, log)
	}
	tb.Cleanup(func() {
		p.Stop()
		logf.Close()
	})
	return &Server{URL: p.URL}
}

// AWSConfig returns an SDK config with static test credentials aimed at the emulator.
func (s *Server) AWSConfig() aws.Config { return motoproc.AWSConfig(s.URL) }

// Env returns the environment a ghr binary needs to use the emulator, as KEY=VALUE pairs.
func (s *Server) Env() []string {
	var out []string
	for k, v := range motoproc.Env(s.URL) {
		out = append(out, k+"="+v)
	}
	return out
}
