package distbuild

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestZipDependsOnlyOnContent proves the Lambda zips are reproducible: different mtimes and
// argument order give the same bytes; different content gives different bytes; the
// executable bit survives.
func TestZipDependsOnlyOnContent(t *testing.T) {
	dir := t.TempDir()
	put := func(name, content string, mode os.FileMode, mtime time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	build := func(out string, names ...string) []byte {
		if err := WriteZip(filepath.Join(dir, out), dir, names); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, out))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	put("bootstrap", "binary", 0o755, time.Unix(1000, 0))
	put("extra.txt", "x", 0o600, time.Unix(2000, 0))
	a := build("a.zip", "bootstrap", "extra.txt")
	put("bootstrap", "binary", 0o755, time.Now())
	put("extra.txt", "x", 0o644, time.Now())
	b := build("b.zip", "extra.txt", "bootstrap")
	if !bytes.Equal(a, b) {
		t.Fatal("same content, different mtimes/order/modes gave different zips")
	}
	put("bootstrap", "binary2", 0o755, time.Unix(1000, 0))
	if c := build("c.zip", "bootstrap", "extra.txt"); bytes.Equal(a, c) {
		t.Fatal("different content gave the same zip")
	}
	zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		t.Fatal(err)
	}
	if zr.File[0].Name != "bootstrap" || zr.File[0].Mode()&0o111 == 0 {
		t.Fatalf("bootstrap entry %q mode %v: want executable", zr.File[0].Name, zr.File[0].Mode())
	}
}
