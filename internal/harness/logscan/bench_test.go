package logscan

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkScan scans clean JSON log lines for a run's usual secrets: the soak feeds every
// line of every function through this, so its throughput bounds the check's cost.
func BenchmarkScan(b *testing.B) {
	var text strings.Builder
	for i := range 1000 {
		text.WriteString(jsonLog("webhook", "delivery_id", fmt.Sprintf("d-%d", i), "job_id", i, "runner", "ghr-i-0123456789abcdef0",
			"runner_config", "linux", "decision", "accepted", "owner", "octo") + "\n")
	}
	s := New(secrets(b), DefaultPatterns)
	b.SetBytes(int64(text.Len()))
	for b.Loop() {
		if f, _ := s.Scan(strings.NewReader(text.String())); len(f) != 0 {
			b.Fatalf("clean lines flagged: %v", f[0])
		}
	}
}
