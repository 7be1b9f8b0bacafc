package release

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/harness/distbuild"
	"github.com/ghr-dev/ghr/internal/harness/ghsim"
)

// serveRelease publishes dir's files as release v<version> of Repo on a GitHub simulator and
// returns its URL (the base for FetchOptions.BaseURL).
func serveRelease(t *testing.T, version, dir string) string {
	t.Helper()
	rel, err := ghsim.DirRelease(Repo, "v"+version, dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ghsim.Start(context.Background(), ghsim.Options{RunnerReleases: []ghsim.Release{ghsim.DefaultRunnerRelease(), rel}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv.URL
}

// fakeRelease writes distinct zips for every function and both architectures, and SHA256SUMS.
func fakeRelease(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, arch := range Arches {
		for _, fn := range FunctionNames {
			if err := os.WriteFile(filepath.Join(dir, FunctionAsset(fn, arch)), []byte("zip of "+fn+" for "+arch), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := WriteSums(dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFetchVerifiesAgainstSums(t *testing.T) {
	rel := fakeRelease(t)
	base := serveRelease(t, "1.4.0", rel)
	out := filepath.Join(t.TempDir(), "dist")
	files, err := Fetch(context.Background(), FetchOptions{BaseURL: base, Version: "1.4.0", GOARCH: "amd64", Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(FunctionNames) {
		t.Fatalf("fetched %v", files)
	}
	for _, fn := range FunctionNames {
		got, err := os.ReadFile(filepath.Join(out, fn+".zip"))
		if err != nil || string(got) != "zip of "+fn+" for amd64" {
			t.Fatalf("%s.zip = %q, %v; want the amd64 asset", fn, got, err)
		}
	}

	if _, err := Fetch(context.Background(), FetchOptions{BaseURL: base, Version: "9.9.9", GOARCH: "amd64", Out: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("fetch of a missing release: %v, want a 404", err)
	}

	// A substituted asset: its bytes no longer match SHA256SUMS, so nothing of it is written.
	bad := fakeRelease(t)
	if err := os.WriteFile(filepath.Join(bad, FunctionAsset("webhook", "arm64")), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	base = serveRelease(t, "1.4.1", bad)
	out = t.TempDir()
	_, err = Fetch(context.Background(), FetchOptions{BaseURL: base, Version: "1.4.1", GOARCH: "arm64", Out: out})
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("fetch of a tampered asset: %v, want a checksum mismatch", err)
	}
	if _, err := os.Stat(filepath.Join(out, "webhook.zip")); !os.IsNotExist(err) {
		t.Fatalf("the tampered webhook.zip was written: %v", err)
	}
}

// TestFunctionNamesMatchLambdas: a release carries every function the repository builds.
func TestFunctionNamesMatchLambdas(t *testing.T) {
	got, err := distbuild.Functions(repoRoot(t))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, FunctionNames) {
		t.Fatalf("lambdas/ has %v, release.FunctionNames %v", got, FunctionNames)
	}
}
