package webhook

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/queue"
)

// TestIntakeToSQS runs intake against real SQS queues in moto_server: an accepted job lands
// on its runner config's queue, lifecycle events on the lifecycle queue, and rejected events
// nowhere.
func TestIntakeToSQS(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Start(t)
	client := sqs.NewFromConfig(moto.AWSConfig())
	urls := map[string]string{}
	for _, name := range []string{"linux", "k8s", "win", "lifecycle"} {
		out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ghr-" + name)})
		if err != nil {
			t.Fatalf("create queue: %v", err)
		}
		urls[name] = aws.ToString(out.QueueUrl)
	}
	cfgs := testConfigs(t)
	for i := range cfgs {
		cfgs[i].QueueURL = urls[cfgs[i].Key]
	}
	in := newIntake(t, queue.SQSSender{API: client}, func(o *Options) {
		o.RunnerConfigs, o.LifecycleQueueURL = cfgs, urls["lifecycle"]
	})

	send := func(event string, body []byte, signed bool) int {
		r := request(event, body)
		if !signed {
			r.Headers["x-hub-signature-256"] = sign([]byte("forged"))
		}
		resp, _ := in.HandleLambda(ctx, events.APIGatewayV2HTTPRequest{
			Headers: r.Headers, Body: base64.StdEncoding.EncodeToString(body), IsBase64Encoded: true,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "r", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST"}},
		})
		return resp.StatusCode
	}
	queued := readPayload(t, "workflow_job_queued_user.json")
	for _, c := range []struct {
		event  string
		body   []byte
		signed bool
		want   int
	}{
		{"workflow_job", queued, false, 401},                                    // forged: nothing
		{"workflow_job", readPayload(t, "workflow_job_queued.json"), true, 202}, // no match: nothing
		{"push", []byte(`{}`), true, 202},                                       // ignored: nothing
		{"workflow_job", queued, true, 202},                                     // → k8s
		{"workflow_job", ourCompleted(t), true, 202},                            // → lifecycle
	} {
		if got := send(c.event, c.body, c.signed); got != c.want {
			t.Fatalf("%s: status %d, want %d", c.event, got, c.want)
		}
	}

	want := map[string]int{"linux": 0, "k8s": 1, "win": 0, "lifecycle": 1}
	for name, n := range want {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(urls[name]), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != n {
			t.Fatalf("queue %s holds %d messages, want %d", name, len(out.Messages), n)
		}
		for _, m := range out.Messages {
			body := []byte(aws.ToString(m.Body))
			if name == "lifecycle" {
				if _, err := queue.DecodeLifecycle(body); err != nil {
					t.Fatalf("lifecycle message: %v", err)
				}
				continue
			}
			job, err := queue.DecodeJob(body)
			if err != nil || job.RunnerConfig != name || job.JobID != 12877621891 {
				t.Fatalf("job message %s: %+v, %v", body, job, err)
			}
		}
	}
}
