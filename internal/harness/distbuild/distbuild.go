// Package distbuild builds ghr's Lambda functions the way `make dist` does: a static
// `bootstrap` per function, zipped reproducibly (fixed timestamps and order), so a zip's hash
// changes only when its code does and Terraform redeploys only real changes.
package distbuild

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"
)

// epoch is the zip format's earliest representable time, used for every entry.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Functions lists the function names under root/lambdas.
func Functions(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "lambdas"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// BuildAll builds every function for goarch into dist/<name>.zip.
func BuildAll(ctx context.Context, root, dist, goarch string) error {
	names, err := Functions(root)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := Build(ctx, root, dist, goarch, name); err != nil {
			return err
		}
	}
	return nil
}

// Build builds one function into dist/<name>.zip.
func Build(ctx context.Context, root, dist, goarch, name string) error {
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return err
	}
	return BuildWith(ctx, Spec{Root: root, GOARCH: goarch, Package: "./lambdas/" + name, LDFlags: "-s -w -buildid="}, filepath.Join(dist, name+".zip"))
}

// Spec is one reproducible Go build: static, -trimpath, no build id.
type Spec struct {
	Root    string // module root
	GOOS    string // default linux
	GOARCH  string
	Package string // e.g. ./lambdas/webhook
	LDFlags string // must keep -buildid= for reproducibility
}

// Binary builds s into out.
func Binary(ctx context.Context, s Spec, out string) error {
	goos := s.GOOS
	if goos == "" {
		goos = "linux"
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-tags", "lambda.norpc", "-ldflags", s.LDFlags, "-o", out, s.Package)
	cmd.Dir = s.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+s.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s for %s/%s: %w\n%s", s.Package, goos, s.GOARCH, err, b)
	}
	return nil
}

// BuildWith builds a Lambda function as `bootstrap` and zips it into out.
func BuildWith(ctx context.Context, s Spec, out string) error {
	work, err := os.MkdirTemp("", "ghr-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	if err := Binary(ctx, s, filepath.Join(work, "bootstrap")); err != nil {
		return err
	}
	return WriteZip(out, work, []string{"bootstrap"})
}

// WriteZip writes names (relative to dir) into out with fixed timestamps, sorted order and
// only the executable bit of each mode kept.
func WriteZip(out, dir string, names []string) error {
	names = slices.Clone(names)
	slices.Sort(names)
	// A temp name of its own: two builds of the same zip (two sandboxes starting at once)
	// must not rename each other's file away.
	f, err := os.CreateTemp(filepath.Dir(out), filepath.Base(out)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o644); err != nil { // CreateTemp's 0600 would hide the zip from other users
		f.Close()
		return err
	}
	zw := zip.NewWriter(f)
	for _, name := range names {
		if err := add(zw, dir, name); err != nil {
			f.Close()
			return fmt.Errorf("add %s: %w", name, err)
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func add(zw *zip.Writer, dir, name string) error {
	src, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if info.Mode()&0o111 != 0 {
		mode = 0o755 // Lambda needs bootstrap executable; nothing else about the mode matters
	}
	h := &zip.FileHeader{Name: filepath.ToSlash(name), Method: zip.Deflate, Modified: epoch}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
