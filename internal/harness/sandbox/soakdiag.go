package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// trailLines is how many of an unfinished job's last log lines the soak prints: enough to
// see where its path stopped (deferral, launch, registration, re-check) without the log.
const trailLines = 8

// trailKeys are the log fields worth printing beside a line's message.
var trailKeys = []string{"component", "function", "decision", "verdict", "reason", "instance_id", "runner", "error"}

// unfinished explains each job that did not end successfully: its state on GitHub and the
// last lines the functions and the sandbox logged about it since mark, so a soak failing
// where its log is not kept (CI) still says where each job's path stopped.
func (s *Sandbox) unfinished(ids []int64, mark int64, start time.Time) []string {
	if len(ids) == 0 {
		return nil
	}
	want := map[string]int64{}
	for _, id := range ids {
		want[strconv.FormatInt(id, 10)] = id
	}
	lines := map[int64][]string{}
	counts := map[int64]int{}
	if f, err := os.Open(s.logFile.Name()); err == nil {
		defer f.Close()
		if _, err := f.Seek(mark, 0); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
			for sc.Scan() {
				b := sc.Bytes()
				if !bytes.Contains(b, []byte(`"job_id":`)) {
					continue
				}
				var rec map[string]any
				if json.Unmarshal(b, &rec) != nil {
					continue
				}
				id, ok := want[fmt.Sprint(rec["job_id"])]
				if !ok {
					continue
				}
				counts[id]++
				lines[id] = append(lines[id], trailLine(rec, start))
				if len(lines[id]) > trailLines {
					lines[id] = lines[id][1:]
				}
			}
		}
	}
	var out []string
	for _, id := range ids {
		j := s.final(id)
		head := fmt.Sprintf("job %d (attempt %d, %s): %s/%s, runner %q, queued at +%.1fs; %d log lines",
			id, j.Attempt, strings.Join(j.Labels, ","), j.Status, j.Conclusion, j.RunnerName, j.QueuedAt.Sub(start).Seconds(), counts[id])
		if len(lines[id]) > 0 {
			head += ", last:\n    " + strings.Join(lines[id], "\n    ")
		}
		out = append(out, head)
	}
	return out
}

// trailLine renders one log record: its time from start, level, message and known fields.
func trailLine(rec map[string]any, start time.Time) string {
	var b strings.Builder
	if t, err := time.Parse(time.RFC3339Nano, fmt.Sprint(rec["time"])); err == nil {
		fmt.Fprintf(&b, "+%.1fs ", t.Sub(start).Seconds())
	}
	fmt.Fprintf(&b, "%v %q", rec["level"], rec["msg"])
	for _, k := range trailKeys {
		if v, ok := rec[k]; ok {
			fmt.Fprintf(&b, " %s=%v", k, v)
		}
	}
	return b.String()
}
