package main

import (
	"context"
	"fmt"
	"io"
)

func init() {
	register("protect", "-prefix P INSTANCE...", "tag instances ghr:protect: no scale-down, clean-up or orphan pass removes them", runProtect)
	register("unprotect", "-prefix P INSTANCE...", "remove ghr:protect from instances", runUnprotect)
}

func runProtect(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return protectCommand(ctx, "protect", args, stdout, true)
}

func runUnprotect(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return protectCommand(ctx, "unprotect", args, stdout, false)
}

func protectCommand(ctx context.Context, name string, args []string, stdout io.Writer, on bool) error {
	var f deploymentFlags
	fs := newFlags(name)
	f.define(fs)
	if err := parseFlags(fs, args, -1, stdout); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"name at least one INSTANCE id"}
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	for _, id := range fs.Args() {
		if err := d.Protect(ctx, id, on); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s %sed\n", id, name)
	}
	return nil
}
