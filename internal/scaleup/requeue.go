package scaleup

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/queue"
)

// Requeue limits.
const (
	// requeueBase is the first wait of a job that cannot be served yet: short, because a
	// runner slot can free up at any moment, and doubling keeps a long wait cheap (a job
	// waiting ten minutes costs about 14 sends).
	requeueBase = 5 * time.Second
	// requeueMax caps the doubling wait, so a freed runner slot is used within a minute.
	requeueMax = time.Minute
	// jobQueueLimit: GitHub cancels a job no self-hosted runner started within 24 hours, so
	// requeuing it for longer would cycle for nothing.
	jobQueueLimit = 24 * time.Hour
	// maxFunctionTimeout is Lambda's longest timeout: the in-flight window of a launch
	// whose invocation had no deadline or did not record it.
	maxFunctionTimeout = 15 * time.Minute
)

// Requeuer sends a message to a queue, invisible for delay.
type Requeuer interface {
	SendDelayed(ctx context.Context, queueURL string, body []byte, delay time.Duration) error
}

var _ Requeuer = queue.SQSSender{}

// RequeueDelay is how long a job waits after its nth requeue (n from 1): doubling from
// requeueBase up to requeueMax.
func RequeueDelay(n int) time.Duration {
	d := requeueBase
	for i := 1; i < n && d < requeueMax; i++ {
		d *= 2
	}
	return min(d, requeueMax)
}

// requeue sends every over-cap or deferred job back to its queue as a new message with a
// delay, and acknowledges the original. Waiting by redelivery instead would spend the
// message's receive count, so a backlog longer than max_receive_count visibility timeouts
// would end in the dead-letter queue with its jobs never run. A job whose send fails keeps
// its retry verdict: SQS redelivers the original. Jobs older than GitHub's queue limit are
// dropped, logged at error level.
func (h *Handler) requeue(ctx context.Context, msgs []Message, verdicts map[string]Verdict) {
	if h.Requeue == nil {
		return
	}
	now := h.Launcher.now()
	var wg sync.WaitGroup
	sent := make([]bool, len(msgs)) // one element per send, read after wg.Wait: the verdicts map stays single-writer
	for i, m := range msgs {
		if v := verdicts[m.ID]; v != OverCap && v != Deferred {
			continue
		}
		if now.Sub(m.Job.QueuedAt) > jobQueueLimit {
			verdicts[m.ID] = Expired
			h.Logger.Error("job dropped: queued longer than GitHub keeps a job", logging.KeyJobID, m.Job.JobID,
				logging.KeyRunnerConfig, m.Job.RunnerConfig, "queued_at", m.Job.QueuedAt)
			continue
		}
		wg.Go(func() {
			job := m.Job
			job.Requeues++
			body, err := json.Marshal(&job)
			if err == nil {
				err = h.Requeue.SendDelayed(ctx, h.Configs[job.RunnerConfig].QueueURL, body, RequeueDelay(job.Requeues))
			}
			if err != nil {
				h.Logger.Warn("requeue failed, retrying the message", logging.KeyJobID, job.JobID, logging.KeyError, err.Error())
				return
			}
			sent[i] = true
		})
	}
	wg.Wait()
	for i, m := range msgs {
		if sent[i] {
			verdicts[m.ID] = Requeued
		}
	}
}
