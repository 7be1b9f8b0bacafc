package main

import (
	"context"
	"io"
)

func init() {
	register("runners", "-prefix P [-json]", "one line per runner instance: config, owner, state, age, jobs", runRunners)
}

func runRunners(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var f deploymentFlags
	fs := newFlags("runners")
	f.define(fs)
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	rs, err := d.Runners(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, rs)
	}
	t := newTable(stdout, "INSTANCE", "CONFIG", "OWNER", "STATE", "AGE", "BY", "TYPE", "JOBS", "FLAGS")
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
