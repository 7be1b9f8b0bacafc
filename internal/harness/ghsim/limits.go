package ghsim

import (
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Rate-limit answers, worded as GitHub words them.
const (
	msgSecondary = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID %s."
	docPrimary   = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
	docSecondary = "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
)

// limiter holds each identity's primary quota and each (identity, endpoint)'s secondary
// points in the last minute.
type limiter struct {
	mu        sync.Mutex
	quota     int
	points    int
	status    int
	now       func() time.Time
	primary   map[string]*quota
	secondary map[string][]spent
}

type quota struct {
	limit int
	used  int
	reset time.Time
}

type spent struct {
	at     time.Time
	points int
}

func newLimiter(o Options) *limiter {
	return &limiter{quota: o.RateLimit, points: o.SecondaryPoints, status: o.SecondaryStatus, now: o.Now,
		primary: map[string]*quota{}, secondary: map[string][]spent{}}
}

// SetRateLimit changes the hourly primary quota of every identity from now on (current
// windows keep their use); remaining may be lowered at once with ExhaustRateLimit.
func (s *Sim) SetRateLimit(perHour int) {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	s.limits.quota = perHour
	for k, q := range s.limits.primary {
		if k != "anonymous" {
			q.limit = perHour
		}
	}
}

// SetSecondaryLimit changes the per-endpoint points per minute (negative disables) and the
// answer status (403 or 429).
func (s *Sim) SetSecondaryLimit(pointsPerMinute, status int) {
	s.limits.mu.Lock()
	defer s.limits.mu.Unlock()
	s.limits.points, s.limits.status = pointsPerMinute, status
}

// bucket returns the identity's quota, opening a new window when the last one ended.
// Caller holds mu.
func (l *limiter) bucket(id identity, now time.Time) *quota {
	q, ok := l.primary[id.key]
	if !ok || !now.Before(q.reset) {
		limit := l.quota
		if id.kind == authAny {
			limit = anonymousRateLimit
		}
		q = &quota{limit: limit, reset: now.Add(rateLimitWindow).Truncate(time.Second)}
		l.primary[id.key] = q
	}
	return q
}

// limitAnswer is a rate-limit refusal.
type limitAnswer struct {
	secondary  bool
	status     int
	retryAfter int // seconds, secondary only
}

// admit charges one request to the identity's quotas, sets the primary headers, and returns
// a refusal when a limit is reached. free requests (GET /rate_limit) are never charged.
func (l *limiter) admit(h http.Header, id identity, endpoint, method string, free bool) *limitAnswer {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	q := l.bucket(id, now)
	defer func() { setRateHeaders(h, q) }()
	if free {
		return nil
	}
	if q.used >= q.limit {
		return &limitAnswer{status: http.StatusForbidden}
	}
	if l.points >= 0 {
		limit := l.points
		if id.app != nil && id.app.points > 0 {
			limit = id.app.points // an App with limits of its own (AddApp)
		}
		cost := getPoints
		if method != http.MethodGet && method != http.MethodHead {
			cost = mutationPoints
		}
		key := id.key + " " + endpoint
		window := l.secondary[key]
		cut := 0
		for cut < len(window) && !window[cut].at.After(now.Add(-secondaryWindow)) {
			cut++
		}
		window = window[cut:]
		sum := 0
		for _, sp := range window {
			sum += sp.points
		}
		if sum+cost > limit {
			// Wait until enough points leave the window.
			need, wait := sum+cost-limit, time.Duration(0)
			for _, sp := range window {
				need -= sp.points
				if need <= 0 {
					wait = sp.at.Add(secondaryWindow).Sub(now)
					break
				}
			}
			l.secondary[key] = window
			return &limitAnswer{secondary: true, status: l.status, retryAfter: max(1, int((wait+time.Second-1)/time.Second))}
		}
		l.secondary[key] = append(window, spent{at: now, points: cost})
	}
	q.used++
	return nil
}

func setRateHeaders(h http.Header, q *quota) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(q.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(q.limit-q.used, 0)))
	h.Set("X-RateLimit-Used", strconv.Itoa(q.used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(q.reset.Unix(), 10))
	h.Set("X-RateLimit-Resource", "core")
}

// snapshot returns an identity's quota for GET /rate_limit.
func (l *limiter) snapshot(id identity) quota {
	l.mu.Lock()
	defer l.mu.Unlock()
	return *l.bucket(id, l.now())
}

// primaryMessage is GitHub's 403 text for an exhausted quota.
func primaryMessage(id identity) string {
	switch id.kind {
	case authInstallation:
		return "API rate limit exceeded for installation ID " + strconv.FormatInt(id.inst.ID, 10) + "."
	case authApp:
		return "API rate limit exceeded for app."
	}
	return "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)"
}
