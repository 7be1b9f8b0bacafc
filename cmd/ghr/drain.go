package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/ops"
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
	var all bool
	var keys []string
	return deploymentCommand[drainState]{
		name: name, maxArgs: -1,
		flags: func(fs *flag.FlagSet) { fs.BoolVar(&all, "all", false, "every runner config") },
		check: func(fs *flag.FlagSet) (err error) {
			keys, err = drainKeys(fs, all)
			return err
		},
		do: func(ctx context.Context, d *ops.Deployment, _ *deploymentFlags, _ []string) (drainState, error) {
			var set drain.Set
			var err error
			if name == "drain" {
				set, err = d.Drain(ctx, keys...)
			} else {
				set, err = d.Undrain(ctx, keys...)
			}
			return drainState{set.String()}, err
		},
		text: func(w io.Writer, s drainState) error {
			now := s.Drained
			if now == "" {
				now = "none"
			}
			_, err := fmt.Fprintf(w, "drained now: %s (scale-up and the pool read the switch within 30 s)\n", now)
			return err
		},
	}.run(ctx, args, stdout)
}

// drainState is the drain switch after a command: "" none, "*" all, else config keys.
type drainState struct {
	Drained string `json:"drained"`
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
