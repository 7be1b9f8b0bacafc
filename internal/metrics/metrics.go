// Package metrics writes ghr's CloudWatch metrics in Embedded Metric Format: one JSON line
// per dimension set on stdout, which Lambda ships to CloudWatch Logs and CloudWatch turns into
// metrics, so counting costs no API call and no latency. A Recorder sums counts and gathers
// samples during one invocation and writes them when flushed; a nil *Recorder records
// nothing, so code under test needs none.
//
// No Go EMF library is maintained by AWS, and the third-party ones are small and dormant: the
// format is a documented JSON shape, written here with its limits (100 metrics per directive,
// 100 values per metric, 30 dimensions) enforced.
package metrics

import (
	"encoding/json"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of ghr's metrics.
const Namespace = "ghr"

// EMF limits (CloudWatch "Specification: Embedded metric format").
const (
	maxValuesPerMetric  = 100 // an array value holds at most 100 samples
	maxMetricsPerRecord = 100 // a directive lists at most 100 metrics
)

// noValue stands for a dimension value the caller left out or empty: CloudWatch drops a
// metric whose dimension value is empty.
const noValue = "none"

// Recorder gathers one invocation's metrics. It is safe for concurrent use.
type Recorder struct {
	mu         sync.Mutex
	w          io.Writer
	deployment string
	function   string
	now        func() time.Time
	series     map[string]*series
	github     *gitHubTracker
}

type series struct {
	dims   []string // names, deployment first
	values []string // values, in the order of dims
	sums   map[string]float64
	obs    map[string][]float64
	units  map[string]Unit
}

// New returns a Recorder writing to w for a deployment's function.
func New(w io.Writer, deployment, function string) *Recorder {
	return &Recorder{w: w, deployment: deployment, function: function, now: time.Now, series: map[string]*series{}}
}

// WithClock makes the recorder stamp records with now. It returns r.
func (r *Recorder) WithClock(now func() time.Time) *Recorder {
	r.now = now
	return r
}

// Add adds n to a counter. values are m's dimension values, in m.Dims order.
func (r *Recorder) Add(m Metric, n int, values ...string) {
	if r == nil || n == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seriesFor(m, values)
	s.sums[m.Name] += float64(n)
}

// Observe records one sample (a latency, a gauge reading).
func (r *Recorder) Observe(m Metric, v float64, values ...string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seriesFor(m, values)
	s.obs[m.Name] = append(s.obs[m.Name], v)
}

// Duration records a latency sample in milliseconds.
func (r *Recorder) Duration(m Metric, d time.Duration, values ...string) {
	r.Observe(m, float64(d.Milliseconds()), values...)
}

func (r *Recorder) seriesFor(m Metric, values []string) *series {
	dims := append([]string{DimDeployment}, m.Dims...)
	vals := make([]string, len(dims))
	vals[0] = r.deployment
	for i := range m.Dims {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		if v == "" {
			v = noValue
		}
		vals[i+1] = v
	}
	key := strings.Join(dims, "\x00") + "\x01" + strings.Join(vals, "\x00")
	s, ok := r.series[key]
	if !ok {
		s = &series{dims: dims, values: vals, sums: map[string]float64{}, obs: map[string][]float64{}, units: map[string]Unit{}}
		r.series[key] = s
	}
	s.units[m.Name] = m.Unit
	return s
}

// Flush writes what was recorded since the last flush, one line per dimension set, and
// starts afresh. Write errors are returned but lose nothing else: metrics never fail a job.
func (r *Recorder) Flush() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.github != nil {
		r.github.collect(r)
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range r.series {
			if !yield(k) {
				return
			}
		}
	})
	ts := r.now().UnixMilli()
	var out []byte
	for _, k := range keys {
		for _, rec := range r.series[k].records(ts, r.function) {
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			out = append(append(out, b...), '\n')
		}
	}
	clear(r.series)
	if len(out) == 0 {
		return nil
	}
	_, err := r.w.Write(out) // one write: lines from concurrent loggers never interleave inside it
	return err
}

type metricDef struct {
	Name string `json:"Name"`
	Unit Unit   `json:"Unit"`
}

// records renders a series as EMF objects, splitting past the per-record limits.
func (s *series) records(ts int64, function string) []map[string]any {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range s.units {
			if !yield(n) {
				return
			}
		}
	})
	// Dimension sets: the full one and, when there is more than the deployment, the
	// deployment alone, so alarms read one deployment-wide series.
	sets := [][]string{s.dims}
	if len(s.dims) > 1 {
		sets = append(sets, []string{DimDeployment})
	}
	var recs []map[string]any
	pending := map[string][]float64{}
	for _, n := range names {
		if v, ok := s.sums[n]; ok {
			pending[n] = []float64{v}
		}
		pending[n] = append(pending[n], s.obs[n]...)
	}
	for len(pending) > 0 {
		rec := map[string]any{"function": function}
		for i, d := range s.dims {
			rec[d] = s.values[i]
		}
		var defs []metricDef
		for _, n := range names {
			vs, ok := pending[n]
			if !ok || len(defs) == maxMetricsPerRecord {
				continue
			}
			take := min(len(vs), maxValuesPerMetric)
			if take == 1 {
				rec[n] = vs[0]
			} else {
				rec[n] = vs[:take]
			}
			defs = append(defs, metricDef{Name: n, Unit: s.units[n]})
			if take == len(vs) {
				delete(pending, n)
			} else {
				pending[n] = vs[take:]
			}
		}
		rec["_aws"] = map[string]any{
			"Timestamp": ts,
			"CloudWatchMetrics": []map[string]any{{
				"Namespace": Namespace, "Dimensions": sets, "Metrics": defs,
			}},
		}
		recs = append(recs, rec)
	}
	return recs
}
