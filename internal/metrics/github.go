package metrics

import "maps"

// GitHubStats is the call accounting of a GitHub App's clients (githubapp.Stats): running
// totals by endpoint, and the last primary quota GitHub reported (-1 before any answer).
type GitHubStats interface {
	Calls() map[string]int
	RateLimited() map[string]int
	PacingWaits() map[string]int
	RemainingQuota() int
}

// gitHubTracker turns running totals into per-invocation counts.
type gitHubTracker struct {
	src                   GitHubStats
	calls, limited, paced map[string]int
}

// TrackGitHub makes every Flush record the GitHub calls, rate-limit answers and pacing waits
// made since the previous one, and the quota remaining when any call was made.
func (r *Recorder) TrackGitHub(s GitHubStats) {
	if r == nil || s == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.github = &gitHubTracker{src: s, calls: s.Calls(), limited: s.RateLimited(), paced: s.PacingWaits()}
}

// collect records the deltas; r.mu is held.
func (t *gitHubTracker) collect(r *Recorder) {
	calls, limited, paced := t.src.Calls(), t.src.RateLimited(), t.src.PacingWaits()
	made := false
	for _, d := range []struct {
		m         Metric
		now, last map[string]int
	}{{GitHubCalls, calls, t.calls}, {GitHubRateLimited, limited, t.limited}, {GitHubPacingWaits, paced, t.paced}} {
		for ep, n := range d.now {
			if delta := n - d.last[ep]; delta > 0 {
				r.seriesFor(d.m, []string{ep}).sums[d.m.Name] += float64(delta)
				made = made || d.m.Name == GitHubCalls.Name
			}
		}
	}
	if rem := t.src.RemainingQuota(); made && rem >= 0 {
		s := r.seriesFor(GitHubRateLimitRemaining, nil)
		s.obs[GitHubRateLimitRemaining.Name] = append(s.obs[GitHubRateLimitRemaining.Name], float64(rem))
	}
	t.calls, t.limited, t.paced = maps.Clone(calls), maps.Clone(limited), maps.Clone(paced)
}
