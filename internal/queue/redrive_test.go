package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/queue"
)

// A job message that spent max_receive_count receives lands in the dead-letter queue, and the
// documented redrive (docs/redrive.md: StartMessageMoveTask from the DLQ back to its source)
// returns it to its build queue as the same valid job with a fresh receive count. moto 5.2.1
// has no StartMessageMoveTask (docs/relaxations.md): there the test moves the message as the
// task does — receive from the DLQ, send the body to the source, delete — and checks the rest.
func TestDeadLetteredJobRedrivesToItsBuildQueue(t *testing.T) {
	moto := motoserver.Start(t)
	ctx := context.Background()
	api := sqs.NewFromConfig(moto.AWSConfig())
	mk := func(name string, attrs map[string]string) (url, arn string) {
		out, err := api.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			t.Fatal(err)
		}
		a, err := api.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl), a.Attributes["QueueArn"]
	}
	dlqURL, dlqARN := mk("ghr-dlq-linux", nil)
	const maxReceives = 2
	srcURL, srcARN := mk("ghr-build-linux", map[string]string{
		"VisibilityTimeout": "0",
		"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":%d}`, dlqARN, maxReceives),
	})

	job := queue.Job{V: queue.Version, JobID: 77, RunID: 5, Repo: "octo/app", Owner: "octo", OwnerType: "Organization", Level: queue.LevelOrg,
		Labels: []string{"self-hosted"}, DeliveryID: "d-77", QueuedAt: time.Now().UTC().Truncate(time.Second), RunnerConfig: "linux"}
	body, _ := json.Marshal(&job)
	if err := (queue.SQSSender{API: api}).Send(ctx, srcURL, body); err != nil {
		t.Fatal(err)
	}
	receive := func(url string) []types.Message {
		out, err := api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Messages
	}
	for i := range maxReceives { // scale-up fails it on every receive, reporting a batch item failure
		if n := len(receive(srcURL)); n != 1 {
			t.Fatalf("receive %d: %d messages", i+1, n)
		}
	}
	if n := len(receive(srcURL)); n != 0 {
		t.Fatalf("after %d receives the message is still on its build queue", maxReceives)
	}

	src, err := api.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlqURL)})
	if err != nil || len(src.QueueUrls) != 1 || src.QueueUrls[0] != srcURL {
		t.Fatalf("DLQ sources = %v, %v; want the build queue", src, err)
	}
	if _, err := api.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), DestinationArn: aws.String(srcARN)}); err != nil {
		t.Logf("StartMessageMoveTask: %v (moto lacks it: moving as the task does)", err)
		dead := receive(dlqURL)
		if len(dead) != 1 {
			t.Fatalf("%d messages in the dead-letter queue, want the job", len(dead))
		}
		if err := (queue.SQSSender{API: api}).Send(ctx, srcURL, []byte(aws.ToString(dead[0].Body))); err != nil {
			t.Fatal(err)
		}
		if _, err := api.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(dlqURL), ReceiptHandle: dead[0].ReceiptHandle}); err != nil {
			t.Fatal(err)
		}
	}
	var back []types.Message
	for deadline := time.Now().Add(10 * time.Second); len(back) == 0 && time.Now().Before(deadline); {
		back = receive(srcURL)
	}
	if len(back) != 1 {
		t.Fatalf("redriven: %d messages on the build queue", len(back))
	}
	got, err := queue.DecodeJob([]byte(aws.ToString(back[0].Body)))
	if err != nil || got.JobID != job.JobID || !got.QueuedAt.Equal(job.QueuedAt) {
		t.Fatalf("redriven job = %+v, %v; want job 77 with its original queued_at", got, err)
	}
	if rc := back[0].Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]; rc != "1" {
		t.Fatalf("redriven receive count %s, want a fresh 1", rc)
	}
}
