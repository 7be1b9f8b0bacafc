package sandbox

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// BootPhases are a real boot's milestones, each the time since its user data started, read
// from the boot's own log: start-runner.sh's "boot phase" lines and the runner's
// "Listening for Jobs" line.
type BootPhases struct {
	Start     time.Time     // user data started (the host's clock)
	IMDS      time.Duration // instance identity and tags read
	Download  time.Duration // runner archive downloaded and unpacked
	Token     time.Duration // runner token read (and deleted)
	Connected time.Duration // runner session open, listening for jobs
}

var (
	phaseLine   = regexp.MustCompile(`boot phase (\w+) at (\d+)ms`)
	startedLine = regexp.MustCompile(`user data started at (\d+)\.(\d+)`)
	// The simulated runner stamps its lines as actions/runner does, with milliseconds.
	listeningLine = regexp.MustCompile(`(?m)^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3})Z: Listening for Jobs`)
)

// ParseBootPhases reads the phases of a boot log; ok is false unless every phase is there.
func ParseBootPhases(log string) (p BootPhases, ok bool) {
	seen := map[string]time.Duration{}
	for _, m := range phaseLine.FindAllStringSubmatch(log, -1) {
		ms, err := strconv.ParseInt(m[2], 10, 64)
		if err == nil {
			seen[m[1]] = time.Duration(ms) * time.Millisecond
		}
	}
	p.IMDS, p.Download, p.Token = seen["imds"], seen["download"], seen["token"]
	s, l := startedLine.FindStringSubmatch(log), listeningLine.FindStringSubmatch(log)
	if s == nil || l == nil || len(seen) < 3 {
		return p, false
	}
	sec, err1 := strconv.ParseInt(s[1], 10, 64)
	frac, err2 := strconv.ParseFloat("0."+s[2], 64)
	at, err3 := time.Parse("2006-01-02 15:04:05.000", l[1])
	if err1 != nil || err2 != nil || err3 != nil {
		return p, false
	}
	start := time.Unix(sec, int64(frac*1e9))
	p.Start, p.Connected = start, at.Sub(start)
	return p, p.Connected >= p.Token && !strings.Contains(log, "bootstrap failed")
}

// JobBoot is the real boot of the host that ran a job.
type JobBoot struct {
	JobID      int64      `json:"job_id"`
	InstanceID string     `json:"instance_id"`
	Phases     BootPhases `json:"phases_ms"`
	CPU        float64    `json:"cpu_s"` // the boot process tree's user+system time
}

// jobBoots pairs each job's runner with the real boot that brought it online.
func (s *Sandbox) jobBoots(ids []int64) []JobBoot {
	byRunner := map[string]BootStat{}
	for _, b := range s.Hosts.BootStats() {
		if b.Runner != "" {
			byRunner[b.Runner] = b
		}
	}
	var out []JobBoot
	for _, id := range ids {
		j := s.final(id)
		b, ok := byRunner[j.RunnerName]
		if !ok {
			continue
		}
		p, _ := ParseBootPhases(b.Log)
		out = append(out, JobBoot{JobID: j.ID, InstanceID: b.InstanceID, Phases: p, CPU: b.CPU.Seconds()})
	}
	return out
}

// bootTable summarises the real boots: each phase's percentiles and the CPU per boot (the
// per-job rows are in the JSON report).
func bootTable(boots []JobBoot) string {
	var imds, download, token, connected, cpu []time.Duration
	for _, x := range boots {
		imds, download, token = append(imds, x.Phases.IMDS), append(download, x.Phases.Download), append(token, x.Phases.Token)
		connected, cpu = append(connected, x.Phases.Connected), append(cpu, time.Duration(x.CPU*float64(time.Second)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nReal boots: %d jobs ran on hosts that booted the real user data (seconds since user data started; CPU of the whole boot):\n\n", len(boots))
	b.WriteString("| phase | p50 | p95 | max |\n| --- | ---: | ---: | ---: |\n")
	for _, row := range []struct {
		name string
		ds   []time.Duration
	}{{"IMDS read", imds}, {"archive downloaded", download}, {"token read", token}, {"runner connected", connected}, {"CPU per boot", cpu}} {
		p := percentiles(row.ds)
		fmt.Fprintf(&b, "| %s | %.2f s | %.2f s | %.2f s |\n", row.name, p.P50, p.P95, p.Max)
	}
	return b.String()
}

// MarshalJSON writes the phases in milliseconds.
func (p BootPhases) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]int64{"imds": p.IMDS.Milliseconds(), "download": p.Download.Milliseconds(),
		"token": p.Token.Milliseconds(), "connected": p.Connected.Milliseconds()})
}
