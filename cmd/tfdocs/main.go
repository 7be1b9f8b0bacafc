// Command tfdocs writes the inputs and outputs tables of a Terraform module's README from its
// variables.tf and outputs.tf, between the README's generated-section markers. With -check it
// writes nothing and fails when the README is out of date (internal/harness/tfmodule's tests run the
// same check).
//
//	go run ./cmd/tfdocs [-check] [module dir, default terraform]
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/ghr-dev/ghr/internal/harness/tfmodule"
)

func main() {
	check := flag.Bool("check", false, "fail when the README is out of date instead of writing it")
	flag.Parse()
	dir := "terraform"
	if flag.NArg() > 0 {
		dir = flag.Arg(0)
	}
	if err := run(dir, *check); err != nil {
		fmt.Fprintln(os.Stderr, "tfdocs:", err)
		os.Exit(1)
	}
}

func run(dir string, check bool) error {
	current, want, err := tfmodule.Readme(dir)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "README.md")
	switch {
	case current == want:
		return nil
	case check:
		return fmt.Errorf("%s is out of date: run go run ./cmd/tfdocs %s", path, dir)
	default:
		return os.WriteFile(path, []byte(want), 0o644)
	}
}
