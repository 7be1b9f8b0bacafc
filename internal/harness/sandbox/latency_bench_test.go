package sandbox

import (
	"context"
	"testing"
)

// demoBenchJobs is `make demo`'s default scenario size.
const demoBenchJobs = 20

// BenchmarkSandboxDemo runs `make demo`'s scenario (DemoScenario(20) on examples/local, Go
// hosts with the default simulated boot) on a deployment of its own and reports each hop of
// a job's path (JobPaths: the functions' own log lines and the hosts' records) as
// <slug>-p50-ms, -p95-ms and -p99-ms, the worst of each over iterations. cmd/benchreport
// holds "webhook-to-fleet-p99-ms" (webhook received → CreateFleet requested) to its target.
// "unmeasured-jobs" are jobs whose path to CreateFleet could not be read: their figures would
// be missing from the percentiles, so they must be none.
func BenchmarkSandboxDemo(b *testing.B) {
	ctx := context.Background()
	worst := map[string]HopStat{}
	var order []string
	unmeasured := 0
	sb := deploy(b, DefaultBootDelay, 0, nil, func() bool { return b.Failed() || unmeasured > 0 }, "demo-bench")
	for b.Loop() {
		rep, err := sb.Run(ctx, DemoScenario(demoBenchJobs), nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("\n%s", rep.Markdown())
		if !rep.OK() {
			b.Fatalf("the demo failed: %d of %d jobs ran, leftovers %+v", rep.Completed, rep.Jobs, rep.Leftovers)
		}
		if rep.HopsError != "" {
			b.Fatalf("hops not measured: %s", rep.HopsError)
		}
		for _, h := range rep.Hops {
			w, seen := worst[h.Slug]
			if !seen {
				order = append(order, h.Slug)
			}
			w.Slug, w.P = h.Slug, Percentiles{P50: max(w.P.P50, h.P.P50), P95: max(w.P.P95, h.P.P95), P99: max(w.P.P99, h.P.P99), Max: max(w.P.Max, h.P.Max)}
			worst[h.Slug] = w
			if h.Slug == SlugToFleet {
				unmeasured = max(unmeasured, rep.Jobs-h.Jobs)
			}
		}
	}
	b.ReportMetric(float64(unmeasured), "unmeasured-jobs")
	for _, slug := range order {
		p := worst[slug].P
		b.ReportMetric(p.P50*1000, slug+"-p50-ms")
		b.ReportMetric(p.P95*1000, slug+"-p95-ms")
		b.ReportMetric(p.P99*1000, slug+"-p99-ms")
	}
}
