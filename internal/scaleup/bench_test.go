package scaleup_test

import (
	"context"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/queue"
)

// Benchmark shape, from the issue: one warm process handles consecutive batches of queued
// ephemeral jobs for one owner; every remote call (GitHub, EC2, SSM) takes remoteLatency.
const (
	remoteLatency     = 20 * time.Millisecond
	benchBatches      = 10
	benchJobsPerBatch = 10
)

// BenchmarkScaleUpWarmBatches reports GitHub and AWS calls per launched runner and the wall
// time of one batch. Each iteration is a fresh process (empty caches, no token yet) handling
// benchBatches batches, so the one installation-token mint is spread over 100 runners, as
// in a warm Lambda container.
func BenchmarkScaleUpWarmBatches(b *testing.B) {
	var elapsed time.Duration
	var githubCalls, awsCalls, runners, batches int
	nextJob := int64(30_000_000_000) // GitHub-sized job ids
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, remoteLatency, config.CheckQueuedAuto)
		b.StartTimer()
		for range benchBatches {
			jobs := make([]queue.Job, 0, benchJobsPerBatch)
			for range benchJobsPerBatch {
				jobs = append(jobs, job(nextJob, "linux", "octo"))
				nextJob++
			}
			ev := sqsEvent(b, jobs...)
			start := time.Now()
			resp, err := w.h.Handle(context.Background(), ev)
			elapsed += time.Since(start)
			batches++
			if err != nil || len(resp.BatchItemFailures) != 0 {
				b.Fatalf("batch: %v, %d retried", err, len(resp.BatchItemFailures))
			}
		}
		b.StopTimer()
		runners += len(w.live())
		githubCalls += w.app.Stats().Total()
		awsCalls += w.ec2.TotalCalls() + w.ssm.totalCalls()
		b.StartTimer()
	}
	if runners != batches*benchJobsPerBatch {
		b.Fatalf("%d runners for %d jobs", runners, batches*benchJobsPerBatch)
	}
	b.ReportMetric(float64(githubCalls)/float64(runners), "github_calls/runner")
	b.ReportMetric(float64(awsCalls)/float64(runners), "aws_calls/runner")
	b.ReportMetric(elapsed.Seconds()*1000/float64(batches), "ms/batch")
}
