package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/queue"
)

const testSecret = "It's a Secret to Everybody"

// recordingSender is a small stateful queue fake: it keeps what was sent per queue and can be
// told to fail.
type recordingSender struct {
	mu   sync.Mutex
	sent map[string][][]byte
	err  error
}

func (s *recordingSender) Send(_ context.Context, url string, body []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.sent == nil {
		s.sent = map[string][][]byte{}
	}
	s.sent[url] = append(s.sent[url], bytes.Clone(body))
	return nil
}

func (s *recordingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, m := range s.sent {
		n += len(m)
	}
	return n
}

var _ Sender = (*recordingSender)(nil)

func testConfigs(t testing.TB) []config.RunnerConfig {
	t.Helper()
	cfgs, err := config.ParseRunnerConfigs([]byte(`[
	 {"key":"linux","labels":["self-hosted","linux","x64"],"match":"subset","priority":10,"queue_url":"q-linux","level":"org","ephemeral":true},
	 {"key":"k8s","labels":["self-hosted","k8s"],"match":"exact","priority":5,"queue_url":"q-k8s","level":"org","ephemeral":true},
	 {"key":"win","labels":["self-hosted","windows"],"match":"any","priority":20,"queue_url":"q-win","level":"repo","ephemeral":true}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	return cfgs
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(testSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func readPayload(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newIntake(t testing.TB, s Sender, mutate ...func(*Options)) *Intake {
	t.Helper()
	o := Options{Secret: []byte(testSecret), RunnerConfigs: testConfigs(t), Sender: s, LifecycleQueueURL: "q-life", RunnerNamePrefix: testRunnerPrefix,
		Now: func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }}
	for _, m := range mutate {
		m(&o)
	}
	in, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func request(event string, body []byte) Request {
	return Request{Method: "POST", Body: string(body), RequestID: "req-1", Headers: map[string]string{
		"x-github-event": event, "x-github-delivery": "deliv-1", "x-hub-signature-256": sign(body),
		"content-type": "application/json",
	}}
}

func TestHandleStatusCodes(t *testing.T) {
	queued := readPayload(t, "workflow_job_queued.json")
	selfHosted := readPayload(t, "workflow_job_queued_user.json")
	tests := []struct {
		name      string
		req       func() Request
		sendErr   error
		noLife    bool
		allow     []string
		status    int
		queue     string // "" = nothing enqueued
		bodyMatch string
	}{
		{name: "ping", req: func() Request { return request("ping", readPayload(t, "ping.json")) }, status: 200, bodyMatch: "pong"},
		{name: "queued no match", req: func() Request { return request("workflow_job", queued) }, status: 202, bodyMatch: "no runner config matches labels [ubuntu-latest]",
			allow: nil},
		{name: "queued matches exact k8s (user-owned repo)", req: func() Request { return request("workflow_job", selfHosted) }, status: 202, queue: "q-k8s", bodyMatch: `"runner_config":"k8s"`},
		{name: "in_progress needs no clean-up", req: func() Request { return request("workflow_job", readPayload(t, "workflow_job_in_progress.json")) }, status: 202, bodyMatch: "action in_progress acknowledged"},
		{name: "completed on our runner to lifecycle", req: func() Request { return request("workflow_job", ourCompleted(t)) }, status: 202, queue: "q-life"},
		{name: "completed on a GitHub-hosted runner", req: func() Request { return request("workflow_job", readPayload(t, "workflow_job_completed.json")) }, status: 202, bodyMatch: "not this deployment's runner"},
		{name: "completed without lifecycle queue", noLife: true, req: func() Request { return request("workflow_job", ourCompleted(t)) }, status: 202, bodyMatch: "no lifecycle queue"},
		{name: "waiting ignored", req: func() Request { return request("workflow_job", readPayload(t, "workflow_job_waiting.json")) }, status: 202, bodyMatch: "action waiting ignored"},
		{name: "other event", req: func() Request { return request("push", []byte(`{"ref":"x"}`)) }, status: 202, bodyMatch: "event push ignored"},
		{name: "repository not allowed", allow: []string{"other/repo"}, req: func() Request { return request("workflow_job", selfHosted) }, status: 202, bodyMatch: "allow-list"},
		{name: "repository allowed by owner wildcard", allow: []string{"LINEVILLE/*"}, req: func() Request { return request("workflow_job", selfHosted) }, status: 202, queue: "q-k8s"},
		{name: "enqueue fails", sendErr: errors.New("sqs down"), req: func() Request { return request("workflow_job", selfHosted) }, status: 503},
		{name: "missing signature", req: func() Request {
			r := request("workflow_job", selfHosted)
			delete(r.Headers, "x-hub-signature-256")
			return r
		}, status: 401},
		{name: "sha1 signature only", req: func() Request {
			r := request("workflow_job", selfHosted)
			m := hmac.New(sha1.New, []byte(testSecret))
			m.Write(selfHosted)
			delete(r.Headers, "x-hub-signature-256")
			r.Headers["x-hub-signature"] = "sha1=" + hex.EncodeToString(m.Sum(nil))
			return r
		}, status: 401},
		{name: "signature over other body", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Body = strings.Replace(r.Body, "k8s", "gpu", 1)
			return r
		}, status: 401},
		{name: "signature not hex", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Headers["x-hub-signature-256"] = "sha256=zz"
			return r
		}, status: 401},
		{name: "signature with wrong secret", req: func() Request {
			r := request("workflow_job", selfHosted)
			m := hmac.New(sha256.New, []byte("wrong"))
			m.Write(selfHosted)
			r.Headers["x-hub-signature-256"] = "sha256=" + hex.EncodeToString(m.Sum(nil))
			return r
		}, status: 401},
		{name: "mixed-case header names", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Headers = map[string]string{"X-GitHub-Event": "workflow_job", "X-Hub-Signature-256": sign(selfHosted), "X-GitHub-Delivery": "d"}
			return r
		}, status: 202, queue: "q-k8s"},
		{name: "base64 body", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(selfHosted), true
			return r
		}, status: 202, queue: "q-k8s"},
		{name: "bad base64", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Body, r.IsBase64Encoded = "%%%", true
			return r
		}, status: 400},
		{name: "too large", req: func() Request { return request("workflow_job", bytes.Repeat([]byte(" "), 2<<20)) }, status: 413},
		{name: "too large base64", req: func() Request {
			r := request("workflow_job", nil)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte(" "), 2<<20)), true
			return r
		}, status: 413},
		{name: "malformed JSON", req: func() Request { return request("workflow_job", []byte(`{"action":`)) }, status: 400},
		{name: "missing job id", req: func() Request {
			return request("workflow_job", []byte(`{"action":"queued","workflow_job":{"labels":["k8s"]},"repository":{"full_name":"a/b","owner":{"login":"a"}}}`))
		}, status: 400},
		{name: "missing repository", req: func() Request {
			return request("workflow_job", []byte(`{"action":"queued","workflow_job":{"id":1,"labels":["k8s"]}}`))
		}, status: 400},
		{name: "wrong field type", req: func() Request {
			return request("workflow_job", []byte(`{"action":"queued","workflow_job":{"id":"one"}}`))
		}, status: 400},
		{name: "missing event header", req: func() Request {
			r := request("workflow_job", selfHosted)
			delete(r.Headers, "x-github-event")
			return r
		}, status: 400},
		{name: "GET", req: func() Request {
			r := request("workflow_job", selfHosted)
			r.Method = "GET"
			return r
		}, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &recordingSender{err: tt.sendErr}
			var emf bytes.Buffer
			rec := metrics.New(&emf, "ghr", "webhook")
			in := newIntake(t, s, func(o *Options) {
				o.Metrics = rec
				o.Allowlist = tt.allow
				if tt.noLife {
					o.LifecycleQueueURL = ""
				}
			})
			resp := in.Handle(context.Background(), tt.req())
			if resp.Status != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.Status, tt.status, resp.Body)
			}
			if !json.Valid(resp.Body) {
				t.Errorf("body is not JSON: %s", resp.Body)
			}
			if tt.bodyMatch != "" && !strings.Contains(string(resp.Body), tt.bodyMatch) {
				t.Errorf("body %s does not contain %q", resp.Body, tt.bodyMatch)
			}
			switch {
			case tt.queue == "" && s.count() != 0:
				t.Errorf("enqueued %v, want nothing", s.sent)
			case tt.queue != "" && (s.count() != 1 || len(s.sent[tt.queue]) != 1):
				t.Errorf("enqueued %v, want one message on %s", s.sent, tt.queue)
			}
			rec.Flush()
			pts, _ := metrics.Read(&emf)
			wantReceived, wantRejected := 0.0, 0.0
			if tt.queue != "" && tt.queue != "q-life" {
				wantReceived = 1
			}
			if tt.status >= 400 {
				wantRejected = 1
			}
			if got := metrics.Sum(pts, "JobsReceived", nil); got != wantReceived {
				t.Errorf("JobsReceived = %v, want %v", got, wantReceived)
			}
			if got := metrics.Sum(pts, "WebhookRejected", map[string]string{"reason": strconv.Itoa(tt.status)}); got != wantRejected {
				t.Errorf("WebhookRejected{%d} = %v, want %v", tt.status, got, wantRejected)
			}
		})
	}
}

func TestQueuedMessage(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s)
	body := readPayload(t, "workflow_job_queued_user.json")
	if resp := in.Handle(context.Background(), request("workflow_job", body)); resp.Status != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	job, err := queue.DecodeJob(s.sent["q-k8s"][0])
	if err != nil {
		t.Fatalf("message does not decode: %v", err)
	}
	// The payload's repository is owned by a User: org-level config falls back to repo level.
	want := queue.Job{V: 1, JobID: 12877621891, RunID: 4747967848, Repo: "lineville/elastic-machines-testing", Owner: "lineville/elastic-machines-testing",
		OwnerType: "User", Level: queue.LevelRepo, InstallationID: 23154469, DeliveryID: "deliv-1", RunnerConfig: "k8s"}
	if job.JobID != want.JobID || job.RunID != want.RunID || job.Repo != want.Repo || job.Owner != want.Owner ||
		job.OwnerType != want.OwnerType || job.Level != want.Level || job.InstallationID != want.InstallationID ||
		job.DeliveryID != want.DeliveryID || job.RunnerConfig != want.RunnerConfig || strings.Join(job.Labels, ",") != "self-hosted,k8s" ||
		job.QueuedAt.IsZero() {
		t.Fatalf("message = %+v\nwant     %+v", job, want)
	}
}

func TestOrgLevelOwner(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s)
	body := readPayload(t, "workflow_job_queued.json") // Octocoders, an Organization, labels [ubuntu-latest]
	body = bytes.Replace(body, []byte(`"ubuntu-latest"`), []byte(`"self-hosted", "Linux"`), 1)
	if resp := in.Handle(context.Background(), request("workflow_job", body)); resp.Status != http.StatusAccepted {
		t.Fatalf("status %d: %s", resp.Status, resp.Body)
	}
	job, err := queue.DecodeJob(s.sent["q-linux"][0])
	if err != nil {
		t.Fatal(err)
	}
	if job.Level != queue.LevelOrg || job.Owner != "Octocoders" || job.RunnerConfig != "linux" {
		t.Fatalf("job = %+v, want org level for Octocoders on config linux", job)
	}
}

func TestLifecycleMessage(t *testing.T) {
	s := &recordingSender{}
	in := newIntake(t, s)
	in.Handle(context.Background(), request("workflow_job", ourCompleted(t)))
	l, err := queue.DecodeLifecycle(s.sent["q-life"][0])
	if err != nil {
		t.Fatal(err)
	}
	if l.Action != queue.ActionCompleted || l.RunnerName == "" || l.JobID == 0 || l.DeliveryID != "deliv-1" {
		t.Fatalf("lifecycle = %+v", l)
	}
}

func TestLogsNeverCarrySecrets(t *testing.T) {
	var logs bytes.Buffer
	s := &recordingSender{err: errors.New("boom")}
	in := newIntake(t, s, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
	body := readPayload(t, "workflow_job_queued_user.json")
	in.Handle(context.Background(), request("workflow_job", body))
	r := request("workflow_job", body)
	r.Headers["x-hub-signature-256"] = "sha256=" + strings.Repeat("0", 64)
	in.Handle(context.Background(), r)
	if strings.Contains(logs.String(), testSecret) || strings.Contains(logs.String(), sign(body)[7:]) {
		t.Fatalf("logs carry the secret or a signature:\n%s", logs.String())
	}
	for _, want := range []string{`"delivery_id":"deliv-1"`, `"job_id":12877621891`, `"request_id":"req-1"`, `"decision":"signature mismatch"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs lack %s:\n%s", want, logs.String())
		}
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	if _, err := New(Options{Sender: &recordingSender{}}); err == nil {
		t.Error("empty secret accepted")
	}
	if _, err := New(Options{Secret: []byte("x")}); err == nil {
		t.Error("nil sender accepted")
	}
}

// An in_progress event of a job one of our configs serves records how long it waited; one of
// another runner (labels no config matches) records nothing.
func TestQueueWaitFromInProgress(t *testing.T) {
	var ev map[string]any
	if err := json.Unmarshal(readPayload(t, "workflow_job_in_progress.json"), &ev); err != nil {
		t.Fatal(err)
	}
	job := ev["workflow_job"].(map[string]any)
	job["labels"] = []string{"self-hosted", "k8s"}
	job["created_at"], job["started_at"] = "2021-09-13T02:20:13Z", "2021-09-13T02:21:43Z"
	ours, _ := json.Marshal(ev)
	var emf bytes.Buffer
	rec := metrics.New(&emf, "ghr", "webhook")
	in := newIntake(t, &recordingSender{}, func(o *Options) { o.Metrics = rec })
	for _, body := range [][]byte{ours, readPayload(t, "workflow_job_in_progress.json")} {
		if resp := in.Handle(context.Background(), request("workflow_job", body)); resp.Status != http.StatusAccepted {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
	}
	rec.Flush()
	pts, _ := metrics.Read(&emf)
	if n, sum := metrics.Samples(pts, "QueueWait", nil), metrics.Sum(pts, "QueueWait", map[string]string{"config": "k8s"}); n != 1 || sum != 90_000 {
		t.Fatalf("QueueWait: %d samples summing %v ms, want one of 90000 for k8s", n, sum)
	}
}

// The accepted job's log line carries its path's first milestones (logging.KeyReceivedAt,
// KeyEnqueuedAt): API Gateway's receipt when the event has it, the handler's start otherwise;
// a failed enqueue has no enqueued time.
func TestLogCarriesJobMilestones(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	gateway := now.Add(-40 * time.Millisecond)
	for _, tc := range []struct {
		name         string
		receivedAt   time.Time
		sendErr      error
		wantReceived time.Time
		wantEnqueued bool
	}{
		{"gateway time", gateway, nil, gateway, true},
		{"no gateway time", time.Time{}, nil, now, true},
		{"enqueue failed", gateway, errors.New("boom"), gateway, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			in := newIntake(t, &recordingSender{err: tc.sendErr}, func(o *Options) { o.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) })
			r := request("workflow_job", readPayload(t, "workflow_job_queued_user.json"))
			r.ReceivedAt = tc.receivedAt
			in.Handle(context.Background(), r)
			var line struct {
				ReceivedAt time.Time  `json:"received_at"`
				EnqueuedAt *time.Time `json:"enqueued_at"`
			}
			if err := json.Unmarshal(logs.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, logs.String())
			}
			if !line.ReceivedAt.Equal(tc.wantReceived) || (line.EnqueuedAt != nil) != tc.wantEnqueued {
				t.Errorf("log %s: want received_at %s, enqueued_at present %v", logs.String(), tc.wantReceived, tc.wantEnqueued)
			}
		})
	}
	if got := receivedAt(gateway.UnixMilli()); !got.Equal(gateway) {
		t.Errorf("receivedAt(%d) = %s, want %s", gateway.UnixMilli(), got, gateway)
	}
	if !receivedAt(0).IsZero() {
		t.Error("receivedAt(0) is not the zero time")
	}
}
