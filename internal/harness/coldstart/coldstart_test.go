package coldstart

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/ghr-dev/ghr/internal/harness/lambdahost"
	"github.com/ghr-dev/ghr/internal/harness/logscan"
	"github.com/ghr-dev/ghr/internal/pool"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/syncer"
)

const (
	// minRuns fresh processes per function give a median that one slow start (the shared
	// machine, moto's first call of a kind) does not move.
	minRuns = 5
	// invokeTimeout only catches a hung function; a cold start is a fraction of a second.
	invokeTimeout = 30 * time.Second
	// memoryMB is Lambda's default; the host passes it on as the function's memory size.
	memoryMB = 128
)

const (
	scheduledEvent = `{"version":"0","id":"cold","detail-type":"Scheduled Event","source":"aws.events","account":"123456789012","time":"2026-01-01T00:00:00Z","region":"us-east-1","resources":["arn:aws:events:us-east-1:123456789012:rule/ghr-bench"],"detail":{}}`
	emptySQSBatch  = `{"Records":[]}`
	pingBody       = `{"zen":"Design for failure.","hook_id":1,"hook":{"type":"App","id":1,"active":true,"events":["workflow_job"],"app_id":1}}`
)

// function is one Lambda, its representative first event and a check of its answer.
type function struct {
	name  string
	event []byte
	check func(out []byte) error
}

func functions() []function {
	noFailures := func(out []byte) error {
		var r events.SQSEventResponse
		if err := json.Unmarshal(out, &r); err != nil || len(r.BatchItemFailures) != 0 {
			return fmt.Errorf("answer %s: %v", out, err)
		}
		return nil
	}
	return []function{
		{"webhook", signedPing(), func(out []byte) error {
			var r events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &r); err != nil || r.StatusCode != 200 {
				return fmt.Errorf("answer %s: %v", out, err)
			}
			return nil
		}},
		{"scale-up", []byte(emptySQSBatch), noFailures},
		{"cleanup", []byte(emptySQSBatch), noFailures},
		{"scale-down", []byte(scheduledEvent), func(out []byte) error {
			var r scaledown.Result
			if err := json.Unmarshal(out, &r); err != nil || r.Instances != 1 || r.Owners != 1 || r.Terminated != 0 {
				return fmt.Errorf("answer %s (%v): want one instance of one owner, nothing terminated", out, err)
			}
			return nil
		}},
		{"pool", []byte(scheduledEvent), func(out []byte) error {
			var r []pool.Count
			if err := json.Unmarshal(out, &r); err != nil || len(r) != 1 || r[0].Live != 1 || r[0].Launch != 0 {
				return fmt.Errorf("answer %s (%v): want one full pool", out, err)
			}
			return nil
		}},
		{"redeliver", []byte(scheduledEvent), func(out []byte) error {
			return json.Unmarshal(out, new(map[string]int))
		}},
		{"syncer", []byte(scheduledEvent), func(out []byte) error {
			var r syncer.Result
			if err := json.Unmarshal(out, &r); err != nil || len(r.Targets) != 2 {
				return fmt.Errorf("answer %s: %v", out, err)
			}
			for _, t := range r.Targets {
				if t.Action != syncer.ActionCurrent { // the warm-up run uploaded them
					return fmt.Errorf("answer %s: want every archive current", out)
				}
			}
			return nil
		}},
	}
}

// signedPing is what API Gateway hands the webhook for GitHub's ping, signed as GitHub signs.
func signedPing() []byte {
	m := hmac.New(sha256.New, []byte(webhookSecret))
	m.Write([]byte(pingBody))
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /webhook", RawPath: "/webhook", Body: pingBody,
		Headers: map[string]string{
			"content-type": "application/json", "x-github-event": "ping", "x-github-delivery": "cold-start",
			"x-hub-signature-256": "sha256=" + hex.EncodeToString(m.Sum(nil)),
		},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RouteKey: "POST /webhook", Stage: "$default", RequestID: "cold",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhook"}},
	}
	b, _ := json.Marshal(ev)
	return b
}

// BenchmarkColdStart starts each function in fresh processes and reports the median cold
// start (coldstart-ms, also as ns/op) and peak RSS (peak-rss-MiB). Every log line is scanned
// for the App key and the webhook secret.
func BenchmarkColdStart(b *testing.B) {
	bins := buildFunctions(b)
	fx := newFixture(b)
	scanner := logscan.New(fx.secrets, logscan.DefaultPatterns)
	for _, fn := range functions() {
		path, ok := bins[fn.name]
		if !ok {
			b.Fatalf("no lambdas/%s", fn.name)
		}
		b.Run(fn.name, func(b *testing.B) {
			var logs bytes.Buffer
			monitor := scanner.Monitor(&logs)
			spec := lambdahost.Function{Name: prefix + "-" + fn.name, Path: path, Env: fx.envs[fn.name],
				Timeout: invokeTimeout, MemoryMB: memoryMB, Concurrency: 1, Logs: monitor}
			// Warm-up, not counted: the page cache holds the binary afterwards, as Lambda's
			// worker caches the code, and the syncer's first pass uploads the archives.
			warm := fn
			warm.check = func(out []byte) error { return json.Unmarshal(out, new(any)) }
			if _, _, err := coldStart(spec, warm); err != nil {
				b.Fatalf("warm-up: %v\nlogs:\n%s", err, logs.String())
			}
			var starts []time.Duration
			var rss []int64
			for range max(b.N, minRuns) {
				d, kb, err := coldStart(spec, fn)
				if err != nil {
					b.Fatalf("%v\nlogs:\n%s", err, logs.String())
				}
				starts, rss = append(starts, d), append(rss, kb)
			}
			monitor.Flush()
			for _, f := range monitor.Findings() {
				b.Errorf("secret in %s logs: %s", fn.name, f)
			}
			med := median(starts)
			b.ReportMetric(float64(med.Nanoseconds()), "ns/op")
			b.ReportMetric(float64(med.Microseconds())/1000, "coldstart-ms")
			b.ReportMetric(float64(slices.Max(starts).Microseconds())/1000, "coldstart-max-ms")
			b.ReportMetric(float64(median(rss))/1024, "peak-rss-MiB")
		})
	}
}

// coldStart runs one fresh environment for one invocation and returns its cold start and
// peak RSS in KiB.
func coldStart(spec lambdahost.Function, fn function) (time.Duration, int64, error) {
	h := lambdahost.New(spec)
	defer h.Close()
	out, err := h.Invoke(context.Background(), fn.event)
	if err != nil {
		return 0, 0, fmt.Errorf("invoke %s: %w", fn.name, err)
	}
	if err := fn.check(out); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", fn.name, err)
	}
	st := h.Stats()
	if len(st.ColdStarts) != 1 || st.PeakRSSKB <= 0 {
		return 0, 0, fmt.Errorf("%s: stats %+v, want one cold start and a peak RSS", fn.name, st)
	}
	return st.ColdStarts[0], st.PeakRSSKB, nil
}

func median[T int64 | time.Duration](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
