package bootstrap_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"
	"time"

	bt "github.com/ghr-dev/ghr/internal/harness/bootstrap/bootstraptest"
	"github.com/ghr-dev/ghr/internal/syncer"
)

var downloadMs = regexp.MustCompile(`runner downloaded and unpacked in (\d+)ms`)

// BenchmarkBootstrap measures the bootstrap's own overhead: from the start of user data to the
// exec of run.sh, less the download and unpacking (which the stub makes near-instant anyway),
// with the token already in SSM as scale-up leaves it. Reported as ms-to-run.sh.
func BenchmarkBootstrap(b *testing.B) {
	for _, prebuilt := range []bool{false, true} {
		name := "download"
		if prebuilt {
			name = "prebuilt"
		}
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				b.StopTimer()
				h := bt.New(b, false)
				if prebuilt {
					h.Prebuild(b)
					h.AddUser(b, bt.RunnerUser, "/home/"+bt.RunnerUser)
				} else {
					h.PutObject(b, bt.Bucket, syncer.Key("linux-"+bt.DistArch()), h.RunnerTarball(b))
				}
				h.PutParameter(b, tokenPath, jitConfig)
				ud := h.UserData(b)
				b.StartTimer()
				ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
				r := h.Run(ctx, b, ud)
				cancel()
				runs := h.CallsTo(b, "run.sh")
				if r.ExitCode != 0 || len(runs) != 1 {
					b.Fatalf("exit %d, run.sh calls %d:\n%s", r.ExitCode, len(runs), r.Output)
				}
				d := runs[0].Called.Sub(r.Started)
				if m := downloadMs.FindStringSubmatch(r.Log); m != nil {
					ms, _ := strconv.Atoi(m[1])
					d -= time.Duration(ms) * time.Millisecond
				}
				total += d
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-run.sh")
		})
	}
}
