// Command release builds a ghr release (see internal/release) for `make release`:
//
//	release -version 1.2.0 -o release/1.2.0 [-sbom PATH-TO-cyclonedx-gomod]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/ghr-dev/ghr/internal/release"
)

func main() {
	version := flag.String("version", "", "semantic version x.y.z")
	out := flag.String("o", "", "output directory (must be empty or absent)")
	sbom := flag.String("sbom", "", "cyclonedx-gomod binary; empty writes no SBOM")
	root := flag.String("root", ".", "repository root")
	flag.Parse()
	if *out == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: release -version x.y.z -o DIR [-sbom PATH]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	names, err := release.Build(ctx, release.Options{Root: *root, Version: *version, Out: *out, SBOM: *sbom, Log: os.Stderr})
	if err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
	fmt.Printf("release %s: %d assets and %s in %s\n", *version, len(names), release.SumsFile, *out)
}
