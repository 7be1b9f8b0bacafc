package githubapp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/ghr-dev/ghr/internal/config"
)

// Secondary-limit pacing. GitHub allows about 900 points per minute per endpoint (a GET costs
// 1, a mutation 5). We budget 80% of it so a burst plus clock skew never trips the limit.
const (
	pointsPerMinute = 720 // 80% of GitHub's 900
	burstPoints     = 180 // pointsPerMinute + burstPoints stays within 900 in any minute
	getPoints       = 1
	mutationPoints  = 5
	// burstShare: a budget's pacer keeps this fraction (1/burstShare) as burst and earns the
	// rest over the minute, the same 180:720 split as the default pacer.
	burstShare = 5
)

// maxRateLimitBody bounds how much of a 403 body is read to spot a secondary limit.
const maxRateLimitBody = 4 << 10

// Stats counts GitHub calls by endpoint and remembers the latest primary rate-limit headers.
// It is safe for concurrent use and shared by every client of one App.
type Stats struct {
	mu        sync.Mutex
	calls     map[string]int
	limited   map[string]int
	paced     map[string]int
	remaining int
	reset     time.Time
}

// NewStats returns empty stats.
func NewStats() *Stats {
	return &Stats{calls: map[string]int{}, limited: map[string]int{}, paced: map[string]int{}, remaining: -1}
}

// Calls returns a copy of the call counts by endpoint.
func (s *Stats) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// Total returns the number of calls made.
func (s *Stats) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		n += c
	}
	return n
}

// RateLimited returns how many answers were rate limits, by endpoint.
func (s *Stats) RateLimited() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.limited)
}

// PacingWaits returns how many requests our pacer delayed or refused, by endpoint.
func (s *Stats) PacingWaits() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.paced)
}

// RemainingQuota returns the last observed primary quota, -1 before any answer.
func (s *Stats) RemainingQuota() int {
	r, _ := s.Remaining()
	return r
}

func (s *Stats) observePacing(endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.paced[endpoint]++
}

// Remaining returns the last observed primary quota (-1 before any answer) and its reset time.
func (s *Stats) Remaining() (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.remaining, s.reset
}

// Endpoints returns the endpoints called, sorted.
func (s *Stats) Endpoints() []string {
	return slices.Sorted(maps.Keys(s.Calls()))
}

func (s *Stats) observe(endpoint string, h http.Header, limited bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[endpoint]++
	if limited {
		s.limited[endpoint]++
	}
	if h == nil {
		return
	}
	if r, err := strconv.Atoi(h.Get("X-Ratelimit-Remaining")); err == nil {
		s.remaining = r
		if reset, err := strconv.ParseInt(h.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			s.reset = time.Unix(reset, 0)
		}
	}
}

// Pacer holds one token bucket per endpoint.
type Pacer struct {
	mu       sync.Mutex
	limiters map[string]*rate.Limiter
	perMin   int
	burst    int
	now      func() time.Time
	sleep    func(ctx context.Context, d time.Duration) error
}

// NewPacer paces each endpoint to perMinute points with the given burst.
func NewPacer(perMinute, burst int) *Pacer {
	return &Pacer{limiters: map[string]*rate.Limiter{}, perMin: perMinute, burst: burst, now: time.Now, sleep: sleepCtx}
}

// DefaultPacer stays under GitHub's secondary limits.
func DefaultPacer() *Pacer { return NewPacer(pointsPerMinute, burstPoints) }

// NewBudgetPacer paces each endpoint so that this pacer never spends more than
// pointsPerMinute in any 60 s window, burst included: a fifth is burst (at least one
// mutation) and the rest refills over the minute. Containers whose budgets add up to the
// deployment's budget therefore stay within it together. NewBudgetPacer(900) is DefaultPacer.
// A budget below config.MinGitHubPointsPerMinute (10) is raised to it: less could never
// send a mutation.
func NewBudgetPacer(pointsPerMinute int) *Pacer {
	pointsPerMinute = max(pointsPerMinute, config.MinGitHubPointsPerMinute)
	burst := max(pointsPerMinute/burstShare, mutationPoints)
	return NewPacer(max(pointsPerMinute-burst, 1), burst)
}

// WithClock makes the pacer read the time from now and wait with sleep, so tests can run
// minutes of pacing on a fake clock. It returns p.
func (p *Pacer) WithClock(now func() time.Time, sleep func(ctx context.Context, d time.Duration) error) *Pacer {
	p.now, p.sleep = now, sleep
	return p
}

func (p *Pacer) limiter(endpoint string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.limiters[endpoint]
	if !ok {
		l = rate.NewLimiter(rate.Limit(float64(p.perMin)/60), p.burst)
		p.limiters[endpoint] = l
	}
	return l
}

// wait takes cost points from endpoint's bucket, sleeping until they are earned. A wait that
// would outlast ctx's deadline is refused at once as a *RateLimitError, so the caller backs
// off as it would from GitHub's own secondary limit instead of sleeping into its timeout.
// It reports whether the call had to wait (or was refused for waiting).
func (p *Pacer) wait(ctx context.Context, endpoint string, cost int) (bool, error) {
	l := p.limiter(endpoint)
	now := p.now()
	r := l.ReserveN(now, cost)
	if !r.OK() {
		return false, fmt.Errorf("github pacing: %d points exceed the burst of %d on %s", cost, l.Burst(), endpoint)
	}
	d := r.DelayFrom(now)
	if d <= 0 {
		return false, nil
	}
	// The deadline is on the real clock whatever clock the pacer reads.
	if deadline, ok := ctx.Deadline(); ok && d > time.Until(deadline) {
		r.CancelAt(now)
		return true, &RateLimitError{Endpoint: endpoint, Secondary: true, Wait: d, Paced: true}
	}
	if err := p.sleep(ctx, d); err != nil {
		r.CancelAt(p.now())
		return true, err
	}
	return true, nil
}

// Delay is how long a call of cost points on endpoint would wait for this pacer's budget
// if it were sent now (0: at once). It reserves nothing.
func (p *Pacer) Delay(endpoint string, cost int) time.Duration {
	l := p.limiter(endpoint)
	now := p.now()
	short := float64(cost) - l.TokensAt(now)
	if short <= 0 {
		return 0
	}
	return time.Duration(short / float64(l.Limit()) * float64(time.Second))
}

// requestCost is a request's secondary-limit points: GitHub charges a mutation five.
func requestCost(method string) int {
	if method != http.MethodGet && method != http.MethodHead {
		return mutationPoints
	}
	return getPoints
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Transport counts, paces and classifies every GitHub request. A rate-limit answer becomes a
// *RateLimitError so callers see the wait instead of a bare 403.
type Transport struct {
	Base     http.RoundTripper
	Stats    *Stats
	Pacer    *Pacer // nil disables pacing
	BasePath string // API path prefix, e.g. "/api/v3"
	Now      func() time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint := Endpoint(req.Method, req.URL.Path, t.BasePath)
	if t.Pacer != nil {
		waited, err := t.Pacer.wait(req.Context(), endpoint, requestCost(req.Method))
		if waited {
			t.Stats.observePacing(endpoint)
		}
		if err != nil {
			return nil, err
		}
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	resp, err := base.RoundTrip(req)
	if err != nil {
		t.Stats.observe(endpoint, nil, false)
		return nil, err
	}
	if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusTooManyRequests {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxRateLimitBody))
		resp.Body.Close()
		now := time.Now
		if t.Now != nil {
			now = t.Now
		}
		if rl := rateLimitFrom(resp, body, endpoint, now()); rl != nil {
			t.Stats.observe(endpoint, resp.Header, true)
			return nil, rl
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	t.Stats.observe(endpoint, resp.Header, false)
	return resp, nil
}
