package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/ghr-dev/ghr/internal/ops"
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

// protected is what protect or unprotect did to one instance.
type protected struct {
	InstanceID string `json:"instance_id"`
	Protected  bool   `json:"protected"`
}

func protectCommand(ctx context.Context, name string, args []string, stdout io.Writer, on bool) error {
	return deploymentCommand[[]protected]{
		name: name, maxArgs: -1,
		check: func(fs *flag.FlagSet) error {
			if fs.NArg() == 0 {
				return usageError{"name at least one INSTANCE id"}
			}
			return nil
		},
		// Instances are done one by one; what was done before a refusal is still printed.
		partial: func(rs []protected) bool { return len(rs) > 0 },
		do: func(ctx context.Context, d *ops.Deployment, _ *deploymentFlags, ids []string) ([]protected, error) {
			var done []protected
			for _, id := range ids {
				if err := d.Protect(ctx, id, on); err != nil {
					return done, err
				}
				done = append(done, protected{id, on})
			}
			return done, nil
		},
		text: func(w io.Writer, done []protected) error {
			for _, p := range done {
				fmt.Fprintf(w, "%s %sed\n", p.InstanceID, name)
			}
			return nil
		},
	}.run(ctx, args, stdout)
}
