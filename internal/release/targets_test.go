package release

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// TestCLIBuildsForEveryReleasedOS: `make release` builds the CLI for each of CLITargets, so a
// Linux-only file without its build constraint (the sandbox's network namespaces once) fails
// here rather than in a release. One architecture per operating system: the code differs by OS.
func TestCLIBuildsForEveryReleasedOS(t *testing.T) {
	slow.Skip(t, slow.Build)
	seen := map[string]bool{runtime.GOOS: true} // this OS: every other build and test compiles for it
	for _, target := range CLITargets {
		goos, goarch, _ := strings.Cut(target, "/")
		if seen[goos] {
			continue
		}
		seen[goos] = true
		cmd := exec.Command("go", "build", "-o", os.DevNull, "./cmd/ghr")
		cmd.Dir = repoRoot(t)
		cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("ghr CLI for %s: %v\n%s", target, err, out)
		}
	}
}
