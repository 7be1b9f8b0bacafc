package sandbox

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/metrics"
)

// emfMark is a position in the sandbox log, where the functions write their EMF lines as
// Lambda writes them to CloudWatch Logs.
type emfMark struct {
	t    *testing.T
	path string
	at   int64
}

func markEMF(t *testing.T, sb *Sandbox) emfMark {
	t.Helper()
	p := filepath.Join(sb.Opts.WorkDir, "sandbox.log")
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return emfMark{t: t, path: p, at: fi.Size()}
}

// since returns the metrics the functions published after the mark, for this deployment.
func (m emfMark) since() []metrics.Point {
	m.t.Helper()
	data, err := os.ReadFile(m.path)
	if err != nil {
		m.t.Fatal(err)
	}
	pts, err := metrics.Read(bytes.NewReader(data[min(m.at, int64(len(data))):]))
	if err != nil {
		m.t.Fatal(err)
	}
	return pts
}

// logLines returns the JSON log lines written after the mark whose msg is msg.
func (m emfMark) logLines(msg string) []map[string]any {
	m.t.Helper()
	data, err := os.ReadFile(m.path)
	if err != nil {
		m.t.Fatal(err)
	}
	var out []map[string]any
	for _, line := range bytes.Split(data[min(m.at, int64(len(data))):], []byte("\n")) {
		if !bytes.Contains(line, []byte(`"msg":"`+msg+`"`)) {
			continue
		}
		var v map[string]any
		if json.Unmarshal(line, &v) == nil && v["msg"] == msg {
			out = append(out, v)
		}
	}
	return out
}

// slowEnqueues counts the webhook's "enqueue failed" lines after mark caused by SQS not
// answering within the webhook's enqueue timeout: on a 2-core machine running three
// sandboxes and real boots at once, moto_server can take over 5 s for a SendMessage, which
// SQS on AWS does not (docs/relaxations.md). The webhook answers 503 and GitHub redelivers.
func slowEnqueues(mark emfMark) (slow int, other []string) {
	for _, l := range mark.logLines("enqueue failed") {
		msg, _ := l["error"].(string)
		if strings.Contains(msg, "deadline exceeded") || strings.Contains(msg, "context canceled") {
			slow++
		} else {
			other = append(other, msg)
		}
	}
	return slow, other
}

// demoMetrics: every job launched once and started once, nothing failed; a delivery the
// webhook refused only because the loaded emulator's SQS was slow is tolerated (slowEnqueues).
func demoMetrics(t *testing.T, mark emfMark, jobs int) {
	t.Helper()
	pts := mark.since()
	if got := metrics.Sum(pts, "JobsLaunched", nil); got != float64(jobs) {
		t.Errorf("JobsLaunched = %v, want %d", got, jobs)
	}
	if got := metrics.Samples(pts, "QueueWait", nil); got != jobs {
		t.Errorf("QueueWait samples = %d, want %d", got, jobs)
	}
	if got := metrics.Sum(pts, "JobsReceived", nil); got != float64(jobs) {
		t.Errorf("JobsReceived = %v, want %d", got, jobs)
	}
	slow, other := slowEnqueues(mark)
	if got := metrics.Sum(pts, "WebhookRejected", nil); got != float64(slow) || len(other) > 0 {
		t.Errorf("WebhookRejected = %v in a fault-free demo, want 0 (or only the %d enqueues the loaded emulator's SQS timed out; other enqueue errors: %q)", got, slow, other)
	} else if slow > 0 {
		t.Logf("%d deliveries answered 503 because the emulator's SQS outlasted the enqueue timeout; GitHub redelivered them", slow)
	}
	for _, name := range []string{"JobsFailed", "EC2Errors", "GitHubRateLimited"} {
		if got := metrics.Sum(pts, name, nil); got != 0 {
			t.Errorf("%s = %v in a fault-free demo, want 0", name, got)
		}
	}
}

// soakMetrics: each fault the soak injected shows up in the metric an operator would watch
// for it. A crash can take an invocation's metrics with it, so a count is checked to be
// there, not to be exact.
func soakMetrics(t *testing.T, sb *Sandbox, pts []metrics.Point, rep *SoakReport) {
	t.Helper()
	spot := 0 // interruptions are the spot-interruption function's to count, when deployed
	for name := range sb.Deployment.Functions {
		if strings.Contains(name, "spot") {
			spot = rep.Faults["spot_interruption"]
		}
	}
	checks := []struct {
		fault  int
		metric string
		match  map[string]string
	}{
		{rep.Faults["github_secondary_limit"], "GitHubRateLimited", nil},
		{rep.Faults["aws ec2:CreateFleet"], "EC2Errors", nil},
		{rep.Recoveries["webhooks_redelivered"], "Redeliveries", nil},
		{spot, "SpotInterruptions", nil},
	}
	for _, c := range checks {
		if c.fault > 0 && metrics.Sum(pts, c.metric, c.match) == 0 {
			t.Errorf("%d faults/recoveries behind %s, but the metric stayed at 0", c.fault, c.metric)
		}
	}
	if rep.Completed > 0 && metrics.Sum(pts, "JobsLaunched", nil) == 0 {
		t.Errorf("%d jobs completed, JobsLaunched stayed at 0", rep.Completed)
	}
}
