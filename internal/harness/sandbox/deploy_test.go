package sandbox

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
)

// deploy builds every function for this machine and brings a sandbox up with the given boot
// delay (Go hosts), share of real boots and examples/local variables. It closes with the test; keep(tb) decides whether the
// run's log is copied to $GHR_E2E_LOGS first (see keepLog).
func deploy(tb testing.TB, bootDelay time.Duration, realBoots float64, vars map[string]any, keep func() bool, logName string, adjust ...func(*Options)) *Sandbox {
	tb.Helper()
	ctx := context.Background()
	root, err := filepath.Abs("../../..")
	if err != nil {
		tb.Fatal(err)
	}
	dist := tb.TempDir()
	start := time.Now()
	if err := distbuild.BuildAll(ctx, root, dist, runtime.GOARCH); err != nil {
		tb.Fatal(err)
	}
	tb.Logf("built functions in %s", time.Since(start).Round(time.Second))
	start = time.Now()
	opts := Options{Root: root, DistDir: dist, WorkDir: tb.TempDir(), BootDelay: bootDelay, RealBoots: realBoots, Vars: vars}
	for _, f := range adjust {
		f(&opts)
	}
	sb, err := Up(ctx, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(sb.Close)
	tb.Cleanup(func() { // runs before Close: the log is complete while the deployment is up
		if keep() {
			keepLog(tb, sb, logName)
		}
	})
	tb.Logf("deployed %d functions in %s", len(sb.Deployment.Functions), time.Since(start).Round(time.Second))
	return sb
}

// keepLog copies the run's log (functions, emulator, Terraform) to $GHR_E2E_LOGS, for
// diagnosis after the temporary directory is gone.
func keepLog(tb testing.TB, sb *Sandbox, name string) {
	dir := os.Getenv("GHR_E2E_LOGS")
	if dir == "" {
		return
	}
	data, err := os.ReadFile(filepath.Join(sb.Opts.WorkDir, "sandbox.log"))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	out := filepath.Join(dir, name+"-"+time.Now().UTC().Format("20060102T150405")+".log")
	if err == nil {
		err = os.WriteFile(out, data, 0o644)
	}
	if err != nil {
		tb.Logf("keep sandbox log: %v", err)
		return
	}
	tb.Logf("sandbox log kept at %s", out)
}
