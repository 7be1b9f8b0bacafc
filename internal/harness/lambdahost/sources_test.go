package lambdahost

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

func TestHTTPAPIRoundTrip(t *testing.T) {
	h := testHost(t, "run")
	srv := httptest.NewServer(&HTTPAPI{RouteKey: "POST /webhook", Target: h})
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/webhook", strings.NewReader(`{"zen":"hi"}`))
	req.Header.Set("X-GitHub-Event", "ping")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 202 || string(body) != `ping:{"zen":"hi"}` || resp.Header.Get("X-Seen-Method") != "POST" {
		t.Fatalf("answer %d %q %v", resp.StatusCode, body, resp.Header)
	}

	failing := httptest.NewServer(&HTTPAPI{RouteKey: "POST /webhook", Target: testHost(t, "init-fail")})
	defer failing.Close()
	resp, err = http.Post(failing.URL+"/webhook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 {
		t.Fatalf("a failing function must surface as API Gateway's 500, got %d", resp.StatusCode)
	}
}

// TestSQSMappingPartialFailures runs the real function behind a mapping on a moto queue:
// handled messages are deleted, reported failures come back after the visibility timeout.
func TestSQSMappingPartialFailures(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Start(t)
	client := sqs.NewFromConfig(moto.AWSConfig())
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("build"), Attributes: map[string]string{"VisibilityTimeout": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 7 {
		body := fmt.Sprintf("ok-%d", i)
		if i%3 == 0 {
			body = fmt.Sprintf("fail-%d", i)
		}
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), MessageBody: aws.String(body)})
	}
	if _, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil {
		t.Fatal(err)
	}
	m := &SQSMapping{Client: client, QueueURL: url, QueueARN: "arn:aws:sqs:us-east-1:123456789012:build", BatchSize: 10,
		BatchingWindow: 200 * time.Millisecond, ReportBatchItemFailures: true, Pollers: 1, Target: testHost(t, "run")}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { m.Run(runCtx); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for m.Stats().Deleted < 4 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
	s := m.Stats()
	if s.Deleted != 4 || s.ItemFailures < 3 || s.FunctionErrors != 0 {
		t.Fatalf("stats = %+v: want 4 deleted and the 3 failures kept", s)
	}
	time.Sleep(2100 * time.Millisecond) // visibility timeout
	var left []string
	for range 3 {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, msg := range out.Messages {
			left = append(left, aws.ToString(msg.Body))
		}
		if len(left) >= 3 {
			break
		}
	}
	sort.Strings(left)
	if strings.Join(left, ",") != "fail-0,fail-3,fail-6" {
		t.Fatalf("left on the queue: %v, want the three failures", left)
	}
}

func TestPartialResponseRules(t *testing.T) {
	batch := []types.Message{{MessageId: aws.String("a")}, {MessageId: aws.String("b")}}
	m := &SQSMapping{ReportBatchItemFailures: true}
	for _, tt := range []struct {
		out    string
		failed int
		ok     bool
	}{
		{``, 0, true},
		{`null`, 0, true},
		{`{"batchItemFailures":[]}`, 0, true},
		{`{"batchItemFailures":[{"itemIdentifier":"b"}]}`, 1, true},
		{`{"batchItemFailures":[{"itemIdentifier":"zzz"}]}`, 0, false},
		{`{"batchItemFailures":[{"itemIdentifier":""}]}`, 0, false},
		{`not json`, 0, false},
	} {
		failed, ok := m.failures([]byte(tt.out), batch)
		if ok != tt.ok || len(failed) != tt.failed {
			t.Errorf("failures(%s) = %v, %v; want %d failed, ok=%v", tt.out, failed, ok, tt.failed, tt.ok)
		}
	}
}

type countingInvoker struct {
	n        int
	payloads [][]byte
}

func (c *countingInvoker) Invoke(_ context.Context, p []byte) ([]byte, error) {
	c.n++
	c.payloads = append(c.payloads, p)
	return nil, nil
}

func TestSchedule(t *testing.T) {
	inv := &countingInvoker{}
	s := &Schedule{Name: "scale-down", Every: 5 * time.Minute, Speedup: 3000, Target: inv}
	if got := s.Interval(); got != 100*time.Millisecond {
		t.Fatalf("interval = %s, want 100ms", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx) // fires once at start, as after a deploy, then stops
	if inv.n != 1 || s.Fired != 1 || !strings.Contains(string(inv.payloads[0]), `"detail-type":"Scheduled Event"`) {
		t.Fatalf("fired %d; payload %s", inv.n, inv.payloads)
	}
}
