// Command reprozip writes a zip whose bytes depend only on the files' names, contents and
// modes: fixed timestamps and sorted order, so a Lambda zip's hash changes only when the code
// does and Terraform redeploys only real changes.
//
//	reprozip -o dist/webhook.zip -C build/webhook bootstrap
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// epoch is the zip format's earliest representable time, used for every entry.
var epoch = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "output zip path")
	dir := flag.String("C", ".", "directory the file names are relative to")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: reprozip -o OUT.zip [-C DIR] FILE...")
		os.Exit(2)
	}
	if err := write(*out, *dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "reprozip:", err)
		os.Exit(1)
	}
}

func write(out, dir string, names []string) error {
	names = slices.Clone(names)
	slices.Sort(names)
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
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
