package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
)

func init() {
	register("status", "-prefix P [-json]", "queues, runners per config, drain switch of a deployment", runStatus)
}

func runStatus(ctx context.Context, args []string, stdout, _ io.Writer) error {
	var f deploymentFlags
	fs := newFlags("status")
	f.define(fs)
	if err := parseFlags(fs, args, 0, stdout); err != nil {
		return err
	}
	d, err := f.deployment(ctx)
	if err != nil {
		return err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return err
	}
	if f.json {
		return printJSON(stdout, st)
	}
	drain := st.Drain
	if drain == "" {
		drain = "none"
	}
	fmt.Fprintf(stdout, "deployment %s at %s: %d instances, %d jobs waiting, %d dead letters, drained: %s\n\n",
		st.Deployment, st.At.Format("2006-01-02 15:04:05Z"), st.Instances, st.Waiting, st.DeadLetters, drain)
	t := newTable(stdout, "QUEUE", "KIND", "VISIBLE", "IN FLIGHT", "DELAYED")
	for _, q := range st.Queues {
		kind := q.Kind
		if q.DLQ {
			kind += " dlq"
		}
		t.row(q.Name, kind, t.paint(strconv.Itoa(q.Visible), red, q.DLQ && q.Visible > 0), strconv.Itoa(q.InFlight), strconv.Itoa(q.Delayed))
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	t = newTable(stdout, "CONFIG", "PENDING", "RUNNING", "REGISTERED", "PROTECTED", "ORPHANED", "OLDEST", "DRAINED")
	for _, r := range st.Runners {
		oldest := "-"
		if r.Pending+r.Running > 0 {
			oldest = age(r.OldestInstance)
		}
		drained := "no"
		if r.Drained {
			drained = "yes"
		}
		t.row(r.Config, strconv.Itoa(r.Pending), strconv.Itoa(r.Running), strconv.Itoa(r.Registered), strconv.Itoa(r.Protected),
			strconv.Itoa(r.Orphaned), oldest, t.paint(drained, yellow, r.Drained))
	}
	return t.flush()
}
