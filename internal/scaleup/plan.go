package scaleup

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/runner"
)

// Verdict is what happens to one message.
type Verdict int

// Verdicts. Every verdict but Launch is final for this invocation: the message is either
// acknowledged (deleted) or returned for retry.
const (
	Launch        Verdict = iota // a runner is to be launched for it
	Invalid                      // undecodable or unknown version: dropped, logged, counted
	UnknownConfig                // its runner config is gone: dropped
	Duplicate                    // another message in the batch carries the same job: dropped
	Served                       // a live runner was already launched for the job: dropped
	NotQueued                    // GitHub says the job no longer waits: dropped
	OverCap                      // the runner config is at its maximum: retried
	Launched                     // a runner was launched and registered: dropped
	Failed                       // the launch or registration failed for a reason waiting does not fix: retried
	Deferred                     // not served for a reason waiting fixes (Transient): retried
	Requeued                     // over cap or deferred, and sent again with a delay: dropped
	Expired                      // over cap or deferred past GitHub's queue limit: dropped
	Unauthorized                 // its installation cannot serve it (ErrUnauthorized): dropped, logged, counted
)

var verdictNames = [...]string{"launch", "invalid", "unknown_config", "duplicate", "served", "not_queued", "over_cap", "launched", "failed", "deferred", "requeued", "expired", "unauthorized"}

func (v Verdict) String() string { return verdictNames[v] }

// Retry reports whether the message goes back to the queue.
func (v Verdict) Retry() bool { return v == OverCap || v == Failed || v == Launch || v == Deferred }

// Message is one decoded build-queue message.
type Message struct {
	ID           string // SQS message id
	Job          queue.Job
	ReceiveCount int // SQS ApproximateReceiveCount
}

// Group is one launch: jobs of one runner config and owner (and label set, when runners are
// registered with the job's labels), at most maxJobsPerLaunch, ascending by job id.
type Group struct {
	Config *config.RunnerConfig
	Owner  runner.Owner
	Labels []string
	Jobs   []Message
}

// JobIDs returns the group's job ids, ascending.
func (g Group) JobIDs() []int64 {
	ids := make([]int64, len(g.Jobs))
	for i, m := range g.Jobs {
		ids[i] = m.Job.JobID
	}
	return ids
}

// Runs returns the workflow runs of the group's jobs (a re-run after a spot interruption is
// launched on on-demand: interruption.Gate).
func (g Group) Runs() []runner.Run {
	runs := make([]runner.Run, len(g.Jobs))
	for i, m := range g.Jobs {
		runs[i] = runner.Run{Repo: m.Job.Repo, ID: m.Job.RunID}
	}
	return runs
}

// Triage drops what needs no runner config state: duplicates of a job already in the batch
// and jobs whose runner config is gone. It returns the remaining messages in batch order.
func Triage(msgs []Message, configs map[string]*config.RunnerConfig, verdicts map[string]Verdict) []Message {
	seen := map[int64]bool{}
	var keep []Message
	for _, m := range msgs {
		switch {
		case configs[m.Job.RunnerConfig] == nil:
			verdicts[m.ID] = UnknownConfig
		case seen[m.Job.JobID]:
			verdicts[m.ID] = Duplicate
		default:
			seen[m.Job.JobID] = true
			keep = append(keep, m)
		}
	}
	return keep
}

// MarkServed drops jobs that already have a live runner, per the ghr:job-id invariant: when c
// live runners carry the same job list, the first c jobs of it are served. A host counts as
// a runner once its registration is stored, or while the invocation that launched it may
// still be registering it (before the launch deadline recorded on it). Any other host lost
// its launching invocation before registration: it will never take a job, so its jobs are
// not served. A runner known to have taken a job (ghr:took-job) serves exactly that job when
// it is in its list, and none of its list when it took another launch's job: that list's
// job is left without a runner, and a re-check sends it again (internal/reconcile).
func MarkServed(msgs []Message, runners map[string][]Runner, now time.Time, verdicts map[string]Verdict) []Message {
	served := map[string]map[int64]bool{}
	for key, rs := range runners {
		served[key] = servedJobs(rs, now)
	}
	var keep []Message
	for _, m := range msgs {
		if served[m.Job.RunnerConfig][m.Job.JobID] {
			verdicts[m.ID] = Served
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

func servedJobs(rs []Runner, now time.Time) map[int64]bool {
	count := map[string]int{}
	lists := map[string][]int64{}
	out := map[int64]bool{}
	for _, r := range rs {
		if len(r.JobIDs) == 0 || !r.Committed(now) {
			continue
		}
		if r.Took != 0 {
			if slices.Contains(r.JobIDs, r.Took) {
				out[r.Took] = true
			}
			continue
		}
		ids := slices.Sorted(slices.Values(r.JobIDs))
		k := jobKey(ids)
		count[k]++
		lists[k] = ids
	}
	taken := maps.Clone(out)
	for k, ids := range lists {
		ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return taken[id] })
		for _, id := range ids[:min(count[k], len(ids))] {
			out[id] = true
		}
	}
	return out
}

// Committed reports whether the host is, or may still become, a registered runner: its
// registration is stored, or its launching invocation has not yet passed its deadline. A
// host launched before launches recorded their deadline gets Lambda's longest timeout.
func (r Runner) Committed(now time.Time) bool {
	if r.Registered {
		return true
	}
	until := r.Deadline
	if until.IsZero() {
		until = r.LaunchTime.Add(maxFunctionTimeout)
	}
	return now.Before(until)
}

func jobKey(ids []int64) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString(strconv.FormatInt(id, 10))
		b.WriteByte(',')
	}
	return b.String()
}

// Allocate decides, per runner config, which remaining jobs get a runner within the config's
// maximum (oldest queued first; -1 is unlimited) and groups them into launches. live is the
// number of live runners per config. Jobs over the maximum are marked OverCap.
func Allocate(msgs []Message, configs map[string]*config.RunnerConfig, live map[string]int, verdicts map[string]Verdict) []Group {
	byConfig := map[string][]Message{}
	for _, m := range msgs {
		byConfig[m.Job.RunnerConfig] = append(byConfig[m.Job.RunnerConfig], m)
	}
	var groups []Group
	for _, key := range sortedKeys(byConfig) {
		cfg, jobs := configs[key], byConfig[key]
		slices.SortStableFunc(jobs, func(a, b Message) int {
			return cmp.Or(a.Job.QueuedAt.Compare(b.Job.QueuedAt), cmp.Compare(a.Job.JobID, b.Job.JobID))
		})
		room := len(jobs)
		if cfg.MaxRunners >= 0 {
			room = min(room, max(cfg.MaxRunners-live[key], 0))
		}
		for _, m := range jobs[room:] {
			verdicts[m.ID] = OverCap
		}
		groups = append(groups, group(cfg, jobs[:room], verdicts)...)
	}
	return groups
}

// group splits one config's launchable jobs by owner (and labels when the runner takes only
// its job's labels), ascending by job id, in launches of at most maxJobsPerLaunch.
func group(cfg *config.RunnerConfig, jobs []Message, verdicts map[string]Verdict) []Group {
	type key struct{ owner, level, labels string }
	parts := map[key][]Message{}
	var order []key
	for _, m := range jobs {
		k := key{owner: m.Job.Owner, level: m.Job.Level}
		if cfg.UseJobLabels {
			k.labels = strings.ToLower(strings.Join(normalLabels(m.Job.Labels), "\x00")) // GitHub labels ignore case
		}
		if _, ok := parts[k]; !ok {
			order = append(order, k)
		}
		parts[k] = append(parts[k], m)
		verdicts[m.ID] = Launch
	}
	slices.SortFunc(order, func(a, b key) int {
		return cmp.Or(strings.Compare(a.owner, b.owner), strings.Compare(a.level, b.level), strings.Compare(a.labels, b.labels))
	})
	var out []Group
	for _, k := range order {
		ms := parts[k]
		slices.SortFunc(ms, func(a, b Message) int { return cmp.Compare(a.Job.JobID, b.Job.JobID) })
		labels := cfg.Labels
		if cfg.UseJobLabels {
			labels = normalLabels(ms[0].Job.Labels)
		}
		owner := runner.Owner{Name: k.owner, Level: k.level}
		for _, m := range ms {
			if m.Job.InstallationID > 0 {
				owner.InstallationID = m.Job.InstallationID
				break
			}
		}
		for chunk := range slices.Chunk(ms, maxJobsPerLaunch) {
			out = append(out, Group{Config: cfg, Owner: owner, Labels: labels, Jobs: chunk})
		}
	}
	return out
}

// normalLabels sorts and de-duplicates labels case-insensitively, keeping the first spelling.
func normalLabels(ls []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range ls {
		k := strings.ToLower(strings.TrimSpace(l))
		if k == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, strings.TrimSpace(l))
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
