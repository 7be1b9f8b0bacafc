package sandbox

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
)

func TestSoakSizeScalesOutagesToTheSpread(t *testing.T) {
	for _, tt := range []struct {
		spread, outage, timeout time.Duration
	}{
		{time.Minute, 20 * time.Second, 70*time.Second + soakDrain}, // make test's: outages end 10 s after the last arrival
		{10 * time.Minute, 200 * time.Second, 700*time.Second + soakDrain},
		{30 * time.Minute, soakOutage, 35*time.Minute + soakDrain}, // the 10-minute outages
	} {
		o := SoakSize(40, tt.spread, 1)
		if o.Outage != tt.outage || o.Timeout != tt.timeout {
			t.Errorf("spread %s: outage %s timeout %s, want %s and %s", tt.spread, o.Outage, o.Timeout, tt.outage, tt.timeout)
		}
		if o.Interrupts < 1 || o.BootDeaths < 1 || o.BootFailures <= 0 || o.ExtraPollers < 1 {
			t.Errorf("spread %s: a fault is off: %+v", tt.spread, o)
		}
	}
	o := SoakSize(300, 10*time.Minute, 1)
	o.SetOutage(soakOutage) // ghr local soak -outage 10m
	if want := 35*time.Minute + soakDrain; o.Timeout != want {
		t.Errorf("-outage 10m: timeout %s, want %s", o.Timeout, want)
	}
}

func TestSoakReportNamesEveryBrokenInvariant(t *testing.T) {
	r := &SoakReport{Report: &Report{Jobs: 2}, Faults: map[string]int{"github_jit_5xx": 3}, Recoveries: map[string]int{"deferred: capacity": 2},
		Outages:    []SoakOutage{{What: "ec2:DescribeInstances 503", StartS: 10, Seconds: 20}},
		Violations: []string{"1 jobs did not end successfully: [7]", "2 messages reached the dead-letter queue q-dlq"}}
	md := r.Markdown()
	for _, want := range []string{"FAIL: 1 jobs did not end successfully", "dead-letter queue q-dlq", "| github_jit_5xx | 3 |", "| deferred: capacity | 2 |", "outage of ec2:DescribeInstances 503: 20 s from 10 s"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if r.OK() {
		t.Error("a report with violations is OK")
	}
}

func TestSoakTrailKeepsTheLastLinesOfEachUnfinishedJob(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "sandbox.log"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	line := func(sec int, job int64, msg string) string {
		b, _ := json.Marshal(map[string]any{"time": start.Add(time.Duration(sec) * time.Second).Format(time.RFC3339Nano), "level": "INFO", "msg": msg, "job_id": job, "reason": "capacity"})
		return string(b) + "\n"
	}
	fmt.Fprint(f, line(0, 7, "before the mark"))
	mark, _ := f.Seek(0, io.SeekCurrent)
	for i := range trailLines + 2 {
		fmt.Fprint(f, line(i, 7, fmt.Sprintf("deferred %d", i)), line(i, 8, "another job"), "not json \"job_id\":7\n")
	}
	sim, err := ghsim.New(ghsim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := &Sandbox{logFile: f, Sim: &ghsim.Server{Sim: sim}}
	got := s.unfinished([]int64{7}, mark, start)
	if len(got) != 1 {
		t.Fatalf("got %d explanations, want 1: %v", len(got), got)
	}
	for _, want := range []string{"job 7 ", fmt.Sprintf("%d log lines", trailLines+2), `+9.0s INFO "deferred 9" reason=capacity`, `"deferred 2"`} {
		if !strings.Contains(got[0], want) {
			t.Errorf("explanation lacks %q:\n%s", want, got[0])
		}
	}
	for _, unwanted := range []string{"before the mark", "another job", `"deferred 1"`} {
		if strings.Contains(got[0], unwanted) {
			t.Errorf("explanation has %q:\n%s", unwanted, got[0])
		}
	}
}
