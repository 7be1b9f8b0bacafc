// Package reconcile decides what a launch's delayed re-check does with each of its jobs.
//
// Once scale-up has registered runners for jobs and acknowledged their messages, nothing else
// looks at those jobs: a host that dies before taking its job (a spot reclaim at boot, a
// failed bootstrap, a power-off) or a runner that takes another job (GitHub hands a queued
// job to any idle runner whose labels match) leaves the job queued until GitHub cancels it
// after 24 hours. So scale-up schedules a re-check of every launch (queue.Recheck, on the
// lifecycle queue, first after RECHECK_AFTER), and clean-up runs it.
//
// The check reads the deployment's hosts from EC2 first: state, and the job each runner took
// (tags.TookJob, which clean-up sets from the in_progress event once the event's runner id
// proves the runner is the instance's own). GitHub hands a queued job to any idle runner of
// the same labels and owner, so runners of one runner config and owner are interchangeable
// across launches: a job some host of the deployment took is settled with no GitHub call
// (the normal path), and a live host of another launch that took no job yet is as able to
// take this launch's job as the launch's own (a "spare" host: the launch's own host may have
// taken that launch's job). Only when the launch's own and spare hosts are fewer than its
// unsettled jobs, or on the last check, is GitHub asked for those jobs' status. A queued job
// with no host left is sent again to its build queue, through the normal scale-up path
// (max_runners, the spot breaker and deferrals apply).
//
// Decide is pure: state in, one Outcome per job out.
package reconcile

import (
	"maps"
	"slices"
	"time"
)

// Re-check limits.
const (
	// DefaultFirstCheck is when a launch is first checked after registration: a real EC2
	// boot takes 1–2 minutes to bring its runner online and GitHub hands it a waiting job
	// within seconds, so most jobs have started (and their runners said so) by then. Earlier
	// checks find runners still booting and cost a second check; later ones delay recovery.
	DefaultFirstCheck = 4 * time.Minute
	// maxDelay is SQS's longest message delay.
	maxDelay = 15 * time.Minute
	// MaxChecks bounds the checks of one launch: a host that lives but never takes a job is
	// removed by scale-down's idle pass after minimum_running_minutes (default 5), after which
	// the next check asks GitHub; six checks (4, 12, 27, 42, 57, 72 minutes with the default
	// first check) leave ample room for that, and the last one asks GitHub about every job
	// still unsettled.
	MaxChecks = 6
	// MaxRelaunches bounds how often one job is launched again: a config whose hosts always
	// die at boot (a broken image) would otherwise relaunch for 24 hours.
	MaxRelaunches = 5
	// JobQueueLimit: GitHub cancels a job no runner started within 24 hours.
	JobQueueLimit = 24 * time.Hour
)

// Delay is how long after the previous one check n (from 1) runs: first for the first, then
// doubling, at most SQS's 15 minutes.
func Delay(n int, first time.Duration) time.Duration {
	if first <= 0 {
		first = DefaultFirstCheck
	}
	d := min(first, maxDelay)
	for i := 1; i < n && d < maxDelay; i++ {
		d *= 2
	}
	return min(d, maxDelay)
}

// HostState is what EC2 says of one of the launch's hosts.
type HostState int

// Host states.
const (
	// HostMissing: not listed (EC2 forgets a terminated instance after about an hour).
	HostMissing HostState = iota
	// HostAlive: pending or running, its registration not marked (the mark may have failed:
	// the host still has its token and may take a job).
	HostAlive
	// HostRegistered: pending or running with ghr:registered set.
	HostRegistered
	// HostDead: shutting-down, terminated, stopping or stopped.
	HostDead
)

var hostStateNames = [...]string{"missing", "alive", "registered", "dead"}

func (s HostState) String() string { return hostStateNames[s] }

// live reports whether a host in state s can still take a job.
func (s HostState) live() bool { return s == HostAlive || s == HostRegistered }

// Host is one host of the deployment.
type Host struct {
	ID    string
	State HostState
	Took  int64 // the job its runner took (tags.TookJob); 0: none yet, or not known
	// Config and Owner are the runner config and runner owner it was launched for
	// (tags.RunnerConfig, tags.Owner); Deadline is its launch's (tags.LaunchDeadline).
	Config, Owner string
	Deadline      time.Time
}

// Spare counts the live hosts of config and owner outside the launch (whose hosts are own)
// that took no job and are, or may still become, registered runners (as scale-up's
// MarkServed counts them): any of them may take one of the launch's jobs. A host whose
// launching invocation passed its deadline unregistered will never take a job.
func Spare(live []Host, own []string, config, owner string, now time.Time) int {
	n := 0
	for _, h := range live {
		committed := h.State == HostRegistered || (h.State == HostAlive && now.Before(h.Deadline))
		if committed && h.Took == 0 && h.Config == config && h.Owner == owner && !slices.Contains(own, h.ID) {
			n++
		}
	}
	return n
}

// JobStatus is GitHub's status of a job, as far as the check asked.
type JobStatus int

// Job statuses.
const (
	StatusUnasked    JobStatus = iota // GitHub not asked (yet)
	StatusQueued                      // waiting for a runner
	StatusInProgress                  // a runner took it
	StatusCompleted                   // over, whatever the conclusion
	StatusNotFound                    // 404: the job, run or repository is gone
	StatusPending                     // waiting, requested or pending: not yet offered to runners
	StatusUnknown                     // GitHub did not answer
)

var statusNames = [...]string{"unasked", "queued", "in_progress", "completed", "not_found", "pending", "unknown"}

func (s JobStatus) String() string { return statusNames[s] }

// StatusOf maps GitHub's workflow job status.
func StatusOf(status string) JobStatus {
	switch status {
	case "queued":
		return StatusQueued
	case "in_progress":
		return StatusInProgress
	case "completed":
		return StatusCompleted
	case "waiting", "requested", "pending":
		return StatusPending
	}
	return StatusUnknown
}

// Action is what the check does with one job.
type Action int

// Actions.
const (
	Done        Action = iota // settled: nothing more to do
	CheckLater                // look again at the next check
	Ask                       // GitHub's status is needed: ask, then Decide again
	LaunchAgain               // queued with no host left for it: send it to its build queue
	GiveUp                    // logged at error level with the job id
)

var actionNames = [...]string{"done", "check_later", "ask", "launch_again", "give_up"}

func (a Action) String() string { return actionNames[a] }

// Job is one unsettled job of the launch.
type Job struct {
	ID         int64
	QueuedAt   time.Time
	Relaunches int
}

// Input is one check of one launch.
type Input struct {
	Check int   // this check's number, from 1
	Jobs  []Job // ascending by id
	Hosts []Host
	// Taken holds the jobs hosts outside the launch took (tags.TookJob); Spare is how many
	// live hosts outside the launch may still take one of its jobs (Spare, less those other
	// launches of the same batch count on).
	Taken  map[int64]bool
	Spare  int
	Status map[int64]JobStatus // GitHub's answers; absent is StatusUnasked
	Now    time.Time
}

// Outcome is the decision for one job; Reason is logged.
type Outcome struct {
	JobID  int64
	Action Action
	Reason string
}

// Reasons.
const (
	ReasonStarted      = "started_on_its_runner"
	ReasonMayTake      = "runner_may_still_take_it"
	ReasonSpare        = "another_launchs_runner_may_take_it"
	ReasonNoRunner     = "no_runner_left"
	ReasonElsewhere    = "started_elsewhere"
	ReasonCompleted    = "completed"
	ReasonNotFound     = "not_found"
	ReasonNotYet       = "not_queued_yet"
	ReasonNoAnswer     = "github_did_not_answer"
	ReasonExpired      = "older_than_github_keeps_a_job"
	ReasonExhausted    = "checks_exhausted"
	ReasonRelaunchedUp = "relaunches_exhausted"
	ReasonNeedStatus   = "host_dead_or_busy_elsewhere"
)

// Decide returns one outcome per job. When some job needs GitHub's status, those jobs get
// Ask (and the rest their final outcome where it does not depend on the answers, else Ask
// too); the caller asks and decides again with the answers in Status.
//
// The rules, in order:
//   - a job some host of the deployment took is done (its runner started it);
//   - a job older than GitHub's queue limit is given up;
//   - while the launch's live hosts that took no job, with the spare ones, are at least as
//     many as the unsettled jobs, every one of them may still be taken: check later (no
//     GitHub call). The last check asks instead;
//   - otherwise GitHub is asked: in_progress, completed and not found are done; pending
//     (not yet offered to runners) and no answer wait for the next check; of the queued
//     jobs, as many as there are live idle and spare hosts may still be taken (check later,
//     or give up on the last check), and the others are launched again (given up past
//     MaxRelaunches). The relaunched ones are the queued jobs after the first w of the
//     unsettled list, w being the launch's own live idle hosts: scale-up counts a launch's c
//     live hosts as serving the first c jobs of its list (MarkServed), so only those can be
//     launched again.
func Decide(in Input) []Outcome {
	out := make([]Outcome, 0, len(in.Jobs))
	took := maps.Clone(in.Taken)
	if took == nil {
		took = map[int64]bool{}
	}
	idle := 0
	for _, h := range in.Hosts {
		switch {
		case h.Took != 0:
			took[h.Took] = true
		case h.State.live():
			idle++
		}
	}
	var rest []Job
	for _, j := range in.Jobs {
		switch {
		case took[j.ID]:
			out = append(out, Outcome{j.ID, Done, ReasonStarted})
		case !j.QueuedAt.IsZero() && in.Now.Sub(j.QueuedAt) > JobQueueLimit:
			out = append(out, Outcome{j.ID, GiveUp, ReasonExpired})
		default:
			rest = append(rest, j)
		}
	}
	last := in.Check >= MaxChecks
	avail := idle + max(in.Spare, 0)
	if avail >= len(rest) && !last {
		for i, j := range rest {
			out = append(out, Outcome{j.ID, CheckLater, mayTake(i, idle)})
		}
		return out
	}
	asked := true
	for _, j := range rest {
		if in.Status[j.ID] == StatusUnasked {
			asked = false
		}
	}
	if !asked {
		for _, j := range rest {
			out = append(out, Outcome{j.ID, Ask, ReasonNeedStatus})
		}
		return out
	}
	queued := 0
	for _, j := range rest {
		if in.Status[j.ID] == StatusQueued {
			queued++
		}
	}
	relaunch := max(queued-avail, 0)
	// From the end of the list: the jobs at positions ≥ idle are not counted as served by
	// the launch's live hosts, and there are always at least relaunch queued ones there.
	again := map[int64]bool{}
	for i := len(rest) - 1; i >= idle && len(again) < relaunch; i-- {
		if in.Status[rest[i].ID] == StatusQueued {
			again[rest[i].ID] = true
		}
	}
	waiting := 0 // queued jobs left to the launch's hosts, its own first
	for _, j := range rest {
		var o Outcome
		switch in.Status[j.ID] {
		case StatusInProgress:
			o = Outcome{j.ID, Done, ReasonElsewhere}
		case StatusCompleted:
			o = Outcome{j.ID, Done, ReasonCompleted}
		case StatusNotFound:
			o = Outcome{j.ID, Done, ReasonNotFound}
		case StatusPending:
			o = wait(j.ID, last, ReasonNotYet)
		case StatusQueued:
			switch {
			case !again[j.ID]:
				o = wait(j.ID, last, mayTake(waiting, idle))
				waiting++
			case j.Relaunches >= MaxRelaunches:
				o = Outcome{j.ID, GiveUp, ReasonRelaunchedUp}
			default:
				o = Outcome{j.ID, LaunchAgain, ReasonNoRunner}
			}
		default: // no answer: waiting is bounded by the job's age, not by the checks
			o = Outcome{j.ID, CheckLater, ReasonNoAnswer}
		}
		out = append(out, o)
	}
	return out
}

// SpareUsed is how many of in.Spare the outcomes count on: the jobs left waiting for a
// runner beyond the launch's own idle hosts. The caller takes them off the spare hosts the
// next launch of the same scope may count on, so two launches of one batch do not both
// count on one host.
func SpareUsed(outs []Outcome) int {
	n := 0
	for _, o := range outs {
		if o.Action == CheckLater && o.Reason == ReasonSpare {
			n++
		}
	}
	return n
}

// mayTake is the reason the i-th job waiting for a runner waits: the launch's idle hosts
// cover the first ones, spare hosts the others.
func mayTake(i, idle int) string {
	if i < idle {
		return ReasonMayTake
	}
	return ReasonSpare
}

func wait(id int64, last bool, reason string) Outcome {
	if last {
		return Outcome{id, GiveUp, ReasonExhausted}
	}
	return Outcome{id, CheckLater, reason}
}
