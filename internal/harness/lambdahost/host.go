// Package lambdahost runs ghr's real Lambda binaries on one machine: it plays the Lambda
// Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for each
// execution environment, keeps warm environments for reuse, starts new ones up to a
// concurrency limit, and enforces timeouts. Event sources (HTTP API, SQS, schedules) are
// wired in this package's other files the way AWS wires them.
package lambdahost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"
)

// Defaults mirror Lambda's own.
const (
	DefaultTimeout     = 3 * time.Second // Lambda's default function timeout
	DefaultMemoryMB    = 128
	DefaultConcurrency = 10
	// initTimeout bounds an environment's start (process start to its first "next" call);
	// Lambda allows 10 s of init.
	initTimeout = 10 * time.Second
)

// Function describes one deployed function.
type Function struct {
	Name        string
	Path        string            // the `bootstrap` executable
	Args        []string          // extra arguments (tests re-exec themselves)
	Env         map[string]string // the function's environment variables
	Timeout     time.Duration
	MemoryMB    int
	Concurrency int // reserved concurrency (or the account's): most invocations at once
	// Processes caps the environments this machine runs at once (default Concurrency):
	// invocations within Concurrency but beyond it wait for an environment instead of being
	// throttled, so the sandbox refuses exactly what Lambda would, only later.
	Processes int
	Logs      io.Writer // the functions' stdout and stderr (CloudWatch Logs' role)
	// CrashRate is the share of invocations whose process is killed mid-invocation (fault
	// injection: the runtime dies after taking the event, as an out-of-memory kill would).
	CrashRate float64
	Seed      uint64
}

// FunctionError is an invocation that failed inside the function: the handler returned an
// error, the runtime crashed, or it timed out.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// ErrThrottled is returned when every environment is busy and the concurrency limit is
// reached; Lambda answers TooManyRequestsException.
var ErrThrottled = errors.New("lambdahost: concurrency limit reached")

// Stats describes a function's environments and invocations.
type Stats struct {
	Invocations int
	Errors      int
	Throttles   int
	Crashes     int             // injected by CrashRate
	ColdStarts  []time.Duration // process start to first response, one per environment
	PeakRSSKB   int64           // largest resident set of any environment
}

// Host runs one function's environments.
type Host struct {
	fn  Function
	rng *rand.Rand

	slots chan struct{} // one per process allowed to run

	mu     sync.Mutex
	idle   []*env
	active int // invocations in flight, waiting for a process or running
	closed bool
	stats  Stats
}

// New returns a host for fn. No process starts until the first invocation.
func New(fn Function) *Host {
	if fn.Timeout <= 0 {
		fn.Timeout = DefaultTimeout
	}
	if fn.MemoryMB <= 0 {
		fn.MemoryMB = DefaultMemoryMB
	}
	if fn.Concurrency <= 0 {
		fn.Concurrency = DefaultConcurrency
	}
	if fn.Processes <= 0 || fn.Processes > fn.Concurrency {
		fn.Processes = fn.Concurrency
	}
	if fn.Logs == nil {
		fn.Logs = os.Stderr
	}
	return &Host{fn: fn, rng: rand.New(rand.NewPCG(fn.Seed, fn.Seed^0x5bd1e995)), slots: make(chan struct{}, fn.Processes)}
}

// SetCrashRate changes the injected crash rate for later invocations.
func (h *Host) SetCrashRate(rate float64) {
	h.mu.Lock()
	h.fn.CrashRate = rate
	h.mu.Unlock()
}

// crashAfter decides whether to kill this invocation and when.
func (h *Host) crashAfter() (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fn.CrashRate <= 0 || h.rng.Float64() >= h.fn.CrashRate {
		return 0, false
	}
	h.stats.Crashes++
	return time.Duration(h.rng.IntN(50)) * time.Millisecond, true
}

// Name returns the function's name.
func (h *Host) Name() string { return h.fn.Name }

// Invoke runs one invocation synchronously and returns the function's response payload.
func (h *Host) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	crashIn, crash := h.crashAfter()
	for {
		e, err := h.acquire(ctx)
		if err != nil {
			return nil, err
		}
		out, err := e.invoke(ctx, payload, h.fn.Timeout, crashIn, crash)
		if errors.Is(err, errNotDelivered) {
			h.discard(e)
			continue
		}
		h.release(e, err)
		return out, err
	}
}

func (h *Host) discard(e *env) {
	h.mu.Lock()
	h.active--
	h.mu.Unlock()
	<-h.slots
	e.stop()
}

// acquire admits an invocation within the function's concurrency (else ErrThrottled, as
// Lambda answers at once), then waits for one of this machine's processes.
func (h *Host) acquire(ctx context.Context) (*env, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, errors.New("lambdahost: host closed")
	}
	if h.active >= h.fn.Concurrency {
		h.stats.Throttles++
		h.mu.Unlock()
		return nil, ErrThrottled
	}
	h.active++
	h.mu.Unlock()
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		h.mu.Lock()
		h.active--
		h.mu.Unlock()
		return nil, ctx.Err()
	}
	h.mu.Lock()
	if n := len(h.idle); n > 0 {
		e := h.idle[n-1] // most recently used first, as Lambda tends to
		h.idle = h.idle[:n-1]
		h.mu.Unlock()
		return e, nil
	}
	h.mu.Unlock()
	e, err := startEnv(ctx, &h.fn)
	if err != nil {
		h.mu.Lock()
		h.active--
		h.stats.Errors++
		h.mu.Unlock()
		<-h.slots
		return nil, err
	}
	return e, nil
}

func (h *Host) release(e *env, err error) {
	defer func() { <-h.slots }()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.active--
	h.stats.Invocations++
	if err != nil {
		h.stats.Errors++
	}
	if d, ok := e.takeColdStart(); ok {
		h.stats.ColdStarts = append(h.stats.ColdStarts, d)
	}
	if rss := e.peakRSS(); rss > h.stats.PeakRSSKB {
		h.stats.PeakRSSKB = rss
	}
	if e.alive() && !h.closed {
		h.idle = append(h.idle, e)
		return
	}
	e.stop()
}

// Stats returns a snapshot.
func (h *Host) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.stats
	s.ColdStarts = slices.Clone(s.ColdStarts)
	return s
}

// Close stops every idle environment; busy ones stop when their invocation ends.
func (h *Host) Close() {
	h.mu.Lock()
	h.closed = true
	idle := h.idle
	h.idle = nil
	h.mu.Unlock()
	for _, e := range idle {
		e.stop()
	}
}

func fnError(typ, format string, args ...any) *FunctionError {
	return &FunctionError{Type: typ, Message: fmt.Sprintf(format, args...)}
}
