package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"time"
)

// maxLogLine bounds one log line read back (Lambda splits lines at 256 KiB).
const maxLogLine = 256 << 10

// Point is one metric of one EMF record read back from a log.
type Point struct {
	Function string
	Name     string
	Dims     map[string]string // the record's full dimension set, deployment included
	// Sets are the record's dimension sets by name (the full one first): CloudWatch makes
	// one series of each.
	Sets   [][]string
	Values []float64
	Unit   Unit
	At     time.Time // the record's timestamp
}

// Read parses the EMF records among log lines (other lines, and text before a line's first
// '{', are skipped), as CloudWatch would. Tests and tools use it to check what functions
// publish.
func Read(r io.Reader) ([]Point, error) {
	var pts []Point
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLogLine)
	for sc.Scan() {
		line := sc.Bytes()
		i := bytes.IndexByte(line, '{')
		if i < 0 || !bytes.Contains(line, []byte(`"_aws"`)) {
			continue
		}
		var rec map[string]json.RawMessage
		if json.Unmarshal(line[i:], &rec) != nil {
			continue
		}
		pts = append(pts, pointsOf(rec)...)
	}
	return pts, sc.Err()
}

func pointsOf(rec map[string]json.RawMessage) []Point {
	var meta struct {
		Timestamp         int64
		CloudWatchMetrics []struct {
			Namespace  string
			Dimensions [][]string
			Metrics    []metricDef
		}
	}
	if json.Unmarshal(rec["_aws"], &meta) != nil {
		return nil
	}
	var fn string
	_ = json.Unmarshal(rec["function"], &fn)
	var pts []Point
	for _, d := range meta.CloudWatchMetrics {
		dims := map[string]string{}
		if len(d.Dimensions) > 0 {
			for _, name := range d.Dimensions[0] {
				var v string
				_ = json.Unmarshal(rec[name], &v)
				dims[name] = v
			}
		}
		for _, m := range d.Metrics {
			var vs []float64
			if json.Unmarshal(rec[m.Name], &vs) != nil {
				var v float64
				if json.Unmarshal(rec[m.Name], &v) != nil {
					continue
				}
				vs = []float64{v}
			}
			pts = append(pts, Point{Function: fn, Name: m.Name, Dims: dims, Values: vs, Unit: m.Unit, At: time.UnixMilli(meta.Timestamp), Sets: d.Dimensions})
		}
	}
	return pts
}

// Sum adds the values of metric name over the points whose dimensions include match.
func Sum(pts []Point, name string, match map[string]string) float64 {
	var s float64
	for _, p := range selected(pts, name, match) {
		for _, v := range p.Values {
			s += v
		}
	}
	return s
}

// Samples counts the values of metric name over the points whose dimensions include match.
func Samples(pts []Point, name string, match map[string]string) int {
	n := 0
	for _, p := range selected(pts, name, match) {
		n += len(p.Values)
	}
	return n
}

func selected(pts []Point, name string, match map[string]string) []Point {
	var out []Point
next:
	for _, p := range pts {
		if p.Name != name {
			continue
		}
		for k, v := range match {
			if p.Dims[k] != v {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}
