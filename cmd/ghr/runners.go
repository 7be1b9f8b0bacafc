package main

import (
	"context"
	"io"

	"github.com/ghr-dev/ghr/internal/ops"
)

func init() {
	register("runners", "-prefix P [-json]", "one line per runner instance: config, owner, state, age, jobs", runRunners)
}

func runRunners(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return deploymentCommand[[]ops.Runner]{
		name: "runners",
		do: func(ctx context.Context, d *ops.Deployment, _ *deploymentFlags, _ []string) ([]ops.Runner, error) {
			return d.Runners(ctx)
		},
		text: printRunners,
	}.run(ctx, args, stdout)
}

func printRunners(w io.Writer, rs []ops.Runner) error {
	t := newTable(w, "INSTANCE", "CONFIG", "OWNER", "STATE", "AGE", "BY", "TYPE", "JOBS", "FLAGS")
	for _, r := range rs {
		state := r.State
		if r.Registered && state == "running" {
			state = "registered"
		}
		flags := ""
		if r.Protected {
			flags += "protected "
		}
		if r.Orphan {
			flags += "orphan"
		}
		jobs := r.Jobs
		if jobs == "" {
			jobs = "-"
		}
		t.row(r.InstanceID, r.Config, r.Owner, t.paint(state, green, state == "registered"), age(r.Age), r.CreatedBy, r.InstanceType, jobs,
			t.paint(flags, yellow, flags != ""))
	}
	return t.flush()
}
