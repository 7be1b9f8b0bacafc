package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseAndCheck(t *testing.T) {
	in := `goos: linux
pkg: github.com/ghr-dev/ghr/internal/webhook
BenchmarkIntake/floor-2    	   24531	     47113 ns/op	 167.39 MB/s	    1272 B/op	      28 allocs/op
BenchmarkIntakeVsFloor-2   	   11533	    104492 ns/op	     49538 floor-ns/op	        36.00 intake-allocs/op	     54436 intake-ns/op	         1.099 x-floor	   11406 B/op	      63 allocs/op
pkg: github.com/ghr-dev/ghr/internal/scaleup
BenchmarkScaleUpBatches-2   10   1500 ns/op   1.0 github_calls/runner   1.4 aws_calls/runner   120 ms/batch
PASS
`
	results, err := parse(strings.NewReader(in), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || results[1].Name != "BenchmarkIntakeVsFloor" || results[1].Metrics["x-floor"] != 1.099 || results[2].Package != "github.com/ghr-dev/ghr/internal/scaleup" {
		t.Fatalf("results = %+v", results)
	}
	byName := map[string]Check{}
	for _, c := range check(results) {
		byName[c.Name] = c
	}
	if c := byName["webhook intake vs floor"]; !c.Found || !c.Met {
		t.Errorf("intake: %+v", c)
	}
	if c := byName["scale-up AWS calls per runner"]; !c.Found || c.Met {
		t.Errorf("1.4 AWS calls per runner must miss the 1.3 target: %+v", c)
	}
	if c := byName["scale-down GitHub calls per removal"]; c.Found || c.Met {
		t.Errorf("an absent figure can never be met: %+v", c)
	}
	md := markdown(check(results), results, testTime)
	if !strings.Contains(md, "| scale-up AWS calls per runner | 1.4 aws_calls/runner | ≤ 1.3 | NO |") || !strings.Contains(md, "targets met") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestSandboxBurstTargets(t *testing.T) {
	in := `pkg: github.com/ghr-dev/ghr/internal/harness/sandbox
BenchmarkSandboxBurst-2   	       1	264757205657 ns/op	       193.8 all-online-s	         5.218 aws_calls/job	         1.936 github_calls/job	       1.034 launch-github_calls/job	       503.0 instances	        35.20 overhead-p50-s	       183.1 overhead-p95-s	       192.7 overhead-p99-s	       188.2 requested-s	         8.000 secondary-limited	         0 unserved-jobs
`
	results, err := parse(strings.NewReader(in), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Check{}
	for _, c := range check(results) {
		byName[c.Name] = c
	}
	for name, met := range map[string]bool{
		"sandbox burst: every instance requested":     true,
		"sandbox burst: launch GitHub calls per job":  true,
		"sandbox burst: autoscaler overhead p99":      true,
		"sandbox burst: jobs that never ran":          true,
		"sandbox burst: secondary-rate-limit answers": false, // 8 > 0: pacing failed
	} {
		if c := byName[name]; !c.Found || c.Met != met {
			t.Errorf("%s: found %v, met %v, want met %v (value %g)", name, c.Found, c.Met, met, c.Value)
		}
	}
	if c := byName["webhook cold start"]; c.Found || c.Met {
		t.Errorf("a burst line must not satisfy other targets: %+v", c)
	}
}

var testTime = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func TestSandboxDemoTargets(t *testing.T) {
	for _, tc := range []struct {
		line    string
		met     bool
		absents bool
	}{
		{"BenchmarkSandboxDemo-2  1  90000000000 ns/op  0 unmeasured-jobs  112.5 webhook-to-fleet-p99-ms  40.1 webhook-to-fleet-p50-ms", true, false},
		{"BenchmarkSandboxDemo-2  1  90000000000 ns/op  0 unmeasured-jobs  312.0 webhook-to-fleet-p99-ms", false, false},
		{"BenchmarkSandboxDemo-2  1  90000000000 ns/op  2 unmeasured-jobs  100 webhook-to-fleet-p99-ms", false, false},
		{"BenchmarkSandboxDemo-2  1  90000000000 ns/op  0 unmeasured-jobs", false, true}, // a figure absent is a target missed
	} {
		results, err := parse(strings.NewReader("pkg: github.com/ghr-dev/ghr/internal/harness/sandbox\n"+tc.line+"\n"), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		met := true
		for _, c := range check(results) {
			if strings.HasPrefix(c.Name, "demo: ") {
				met = met && c.Met
				if c.Name == "demo: webhook received → CreateFleet requested p99" && c.Found == tc.absents {
					t.Errorf("%s: found %v", tc.line, c.Found)
				}
			}
		}
		if met != tc.met {
			t.Errorf("%s: met %v, want %v", tc.line, met, tc.met)
		}
	}
}
