package motoserver

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// shared is the one emulator of a test binary whose TestMain is Main. Its start costs seconds
// (more on a busy machine), so a package with several emulator tests pays for it once.
var shared struct {
	installed bool // Main runs the tests, so the process is stopped when they end

	once    sync.Once
	proc    *motoproc.Proc
	logPath string
	err     error
}

// Main is the TestMain of a package whose tests use Shared: it runs the tests, then stops the
// emulator if one started.
func Main(m *testing.M) {
	shared.installed = true
	code := m.Run()
	if shared.proc != nil {
		shared.proc.Stop()
		os.Remove(shared.logPath)
	}
	os.Exit(code)
}

// Shared returns the package's one emulator, started by the first test that asks, wiped of
// every earlier test's state. Tests that use it must not run in parallel with each other.
// Like Start it skips under -short, and it fails a test whose package's TestMain is not Main
// (nothing would stop the process).
func Shared(tb testing.TB) *Server {
	tb.Helper()
	slow.Skip(tb, slow.Emulator)
	if !shared.installed {
		tb.Fatal("motoserver.Shared needs func TestMain(m *testing.M) { motoserver.Main(m) } in the package")
	}
	shared.once.Do(func() {
		logf, err := os.CreateTemp("", "ghr-moto-*.log")
		if err != nil {
			shared.err = err
			return
		}
		defer logf.Close()
		shared.logPath = logf.Name()
		shared.proc, shared.err = motoproc.Start(context.Background(), logf)
	})
	if shared.err != nil {
		log, _ := os.ReadFile(shared.logPath)
		tb.Fatalf("%v\n%s", shared.err, log)
	}
	if err := motoproc.Reset(context.Background(), shared.proc.URL); err != nil {
		tb.Fatalf("reset moto_server: %v", err)
	}
	return &Server{URL: shared.proc.URL}
}
