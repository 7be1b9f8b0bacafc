package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Intake targets from the foundation issue: verify + parse + match + build message within
// 1.5x of the floor (HMAC-SHA256 over the body plus decoding the needed fields), and at most
// 60 allocations per request.
const (
	maxFloorRatio   = 1.5
	maxIntakeAllocs = 60
)

// floorEvent is the floor's decode target: only the fields intake needs.
type floorEvent = workflowJobEvent

func benchInput(b *testing.B) (*Intake, Request, []byte) {
	body := readPayload(b, "workflow_job_queued.json")
	// Labels that match the "linux" config so the full accept path (message built) is measured.
	body = bytes.Replace(body, []byte(`"ubuntu-latest"`), []byte(`"self-hosted", "linux"`), 1)
	in := newIntake(b, &recordingSender{})
	return in, request("workflow_job", body), body
}

func floor(secret, body []byte) {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	_ = m.Sum(nil)
	var ev floorEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		panic(err)
	}
}

func decide(b *testing.B, in *Intake, req Request) {
	if d := in.Decide(req); d.Status != http.StatusAccepted || d.QueueURL == "" {
		b.Fatalf("decision %+v", d)
	}
}

// BenchmarkIntake measures the floor and intake separately (for benchstat).
func BenchmarkIntake(b *testing.B) {
	in, req, body := benchInput(b)
	b.Logf("payload %d bytes", len(body))
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for range b.N {
			floor([]byte(testSecret), body)
		}
	})
	b.Run("intake", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for range b.N {
			decide(b, in, req)
		}
	})
}

// BenchmarkIntakeVsFloor interleaves floor and intake so machine noise hits both alike, and
// fails when the targets are missed.
func BenchmarkIntakeVsFloor(b *testing.B) {
	in, req, body := benchInput(b)
	secret := []byte(testSecret)
	var floorDur, intakeDur time.Duration
	for range b.N {
		t0 := time.Now()
		floor(secret, body)
		t1 := time.Now()
		decide(b, in, req)
		intakeDur += time.Since(t1)
		floorDur += t1.Sub(t0)
	}
	allocs := testing.AllocsPerRun(100, func() { decide(b, in, req) })
	ratio := float64(intakeDur) / float64(floorDur)
	b.ReportMetric(float64(floorDur.Nanoseconds())/float64(b.N), "floor-ns/op")
	b.ReportMetric(float64(intakeDur.Nanoseconds())/float64(b.N), "intake-ns/op")
	b.ReportMetric(ratio, "x-floor")
	b.ReportMetric(allocs, "intake-allocs/op")
	if b.N >= 100 && ratio > maxFloorRatio {
		b.Errorf("intake is %.2fx the floor, target %.1fx", ratio, maxFloorRatio)
	}
	if allocs > maxIntakeAllocs {
		b.Errorf("intake makes %.0f allocs/op, target %d", allocs, maxIntakeAllocs)
	}
}
