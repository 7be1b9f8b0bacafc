package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/release"
)

func init() {
	register("lambdas fetch", "-version X.Y.Z [-arch arm64|amd64] [-o DIR]", "download a release's function zips, verified against its SHA256SUMS", runLambdasFetch)
}

func runLambdasFetch(ctx context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("lambdas fetch")
	version := fs.String("version", "", "release to fetch, x.y.z")
	arch := fs.String("arch", "arm64", "architecture: arm64 or amd64 (x86_64); must match the module's lambda_architecture")
	out := fs.String("o", "ghr-dist", "directory to write <function>.zip into (the module's lambda_dist_dir)")
	base := fs.String("base-url", release.DefaultBaseURL, "where releases are downloaded from (a mirror of GitHub's release downloads)")
	repo := fs.String("repo", release.Repo, "repository publishing the releases")
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	if *arch == "x86_64" {
		*arch = "amd64"
	}
	if err := release.CheckVersion(*version); err != nil {
		return usageError{"-version: " + err.Error()}
	}
	if *arch != "arm64" && *arch != "amd64" {
		return usageError{fmt.Sprintf("-arch %q: want arm64 or amd64", *arch)}
	}
	files, err := release.Fetch(ctx, release.FetchOptions{BaseURL: *base, Repo: *repo, Version: *version, GOARCH: *arch, Out: *out})
	if err != nil {
		return err
	}
	lambdaArch := map[string]string{"arm64": "arm64", "amd64": "x86_64"}[*arch]
	fmt.Fprintf(stdout, "fetched %d function zips of v%s for %s into %s, each verified against SHA256SUMS\n", len(files), *version, lambdaArch, *out)
	fmt.Fprintf(stdout, "set in the module:  lambda_dist_dir = %q\n                    lambda_architecture = %q\n", *out, lambdaArch)
	return nil
}
