package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// JobPath is one job's way from GitHub's webhook to its runner online, as the system's own
// records tell it: the functions' log lines (webhook, scale-up, ec2fleet; keys in
// internal/logging), paired by job id and then by the instance scale-up launched for the job,
// and the hosts' records (token read, runner online). A zero time is a milestone not seen.
type JobPath struct {
	JobID          int64
	InstanceID     string    // the host scale-up launched for this job
	Received       time.Time // webhook delivery reached API Gateway
	Enqueued       time.Time // SQS accepted the build-queue message
	BatchReceived  time.Time // scale-up's handler got the batch that launched the job's host
	FleetRequested time.Time // the CreateFleet request that started the host was sent
	FleetReturned  time.Time // … and answered
	TokenStored    time.Time // the host's JIT config was in SSM
	TokenRead      time.Time // the host read (and deleted) it
	Online         time.Time // its runner opened a session with GitHub
}

// hop is one leg of the path: from one milestone to the next.
type hop struct {
	name, slug string // slug names the hop's benchmark figures
	from, to   func(JobPath) time.Time
}

var (
	atReceived       = func(p JobPath) time.Time { return p.Received }
	atEnqueued       = func(p JobPath) time.Time { return p.Enqueued }
	atBatchReceived  = func(p JobPath) time.Time { return p.BatchReceived }
	atFleetRequested = func(p JobPath) time.Time { return p.FleetRequested }
	atFleetReturned  = func(p JobPath) time.Time { return p.FleetReturned }
	atTokenStored    = func(p JobPath) time.Time { return p.TokenStored }
	atTokenRead      = func(p JobPath) time.Time { return p.TokenRead }
	atOnline         = func(p JobPath) time.Time { return p.Online }
)

// Hop names; HopToFleet is the one with a bench target (cmd/benchreport).
const (
	HopToFleet  = "webhook received → CreateFleet requested"
	SlugToFleet = "webhook-to-fleet"
	HopTotal    = "webhook received → runner online"
)

// hops are the legs in path order, then the two spans reported whole.
var hops = []hop{
	{"webhook received → enqueued", "intake", atReceived, atEnqueued},
	{"enqueued → batch received by scale-up", "queue", atEnqueued, atBatchReceived},
	{"batch received → CreateFleet requested", "pre-launch", atBatchReceived, atFleetRequested},
	{"CreateFleet requested → returned", "createfleet", atFleetRequested, atFleetReturned},
	{"CreateFleet returned → JIT config stored", "jit-stored", atFleetReturned, atTokenStored},
	{"JIT config stored → host read its token", "token-read", atTokenStored, atTokenRead},
	{"host read its token → runner online", "runner-online", atTokenRead, atOnline},
	{HopToFleet, SlugToFleet, atReceived, atFleetRequested},
	{HopTotal, "webhook-to-online", atReceived, atOnline},
}

// HopStat is one hop's percentiles over the jobs whose path has both its ends.
type HopStat struct {
	Name string      `json:"name"`
	Slug string      `json:"slug"`
	Jobs int         `json:"jobs"`
	P    Percentiles `json:"latency"`
}

// HopStats summarises each hop over paths. A hop whose later milestone comes first (clocks
// of different processes on one machine agree; a negative span would be a pairing error) is
// counted as 0 rather than hidden.
func HopStats(paths []JobPath) []HopStat {
	out := make([]HopStat, 0, len(hops))
	for _, h := range hops {
		var ds []time.Duration
		for _, p := range paths {
			from, to := h.from(p), h.to(p)
			if from.IsZero() || to.IsZero() {
				continue
			}
			ds = append(ds, max(to.Sub(from), 0))
		}
		out = append(out, HopStat{Name: h.name, Slug: h.slug, Jobs: len(ds), P: percentiles(ds)})
	}
	return out
}

// milestoneLine is what the path reads of a function's JSON log line; its tags are the
// stable keys of internal/logging (logging.KeyReceivedAt and the rest).
type milestoneLine struct {
	Msg            string    `json:"msg"`
	JobID          int64     `json:"job_id"`
	Decision       string    `json:"decision"`
	InstanceID     string    `json:"instance_id"`
	InstanceIDs    []string  `json:"instance_ids"`
	Received       time.Time `json:"received_at"`
	Enqueued       time.Time `json:"enqueued_at"`
	BatchReceived  time.Time `json:"batch_received_at"`
	FleetRequested time.Time `json:"fleet_requested_at"`
	FleetReturned  time.Time `json:"fleet_returned_at"`
	TokenStored    time.Time `json:"token_stored_at"`
}

// The log lines the path is made of (their msg) and scale-up's decision for a launch.
const (
	msgWebhook       = "webhook"
	msgJob           = "job"
	msgFleet         = "fleet"
	decisionAccepted = "accepted"
	decisionLaunched = "launched"
)

// HostRecords are what the sandbox's hosts recorded, by instance id.
type HostRecords struct {
	TokenRead func(instanceID string) (time.Time, bool)
	Online    func(instanceID string) (time.Time, bool)
}

// JobPaths pairs the milestones of jobs from the functions' log (JSON lines; other lines are
// skipped) and the hosts' records. For a job delivered or launched more than once, the first
// accepted delivery and the first launch count: the path the system took when the job was
// new. Jobs absent from the log have no path.
func JobPaths(log io.Reader, jobs []int64, hosts HostRecords) ([]JobPath, error) {
	want := make(map[int64]*JobPath, len(jobs))
	for _, id := range jobs {
		want[id] = &JobPath{JobID: id}
	}
	type fleet struct{ requested, returned time.Time }
	fleets := map[string]fleet{}
	r := bufio.NewReaderSize(log, 64<<10)
	for {
		b, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer (an emulator's or Terraform's dump) is no
			// function's milestone line: skip the rest of it.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = r.ReadSlice('\n')
			}
			b = nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read function logs: %w", err)
		}
		done := err != nil
		if !bytes.HasPrefix(b, []byte("{")) || !bytes.Contains(b, []byte(`_at"`)) {
			if done {
				break
			}
			continue // not a milestone line: cheaper than decoding every line of a burst
		}
		var l milestoneLine
		if json.Unmarshal(b, &l) != nil {
			continue
		}
		switch p := want[l.JobID]; {
		case l.Msg == msgFleet:
			for _, id := range l.InstanceIDs {
				fleets[id] = fleet{l.FleetRequested, l.FleetReturned}
			}
		case p == nil:
		case l.Msg == msgWebhook && l.Decision == decisionAccepted && !l.Enqueued.IsZero():
			if p.Received.IsZero() || l.Received.Before(p.Received) {
				p.Received, p.Enqueued = l.Received, l.Enqueued
			}
		case l.Msg == msgJob && l.Decision == decisionLaunched && l.InstanceID != "":
			if p.BatchReceived.IsZero() || l.BatchReceived.Before(p.BatchReceived) {
				p.BatchReceived, p.InstanceID, p.TokenStored = l.BatchReceived, l.InstanceID, l.TokenStored
			}
		}
		if done {
			break
		}
	}
	var out []JobPath
	for _, id := range jobs {
		p := want[id]
		if p.Received.IsZero() && p.InstanceID == "" {
			continue
		}
		if f, ok := fleets[p.InstanceID]; ok && p.InstanceID != "" {
			p.FleetRequested, p.FleetReturned = f.requested, f.returned
		}
		if p.InstanceID != "" && hosts.TokenRead != nil {
			p.TokenRead, _ = hosts.TokenRead(p.InstanceID)
		}
		if p.InstanceID != "" && hosts.Online != nil {
			p.Online, _ = hosts.Online(p.InstanceID)
		}
		out = append(out, *p)
	}
	return out, nil
}

// hopTable renders the hop percentiles in milliseconds.
func hopTable(stats []HopStat) string {
	var b strings.Builder
	b.WriteString("| hop | jobs | p50 | p95 | p99 | max |\n| --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range stats {
		fmt.Fprintf(&b, "| %s | %d | %.0f ms | %.0f ms | %.0f ms | %.0f ms |\n", s.Name, s.Jobs, s.P.P50*1000, s.P.P95*1000, s.P.P99*1000, s.P.Max*1000)
	}
	return b.String()
}
