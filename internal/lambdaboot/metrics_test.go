package lambdaboot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/ghr-dev/ghr/internal/metrics"
)

// Every invocation's metrics are written when it returns, also when it fails.
func TestHandleFlushesEachInvocation(t *testing.T) {
	var emf bytes.Buffer
	b := &Boot{Log: slog.New(slog.DiscardHandler), Metrics: metrics.New(&emf, "ghr", "test")}
	h := Handle(b, func(_ context.Context, n int) (int, error) {
		b.Metrics.Add(metrics.JobsReceived, n, "linux")
		if n > 1 {
			return 0, errors.New("boom")
		}
		return n, nil
	})
	s := Scheduled(b, func(context.Context) (int, error) {
		b.Metrics.Add(metrics.Redeliveries, 1)
		return 0, nil
	})
	for _, n := range []int{1, 2} {
		emf.Reset()
		h(context.Background(), n)
		pts, _ := metrics.Read(&emf)
		if got := metrics.Sum(pts, "JobsReceived", nil); got != float64(n) {
			t.Errorf("invocation %d wrote JobsReceived %v", n, got)
		}
	}
	emf.Reset()
	s(context.Background())
	if pts, _ := metrics.Read(&emf); metrics.Sum(pts, "Redeliveries", nil) != 1 {
		t.Errorf("scheduled invocation wrote %s", emf.String())
	}
}
