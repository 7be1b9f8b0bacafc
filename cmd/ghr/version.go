package main

import (
	"context"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/version"
)

func init() { register("version", "", "print ghr's version", runVersion) }

func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if err := parseFlags(newFlags("version"), args, 0, stdout); err != nil {
		return err
	}
	fmt.Fprintln(stdout, version.Version)
	return nil
}
