package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SQSAPI is the part of the SQS client a sender uses.
type SQSAPI interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// SQSSender sends message bodies to SQS queues.
type SQSSender struct{ API SQSAPI }

// Send puts body on the queue at queueURL.
func (s SQSSender) Send(ctx context.Context, queueURL string, body []byte) error {
	_, err := s.API.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(string(body))})
	if err != nil {
		return fmt.Errorf("send to %s: %w", queueURL, err)
	}
	return nil
}

// SendDelayed puts body on the queue at queueURL, invisible for delay (at most SQS's 15
// minutes; whole seconds).
func (s SQSSender) SendDelayed(ctx context.Context, queueURL string, body []byte, delay time.Duration) error {
	_, err := s.API.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(queueURL), MessageBody: aws.String(string(body)), DelaySeconds: int32(delay / time.Second),
	})
	if err != nil {
		return fmt.Errorf("send to %s: %w", queueURL, err)
	}
	return nil
}
