package coldstart

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildFunctions builds every lambdas/* command once, as `make dist` does but for the host
// architecture, and returns name → executable.
func buildFunctions(tb testing.TB) map[string]string {
	tb.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	entries, err := os.ReadDir(filepath.Join(root, "lambdas"))
	if err != nil {
		tb.Fatal(err)
	}
	out := tb.TempDir()
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w -buildid=",
		"-o", out+string(filepath.Separator), "./lambdas/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build lambdas: %v\n%s", err, b)
	}
	bins := map[string]string{}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		p := filepath.Join(out, e.Name())
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("lambda %s not built: %v", e.Name(), err)
		}
		bins[e.Name()] = p
	}
	return bins
}
