package ghsim

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// RunnerConn is a connected runner process, held by a simulated host.
type RunnerConn struct {
	s        *Sim
	id       int64
	name     string
	assigned chan int64
	gone     chan struct{}
	ended    bool // guarded by s.mu
}

// ID is the runner's registration id.
func (c *RunnerConn) ID() int64 { return c.id }

// Name is the runner's name.
func (c *RunnerConn) Name() string { return c.name }

// Gone is closed when the connection ends (see ErrRunnerGone).
func (c *RunnerConn) Gone() <-chan struct{} { return c.gone }

// end closes the connection. Caller holds mu.
func (c *RunnerConn) end() {
	if !c.ended {
		c.ended = true
		close(c.gone)
	}
}

// offer hands the runner its job. Caller holds s.mu; the runner is idle, so at most a stale
// assignment is buffered, and it is replaced.
func (c *RunnerConn) offer(jobID int64) {
	c.drain()
	c.assigned <- jobID
}

func (c *RunnerConn) drain() {
	select {
	case <-c.assigned:
	default:
	}
}

// NextJob waits for the job GitHub assigns this runner (the job is then in_progress).
func (c *RunnerConn) NextJob(ctx context.Context) (Job, error) {
	select {
	case id := <-c.assigned:
		c.s.mu.Lock()
		defer c.s.mu.Unlock()
		return c.s.jobs[id].snapshot(), nil
	case <-c.gone:
		return Job{}, ErrRunnerGone
	case <-ctx.Done():
		return Job{}, fmt.Errorf("ghsim: wait for a job: %w", ctx.Err())
	}
}

// Complete reports the current job finished with conclusion ("success", "failure"...). An
// ephemeral runner's registration is then removed and the connection ends.
func (c *RunnerConn) Complete(conclusion string) error {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[c.id]
	if !ok || c.ended {
		return ErrRunnerGone
	}
	if !r.busy {
		return errors.New("ghsim: runner has no job to complete")
	}
	s.finishJob(s.jobs[r.jobID], conclusion)
	c.drain() // the host may complete without having read the assignment
	if r.ephemeral {
		s.removeRunner(r.id)
		return nil
	}
	r.lastSeen = s.now()
	s.makeIdle(r)
	return nil
}

// Disconnect stops the runner process: the registration stays, offline. A busy runner's job
// is lost as with Interrupt.
func (c *RunnerConn) Disconnect() { c.drop() }

// Interrupt is a spot interruption: the host vanishes mid-job. The registration goes
// offline; after Options.LostRunnerTimeout the job fails (and is re-run with
// Options.RetryLostJobs).
func (c *RunnerConn) Interrupt() { c.drop() }

func (c *RunnerConn) drop() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runners[c.id]
	if !ok || c.ended {
		return
	}
	c.end()
	r.online, r.lastSeen = false, s.now()
	c.drain() // an assignment not yet read is lost with the runner
	if !r.busy {
		return
	}
	jobID, runnerID := r.jobID, r.id
	r.busy = false
	lose := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.loseJob(jobID, runnerID)
	}
	if s.opts.LostRunnerTimeout <= 0 {
		s.loseJob(jobID, runnerID)
		return
	}
	// GitHub keeps the job in progress until it gives up on the runner.
	r.busy = true
	time.AfterFunc(s.opts.LostRunnerTimeout, lose)
}

// RunJobs plays the runner process: it takes jobs, runs each for its Duration through wait
// (a host's clock, possibly sped up), and completes it with success, until the connection
// ends (an ephemeral runner ends after one job) or ctx is done. It returns the jobs it ran;
// a nil error means the connection ended normally.
func (c *RunnerConn) RunJobs(ctx context.Context, wait func(context.Context, time.Duration) error) (int, error) {
	n := 0
	for {
		j, err := c.NextJob(ctx)
		if errors.Is(err, ErrRunnerGone) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if err := wait(ctx, j.Duration); err != nil {
			return n, err
		}
		if err := c.Complete(ConclusionSuccess); errors.Is(err, ErrRunnerGone) {
			return n, nil // interrupted or removed while running
		} else if err != nil {
			return n, err
		}
		n++
	}
}

// Sleep waits d or until ctx is done: RunJobs' wait in real time.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
