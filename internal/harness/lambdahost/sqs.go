package lambdahost

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQS event source limits, as Lambda's.
const (
	maxReceive      = 10                     // SQS returns at most 10 messages per receive
	receiveWait     = 1                      // seconds of long polling per receive; short so Stop is quick
	throttleBackoff = 100 * time.Millisecond // pause before re-invoking a throttled batch
	defaultPollers  = 2                      // Lambda starts with several pollers; two keep a laptop calm
)

// SQSAPI is the part of the SQS client a mapping uses.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// SQSMapping plays a Lambda event source mapping from an SQS queue: it polls, batches up
// to BatchSize within BatchingWindow, invokes, and deletes what the function handled. On a
// function error nothing is deleted; with ReportBatchItemFailures only the reported items
// stay, and they return after the queue's visibility timeout, as on AWS.
type SQSMapping struct {
	Client                  SQSAPI
	QueueURL                string
	QueueARN                string
	BatchSize               int
	BatchingWindow          time.Duration
	ReportBatchItemFailures bool
	Pollers                 int
	Target                  Invoker
	Log                     *slog.Logger

	mu    sync.Mutex
	stats MappingStats
}

// MappingStats counts a mapping's work.
type MappingStats struct {
	Batches, Messages, Deleted, ItemFailures, FunctionErrors, Throttles int
}

// Stats returns a snapshot.
func (m *SQSMapping) Stats() MappingStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Run polls until ctx ends.
func (m *SQSMapping) Run(ctx context.Context) {
	n := m.Pollers
	if n <= 0 {
		n = defaultPollers
	}
	if m.BatchSize <= 0 {
		m.BatchSize = maxReceive
	}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				m.poll(ctx)
			}
		}()
	}
	wg.Wait()
}

func (m *SQSMapping) poll(ctx context.Context) {
	var batch []types.Message
	deadline := time.Now().Add(m.BatchingWindow)
	for len(batch) < m.BatchSize {
		out, err := m.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: aws.String(m.QueueURL), MaxNumberOfMessages: int32(min(maxReceive, m.BatchSize-len(batch))),
			WaitTimeSeconds: receiveWait, MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			if ctx.Err() == nil && m.Log != nil {
				m.Log.Warn("sqs receive failed", "queue", m.QueueURL, "error", err.Error())
				time.Sleep(throttleBackoff)
			}
			break
		}
		batch = append(batch, out.Messages...)
		if len(batch) > 0 && (m.BatchingWindow == 0 || time.Now().After(deadline)) {
			break
		}
		if len(batch) == 0 {
			return // nothing waiting: poll again
		}
	}
	if len(batch) == 0 {
		return
	}
	m.handle(ctx, batch)
}

func (m *SQSMapping) handle(ctx context.Context, batch []types.Message) {
	payload, _ := json.Marshal(m.event(batch))
	var out []byte
	var err error
	for {
		out, err = m.Target.Invoke(ctx, payload)
		if !errors.Is(err, ErrThrottled) || ctx.Err() != nil {
			break
		}
		m.count(func(s *MappingStats) { s.Throttles++ })
		time.Sleep(throttleBackoff)
	}
	m.count(func(s *MappingStats) { s.Batches++; s.Messages += len(batch) })
	if err != nil {
		m.count(func(s *MappingStats) { s.FunctionErrors++ })
		if m.Log != nil && ctx.Err() == nil {
			m.Log.Warn("sqs batch failed; messages return after the visibility timeout", "queue", m.QueueURL, "messages", len(batch), "error", err.Error())
		}
		return
	}
	failed, ok := m.failures(out, batch)
	if !ok {
		m.count(func(s *MappingStats) { s.FunctionErrors++ })
		return
	}
	var entries []types.DeleteMessageBatchRequestEntry
	for i, msg := range batch {
		if !failed[aws.ToString(msg.MessageId)] {
			entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
		}
	}
	m.count(func(s *MappingStats) { s.ItemFailures += len(failed) })
	for len(entries) > 0 {
		chunk := entries[:min(maxReceive, len(entries))]
		entries = entries[len(chunk):]
		res, err := m.Client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(m.QueueURL), Entries: chunk})
		if err != nil {
			if m.Log != nil {
				m.Log.Warn("sqs delete failed", "queue", m.QueueURL, "error", err.Error())
			}
			continue
		}
		m.count(func(s *MappingStats) { s.Deleted += len(res.Successful) })
	}
}

// failures reads a partial batch response. ok is false when Lambda would treat the whole
// batch as failed: a malformed response or an identifier that is not in the batch.
func (m *SQSMapping) failures(out []byte, batch []types.Message) (map[string]bool, bool) {
	failed := map[string]bool{}
	if !m.ReportBatchItemFailures || len(out) == 0 || string(out) == "null" {
		return failed, true
	}
	var resp events.SQSEventResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, false
	}
	ids := map[string]bool{}
	for _, msg := range batch {
		ids[aws.ToString(msg.MessageId)] = true
	}
	for _, f := range resp.BatchItemFailures {
		if !ids[f.ItemIdentifier] {
			return nil, false
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, true
}

func (m *SQSMapping) event(batch []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, msg := range batch {
		attrs := map[string]string{}
		for k, v := range msg.Attributes {
			attrs[k] = v
		}
		ev.Records[i] = events.SQSMessage{
			MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
			Body: aws.ToString(msg.Body), Md5OfBody: aws.ToString(msg.MD5OfBody), Attributes: attrs,
			EventSource: "aws:sqs", EventSourceARN: m.QueueARN, AWSRegion: "us-east-1",
		}
	}
	return ev
}

func (m *SQSMapping) count(f func(*MappingStats)) {
	m.mu.Lock()
	f(&m.stats)
	m.mu.Unlock()
}
