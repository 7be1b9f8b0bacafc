package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/drain"
)

func init() {
	register("drain", "-prefix P CONFIG...|--all", "stop launching for runner configs; running jobs finish (writes /<prefix>/drain)", runDrain)
	register("undrain", "-prefix P CONFIG...|--all", "resume launching for runner configs", runUndrain)
}

func runDrain(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return drainCommand(ctx, "drain", args, stdout)
}

func runUndrain(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return drainCommand(ctx, "undrain", args, stdout)
}

func drainCommand(ctx context.Context, name string, args []string, stdout io.Writer) error {
	var f deploymentFlags
	var all bool
	fs := newFlags(name)
	f.define(fs)
	fs.BoolVar(&all, "all", false, "every runner config")
	if err := parseFlags(fs, args, -1, stdout); err != nil {
		return err
	}
	keys, err := drainKeys(fs, all)
	if err != nil {
		return err
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	var set drain.Set
	if name == "drain" {
		set, err = d.Drain(ctx, keys...)
	} else {
		set, err = d.Undrain(ctx, keys...)
	}
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, map[string]any{"drained": set.String()})
	}
	now := set.String()
	if now == "" {
		now = "none"
	}
	fmt.Fprintf(stdout, "drained now: %s (scale-up and the pool read the switch within 30 s)\n", now)
	return nil
}

func drainKeys(fs *flag.FlagSet, all bool) ([]string, error) {
	switch {
	case all && fs.NArg() > 0:
		return nil, usageError{"give CONFIG names or --all, not both"}
	case all:
		return []string{drain.All}, nil
	case fs.NArg() == 0:
		return nil, usageError{"name at least one runner CONFIG, or --all"}
	}
	for _, k := range fs.Args() {
		if k == drain.All {
			return nil, usageError{"use --all rather than *"}
		}
	}
	return fs.Args(), nil
}
