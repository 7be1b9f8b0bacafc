package ops

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/queue"
)

// Redrive limits.
const (
	// redriveVisibility hides a message while it is moved; a crash returns it to the DLQ.
	redriveVisibility = 60
	// redriveBatch is SQS' most messages per receive.
	redriveBatch = 10
)

// JobQueued asks GitHub whether a job still waits for a runner.
type JobQueued func(ctx context.Context, job queue.Job) (bool, error)

// Redriven is what Redrive did (or, dry, would do) with one dead letter.
type Redriven struct {
	Queue  string `json:"queue"` // the dead-letter queue
	Target string `json:"target"`
	JobID  int64  `json:"job_id,omitempty"`
	Action string `json:"action"` // moved, dropped (GitHub no longer queues it), kept (undecodable or unknown state)
	Reason string `json:"reason,omitempty"`
}

// Redrive moves every dead letter of the build queues back to its build queue, dropping jobs
// GitHub no longer queues (a runner launched for them would find no job); dry runs change
// nothing (what they look at is hidden from other readers for the moments the run takes).
// Messages it cannot decode, or whose job state GitHub cannot tell, stay where they are.
func (d *Deployment) Redrive(ctx context.Context, dry bool, queued JobQueued) ([]Redriven, error) {
	qs, err := d.Queues(ctx)
	if err != nil {
		return nil, err
	}
	target := map[string]string{}
	for _, q := range qs {
		if q.Kind == KindBuild && !q.DLQ {
			target[q.Config] = q.URL
		}
	}
	var out []Redriven
	for _, q := range qs {
		if !q.DLQ || q.Kind != KindBuild || target[q.Config] == "" {
			continue
		}
		rs, err := d.redriveQueue(ctx, q, target[q.Config], dry, queued)
		out = append(out, rs...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

func (d *Deployment) redriveQueue(ctx context.Context, q Queue, to string, dry bool, queued JobQueued) ([]Redriven, error) {
	var out []Redriven
	var held []*string // receipt handles of messages left in the DLQ, shown again at the end
	defer func() {
		for _, h := range held {
			// Best effort: a message not released shows again after redriveVisibility anyway.
			_, _ = d.SQS.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(q.URL), ReceiptHandle: h, VisibilityTimeout: 0})
		}
	}()
	seen := map[string]bool{}
	visibility := int32(redriveVisibility)
	for {
		page, err := d.SQS.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(q.URL), MaxNumberOfMessages: redriveBatch, VisibilityTimeout: visibility})
		if err != nil {
			return out, fmt.Errorf("receive from %s: %w", q.Name, err)
		}
		fresh := 0
		for _, m := range page.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue
			}
			seen[id], fresh = true, fresh+1
			r := Redriven{Queue: q.Name, Target: to}
			job, err := queue.DecodeJob([]byte(aws.ToString(m.Body)))
			if err != nil {
				r.Action, r.Reason = "kept", err.Error()
				out = append(out, r)
				held = append(held, m.ReceiptHandle)
				continue
			}
			r.JobID = job.JobID
			waiting, err := queued(ctx, job)
			switch {
			case err != nil:
				r.Action, r.Reason = "kept", "job state unknown: "+err.Error()
			case !waiting:
				r.Action, r.Reason = "dropped", "GitHub no longer queues the job"
			default:
				r.Action = "moved"
			}
			if dry || r.Action == "kept" {
				held = append(held, m.ReceiptHandle)
			}
			if !dry && r.Action != "kept" {
				if r.Action == "moved" {
					if _, err := d.SQS.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(to), MessageBody: m.Body}); err != nil {
						return out, fmt.Errorf("send job %d to %s: %w", job.JobID, to, err)
					}
				}
				if _, err := d.SQS.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.URL), ReceiptHandle: m.ReceiptHandle}); err != nil {
					return out, fmt.Errorf("delete job %d from %s: %w", job.JobID, q.Name, err)
				}
			}
			out = append(out, r)
		}
		if len(page.Messages) == 0 || fresh == 0 {
			return out, nil
		}
	}
}
