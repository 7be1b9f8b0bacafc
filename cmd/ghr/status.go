package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ghr-dev/ghr/internal/ops"
)

func init() {
	register("status", "-prefix P [-json]",
		"queues, runners per config, oldest waiting job, GitHub budget, last scale-down pass, drain switch", runStatus)
}

func runStatus(ctx context.Context, args []string, stdout, _ io.Writer) error {
	return deploymentCommand[*ops.Status]{
		name: "status",
		do: func(ctx context.Context, d *ops.Deployment, _ *deploymentFlags, _ []string) (*ops.Status, error) {
			return d.Status(ctx)
		},
		text: printStatus,
	}.run(ctx, args, stdout)
}

func printStatus(w io.Writer, st *ops.Status) error {
	drain := st.Drain
	if drain == "" {
		drain = "none"
	}
	waiting := strconv.Itoa(st.Waiting) + " jobs waiting"
	if o := st.OldestWaiting; o != nil {
		waiting += fmt.Sprintf(" (oldest %s, %s)", age(o.Age), o.Config)
	}
	fmt.Fprintf(w, "deployment %s at %s: %d instances, %s, %d dead letters, drained: %s\n",
		st.Deployment, st.At.Format("2006-01-02 15:04:05Z"), st.Instances, waiting, st.DeadLetters, drain)
	fmt.Fprintf(w, "last scale-down pass: %s\n", lastPass(st))
	fmt.Fprintf(w, "github: %s\n", githubLine(st.GitHub))
	for _, u := range st.Unread {
		fmt.Fprintf(w, "not read: %s\n", u)
	}
	fmt.Fprintln(w)
	t := newTable(w, "QUEUE", "KIND", "VISIBLE", "IN FLIGHT", "DELAYED")
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
	fmt.Fprintln(w)
	t = newTable(w, "CONFIG", "PENDING", "RUNNING", "REGISTERED", "PROTECTED", "ORPHANED", "OLDEST", "DRAINED")
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

// lastPass reads as "12s ago, took 0.4s: 3 instances, 1 removed, 1 terminated".
func lastPass(st *ops.Status) string {
	p := st.LastScaleDown
	if p == nil {
		return "none recorded yet"
	}
	r := p.Result
	s := fmt.Sprintf("%s ago, took %.1fs: %d instances, %d registrations removed, %d terminated, %d orphans marked, %d busy kept, %d removals failed, %d tokens deleted",
		age(st.At.Sub(p.At)), p.Seconds, r.Instances, r.Removed, r.Terminated, r.MarkedOrphans, r.KeptBusy, r.RemoveFailed, r.TokensDeleted)
	if r.OwnersFailed > 0 {
		s += fmt.Sprintf(", %d of %d owners not listed", r.OwnersFailed, r.Owners)
	}
	if p.Error != "" {
		s += "; failed: " + p.Error
	}
	return s
}

// githubLine reads as "last 5m: quota 4980 left, 0 pacing waits, 0 rate limited; budget per
// container (points/min): scale-up 360, scale-down 55".
func githubLine(g ops.GitHubState) string {
	var parts []string
	if g.Window > 0 {
		quota := "quota not reported"
		if g.Remaining != nil {
			quota = fmt.Sprintf("quota %d left", *g.Remaining)
		}
		parts = append(parts, fmt.Sprintf("last %s: %s, %d pacing waits, %d rate limited", age(g.Window), quota, g.PacingWaits, g.RateLimited))
	}
	if len(g.Budgets) > 0 {
		var bs []string
		for _, b := range g.Budgets {
			bs = append(bs, fmt.Sprintf("%s %d", b.Function, b.PointsPerMinute))
		}
		parts = append(parts, "budget per container (points/min): "+strings.Join(bs, ", "))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}
