package metrics

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

var epoch = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func newTest() (*Recorder, *bytes.Buffer) {
	var buf bytes.Buffer
	return New(&buf, "prod", "scale-up").WithClock(func() time.Time { return epoch }), &buf
}

// Every record must be one CloudWatch accepts: each dimension and metric it names is a
// top-level member, dimension values are non-empty strings, limits hold.
func checkEMF(t *testing.T, line []byte) map[string]any {
	t.Helper()
	var rec map[string]any
	if err := json.Unmarshal(line, &rec); err != nil {
		t.Fatalf("not JSON: %s", line)
	}
	aws, _ := rec["_aws"].(map[string]any)
	if ts, _ := aws["Timestamp"].(float64); int64(ts) != epoch.UnixMilli() {
		t.Errorf("Timestamp = %v", aws["Timestamp"])
	}
	dirs, _ := aws["CloudWatchMetrics"].([]any)
	if len(dirs) != 1 {
		t.Fatalf("directives: %v", aws)
	}
	d := dirs[0].(map[string]any)
	if d["Namespace"] != Namespace {
		t.Errorf("Namespace = %v", d["Namespace"])
	}
	for _, set := range d["Dimensions"].([]any) {
		if len(set.([]any)) > 30 {
			t.Errorf("dimension set too large: %v", set)
		}
		for _, name := range set.([]any) {
			if v, _ := rec[name.(string)].(string); v == "" {
				t.Errorf("dimension %v has no string value in %s", name, line)
			}
		}
	}
	ms := d["Metrics"].([]any)
	if len(ms) > maxMetricsPerRecord {
		t.Errorf("%d metrics in one directive", len(ms))
	}
	for _, m := range ms {
		name := m.(map[string]any)["Name"].(string)
		switch v := rec[name].(type) {
		case float64:
		case []any:
			if len(v) > maxValuesPerMetric {
				t.Errorf("%s has %d values", name, len(v))
			}
		default:
			t.Errorf("metric %s has no value in %s", name, line)
		}
	}
	return rec
}

func lines(b *bytes.Buffer) [][]byte {
	return bytes.Split(bytes.TrimSpace(b.Bytes()), []byte("\n"))
}

func TestCountsSumPerDimensionSet(t *testing.T) {
	r, buf := newTest()
	r.Add(JobsLaunched, 2, "linux")
	r.Add(JobsLaunched, 3, "linux")
	r.Add(JobsLaunched, 1, "arm")
	r.Add(JobsDeferred, 4, "linux", "over_cap")
	r.Add(JobsLaunched, 0, "gpu") // nothing happened: no series
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	ls := lines(buf)
	if len(ls) != 3 {
		t.Fatalf("got %d lines, want 3:\n%s", len(ls), buf)
	}
	for _, l := range ls {
		rec := checkEMF(t, l)
		if rec["deployment"] != "prod" || rec["function"] != "scale-up" {
			t.Errorf("record lacks deployment/function: %s", l)
		}
	}
	pts, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"JobsLaunched", map[string]string{"config": "linux"}, 5},
		{"JobsLaunched", map[string]string{"deployment": "prod"}, 6},
		{"JobsLaunched", map[string]string{"config": "gpu"}, 0},
		{"JobsDeferred", map[string]string{"reason": "over_cap", "config": "linux"}, 4},
	} {
		if got := Sum(pts, tc.name, tc.match); got != tc.want {
			t.Errorf("Sum(%s, %v) = %v, want %v", tc.name, tc.match, got, tc.want)
		}
	}
	buf.Reset()
	if err := r.Flush(); err != nil || buf.Len() != 0 {
		t.Errorf("second flush wrote %q (err %v), want nothing", buf, err)
	}
}

func TestRollupDimensionSet(t *testing.T) {
	r, buf := newTest()
	r.Add(JobsFailed, 1, "linux", "capacity")
	r.Add(Redeliveries, 1)
	r.Flush()
	ls := lines(buf)
	want := map[string]string{
		"JobsFailed":   `[["deployment","config","class"],["deployment"]]`,
		"Redeliveries": `[["deployment"]]`,
	}
	for _, l := range ls {
		rec := checkEMF(t, l)
		d := rec["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
		name := d["Metrics"].([]any)[0].(map[string]any)["Name"].(string)
		got, _ := json.Marshal(d["Dimensions"])
		if string(got) != want[name] {
			t.Errorf("%s dimensions = %s, want %s", name, got, want[name])
		}
	}
}

func TestSamplesSplitAtTheValueLimit(t *testing.T) {
	r, buf := newTest()
	for i := range 250 {
		r.Duration(QueueWait, time.Duration(i)*time.Millisecond, "linux")
	}
	r.Observe(GitHubRateLimitRemaining, 4999)
	r.Flush()
	ls := lines(buf)
	if len(ls) != 4 { // 100 + 100 + 50 samples, and the remaining gauge
		t.Fatalf("got %d lines, want 4:\n%s", len(ls), buf)
	}
	for _, l := range ls {
		checkEMF(t, l)
	}
	pts, _ := Read(bytes.NewReader(buf.Bytes()))
	if n := Samples(pts, "QueueWait", map[string]string{"config": "linux"}); n != 250 {
		t.Errorf("QueueWait samples = %d, want 250", n)
	}
	if s := Sum(pts, "QueueWait", nil); s != 249*250/2 {
		t.Errorf("QueueWait sum = %v", s)
	}
	if s := Sum(pts, "GitHubRateLimitRemaining", nil); s != 4999 {
		t.Errorf("remaining = %v", s)
	}
}

// A dimension value left out or empty becomes "none": CloudWatch would drop the metric.
func TestMissingDimensionValues(t *testing.T) {
	r, buf := newTest()
	r.Add(JobsDeferred, 1, "")
	r.Flush()
	rec := checkEMF(t, lines(buf)[0])
	if rec["config"] != noValue || rec["reason"] != noValue {
		t.Errorf("record = %v", rec)
	}
}

func TestNilRecorderRecordsNothing(t *testing.T) {
	var r *Recorder
	r.Add(JobsLaunched, 1, "x")
	r.Observe(QueueWait, 1, "x")
	r.Duration(LaunchLatency, time.Second, "x")
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

// Concurrent recording loses no count and flushes whole lines.
func TestConcurrentAdds(t *testing.T) {
	r, buf := newTest()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				r.Add(JobsReceived, 1, "linux")
			}
		})
	}
	wg.Wait()
	r.Flush()
	pts, _ := Read(buf)
	if s := Sum(pts, "JobsReceived", nil); s != 800 {
		t.Errorf("sum = %v, want 800", s)
	}
}

// Read skips what is not an EMF record and text before a line's JSON (a log prefix).
func TestReadSkipsOtherLines(t *testing.T) {
	r, buf := newTest()
	r.Add(JobsReceived, 2, "linux")
	r.Flush()
	log := "terraform: apply\n" + `{"level":"INFO","msg":"job"}` + "\n[webhook] " + buf.String() + "{not json _aws\n"
	pts, err := Read(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 1 || pts[0].Function != "scale-up" || Sum(pts, "JobsReceived", nil) != 2 {
		t.Errorf("points = %+v", pts)
	}
}

// docs/metrics.md lists every metric of the catalogue with its unit and dimensions, and no
// metric the catalogue lacks.
func TestDocsListEveryMetric(t *testing.T) {
	data, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(l, "| `") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(strings.Split(l, "|")[1]), "`")
		rows[name] = l
	}
	names := map[string]bool{}
	for _, m := range Catalogue {
		names[m.Name] = true
		row, ok := rows[m.Name]
		if !ok {
			t.Errorf("docs/metrics.md lacks %s", m.Name)
			continue
		}
		if !strings.Contains(row, string(m.Unit)) {
			t.Errorf("docs/metrics.md row of %s lacks unit %s", m.Name, m.Unit)
		}
		for _, d := range m.Dims {
			if !strings.Contains(row, d) {
				t.Errorf("docs/metrics.md row of %s lacks dimension %s", m.Name, d)
			}
		}
	}
	for n := range rows {
		if !names[n] {
			t.Errorf("docs/metrics.md lists %s, which the catalogue lacks", n)
		}
	}
}

type fakeGitHub struct{ calls, limited, paced map[string]int }

func (f *fakeGitHub) Calls() map[string]int       { return f.calls }
func (f *fakeGitHub) RateLimited() map[string]int { return f.limited }
func (f *fakeGitHub) PacingWaits() map[string]int { return f.paced }
func (f *fakeGitHub) RemainingQuota() int         { return 4200 }

// Each flush records the GitHub calls made since the previous one, not the running totals.
func TestGitHubDeltasPerFlush(t *testing.T) {
	const jit = "POST /orgs/{org}/actions/runners/generate-jitconfig"
	gh := &fakeGitHub{calls: map[string]int{jit: 3}, limited: map[string]int{}, paced: map[string]int{}}
	r, buf := newTest()
	r.TrackGitHub(gh) // calls made before (at start-up) are not this invocation's
	gh.calls = map[string]int{jit: 8, "GET /x": 1}
	gh.paced = map[string]int{jit: 2}
	r.Flush()
	pts, _ := Read(bytes.NewReader(buf.Bytes()))
	if got := Sum(pts, "GitHubCalls", map[string]string{"endpoint": jit}); got != 5 {
		t.Errorf("calls = %v, want 5", got)
	}
	if got := Sum(pts, "GitHubPacingWaits", map[string]string{"endpoint": jit}); got != 2 {
		t.Errorf("pacing waits = %v, want 2", got)
	}
	if got := Sum(pts, "GitHubRateLimitRemaining", nil); got != 4200 {
		t.Errorf("remaining = %v", got)
	}
	buf.Reset()
	r.Flush() // no call since: nothing, not even the quota
	if buf.Len() != 0 {
		t.Errorf("idle flush wrote %s", buf)
	}
}
