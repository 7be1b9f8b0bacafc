package release

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// copyModule copies the module's sources to a new place, with new modification times, so a
// second build shares nothing with the first but the source text.
func copyModule(t *testing.T, root string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "elsewhere", "ghr")
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, dir := range []string{"cmd", "internal", "lambdas"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestReleaseIsReproducible builds one function's release asset twice, from two checkouts in
// different places, and wants identical bytes and SHA256SUMS that verify them.
func TestReleaseIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function twice")
	}
	root := repoRoot(t)
	build := func(src string) string {
		out := filepath.Join(t.TempDir(), "out")
		names, err := Build(context.Background(), Options{Root: src, Version: "1.2.3", Out: out, Functions: []string{"webhook"}, Arches: []string{"arm64"}, NoCLI: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"webhook_linux_arm64.zip"}; strings.Join(names, ",") != strings.Join(want, ",") {
			t.Fatalf("assets %v, want %v", names, want)
		}
		return out
	}
	a, b := build(root), build(copyModule(t, root))
	for _, name := range []string{SumsFile, "webhook_linux_arm64.zip"} {
		x, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		y, err := os.ReadFile(filepath.Join(b, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two builds of the same source", name)
		}
	}
	sumsText, _ := os.ReadFile(filepath.Join(a, SumsFile))
	sums, err := ParseSums(bytes.NewReader(sumsText))
	if err != nil {
		t.Fatal(err)
	}
	zip, _ := os.ReadFile(filepath.Join(a, "webhook_linux_arm64.zip"))
	if err := Verify(sums, "webhook_linux_arm64.zip", zip); err != nil {
		t.Fatal(err)
	}
	if err := Verify(sums, "webhook_linux_arm64.zip", append(zip, 0)); err == nil {
		t.Fatal("a changed zip verified")
	}
	if _, err := Build(context.Background(), Options{Root: root, Version: "1.2.3", Out: a}); err == nil {
		t.Fatal("a release was built into a non-empty directory")
	}
}

func TestCheckVersion(t *testing.T) {
	for v, ok := range map[string]bool{"1.2.3": true, "0.1.0": true, "1.0.0-rc.1": true, "v1.2.3": false, "1.2": false, "01.2.3": false, "1.2.3-": false, "": false, "dev": false} {
		if err := CheckVersion(v); (err == nil) != ok {
			t.Errorf("CheckVersion(%q) = %v, want ok=%v", v, err, ok)
		}
	}
}

func TestParseSums(t *testing.T) {
	good := "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  a.zip\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 *b.zip\n"
	sums, err := ParseSums(strings.NewReader(good))
	if err != nil || len(sums) != 2 || Verify(sums, "b.zip", nil) != nil {
		t.Fatalf("ParseSums(good) = %v, %v", sums, err)
	}
	if Verify(sums, "c.zip", nil) == nil {
		t.Fatal("an unlisted file verified")
	}
	for _, bad := range []string{"", "abc  a.zip\n", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  ../x\n", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"} {
		if _, err := ParseSums(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseSums(%q) accepted", bad)
		}
	}
}
