package githubapp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"
)

// defaultSecondaryWait is GitHub's documented minimum back-off after a secondary limit answer
// that carries no Retry-After.
const defaultSecondaryWait = time.Minute

// RateLimitError is GitHub saying "slow down": a primary limit (quota used up until Reset) or
// a secondary limit (too many requests too fast). Wait is how long to hold off.
type RateLimitError struct {
	Endpoint  string
	Status    int
	Secondary bool
	Wait      time.Duration
	// Paced: our own pacer refused the call (no request was sent) because the wait for this
	// container's budget would outlast the caller's deadline.
	Paced bool
}

func (e *RateLimitError) Error() string {
	if e.Paced {
		return fmt.Sprintf("github pacing on %s: this container's budget allows the call in %s, past the deadline", e.Endpoint, e.Wait.Round(time.Second))
	}
	kind := "primary"
	if e.Secondary {
		kind = "secondary"
	}
	return fmt.Sprintf("github %s rate limit on %s (HTTP %d): retry in %s", kind, e.Endpoint, e.Status, e.Wait.Round(time.Second))
}

// RateLimitWait reports whether err is a rate limit and how long to wait. It understands our
// transport's error and the ones go-github raises from its own bookkeeping.
func RateLimitWait(err error) (time.Duration, bool) {
	var ours *RateLimitError
	if errors.As(err, &ours) {
		return ours.Wait, true
	}
	var primary *github.RateLimitError
	if errors.As(err, &primary) {
		return max(time.Until(primary.Rate.Reset.Time), 0), true
	}
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &abuse) {
		if abuse.RetryAfter != nil {
			return *abuse.RetryAfter, true
		}
		return defaultSecondaryWait, true
	}
	return 0, false
}

// rateLimitFrom classifies a 403/429 answer. body holds at most the first bytes of the answer.
func rateLimitFrom(resp *http.Response, body []byte, endpoint string, now time.Time) *RateLimitError {
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusTooManyRequests {
		return nil
	}
	e := &RateLimitError{Endpoint: endpoint, Status: resp.StatusCode}
	if s := resp.Header.Get("Retry-After"); s != "" {
		if secs, err := strconv.Atoi(s); err == nil && secs >= 0 {
			e.Secondary, e.Wait = true, time.Duration(secs)*time.Second
			return e
		}
	}
	if resp.Header.Get("X-Ratelimit-Remaining") == "0" {
		if reset, err := strconv.ParseInt(resp.Header.Get("X-Ratelimit-Reset"), 10, 64); err == nil {
			e.Wait = max(time.Unix(reset, 0).Sub(now), 0)
			return e
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests || strings.Contains(strings.ToLower(string(body)), "secondary rate limit") {
		e.Secondary, e.Wait = true, defaultSecondaryWait
		return e
	}
	return nil // an ordinary permission error
}
