package distbuild

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is ghr's module path; only its own packages can be harness.
const module = "github.com/ghr-dev/ghr/"

// harnessRoot holds the local world: the GitHub simulator, the sandbox and what runs it
// (Lambda host, AWS proxy, emulator process), build and module tooling, log and cold-start
// checks, the boot scripts' tests, the simulated runner and test utilities.
const harnessRoot = "internal/harness/"

// harnessPackage reports whether a package (import path) belongs to the local harness, not
// to what ships: a harness directory, a command, or a test fake (…test, …fake).
func harnessPackage(path string) bool {
	rel, ours := strings.CutPrefix(path, module)
	if !ours {
		return false
	}
	if strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, harnessRoot) {
		return true
	}
	for _, e := range strings.Split(rel, "/") {
		if strings.HasSuffix(e, "test") || strings.HasSuffix(e, "fake") {
			return true
		}
	}
	return false
}

func TestHarnessPackage(t *testing.T) {
	for path, want := range map[string]bool{
		module + "internal/harness/ghsim":                   true,
		module + "internal/harness/ghsim/oapi":              true,
		module + "internal/harness/testutil/motoserver":     true,
		module + "internal/ec2fleet/ec2fleettest":           true,
		module + "internal/harness/bootstrap/bootstraptest": true,
		module + "internal/scaledown/ghfake":                true,
		module + "internal/harness/anything":                true,
		module + "internal/sandbox":                         false,
		module + "cmd/ghr":                                  true,
		module + "internal/scaleup":                         false,
		module + "internal/ec2fleet":                        false,
		module + "internal/harness/bootstrap":               true,
		module + "internal/runnertoken":                     false,
		module + "lambdas/scale-up":                         false,
		"github.com/aws/aws-sdk-go-v2/service/ec2":          false,
		"github.com/other/module/internal/testutil":         false,
	} {
		if got := harnessPackage(path); got != want {
			t.Errorf("harnessPackage(%q) = %v, want %v", path, got, want)
		}
	}
}

// listed is what `go list -json` says of one package.
type listed struct {
	ImportPath string
	Imports    []string
}

// TestLambdasShipNoHarness fails when a Lambda's build (as make dist builds it) depends on
// a harness package: the simulator, the sandbox or a fake would ship in a zip, and the
// product would quietly rely on the local world.
func TestLambdasShipNoHarness(t *testing.T) {
	root := repoRoot(t)
	names, err := Functions(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Fatal("no functions under lambdas/")
	}
	pkgs := deps(t, root, "./lambdas/...")
	for _, name := range names {
		main := module + "lambdas/" + name
		if _, ok := pkgs[main]; !ok {
			t.Fatalf("go list -deps did not list %s", main)
		}
		for _, path := range reachable(pkgs, main) {
			if harnessPackage(path) {
				t.Errorf("lambdas/%s depends on harness package %s: %s", name, path,
					strings.Join(importChain(pkgs, main, path), " → "))
			}
		}
	}
}

// deps lists the packages matching pattern and their dependencies, for the platform and tags
// the zips are built with.
func deps(t *testing.T, root, pattern string) map[string]listed {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Imports", "-tags", "lambda.norpc", pattern)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pattern, err, stderr.String())
	}
	pkgs := map[string]listed{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// reachable lists every package from imports, sorted.
func reachable(pkgs map[string]listed, from string) []string {
	seen := map[string]bool{from: true}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, imp := range pkgs[p].Imports {
			if !seen[imp] {
				seen[imp] = true
				queue = append(queue, imp)
			}
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// importChain is one shortest import path from from to to, for the failure message.
func importChain(pkgs map[string]listed, from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == to {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append(chain, strings.TrimPrefix(p, module))
			}
			slices.Reverse(chain)
			return chain
		}
		for _, imp := range pkgs[p].Imports {
			if _, seen := prev[imp]; !seen {
				prev[imp] = p
				queue = append(queue, imp)
			}
		}
	}
	return []string{from, "…", to}
}

// repoRoot is the module root, wherever this package lives in it.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}
