package webhook

import (
	"strings"

	"github.com/ghr-dev/ghr/internal/config"
)

// Match returns the first runner config (configs are sorted by priority) whose labels fit the
// job's, or nil. Comparison is case-insensitive and allocates nothing. A job without labels
// never matches: it would otherwise fit every "subset" config by vacuous truth.
func Match(cfgs []config.RunnerConfig, jobLabels []string) *config.RunnerConfig {
	if len(jobLabels) == 0 {
		return nil
	}
	for i := range cfgs {
		if matches(&cfgs[i], jobLabels) {
			return &cfgs[i]
		}
	}
	return nil
}

func matches(c *config.RunnerConfig, job []string) bool {
	have := c.LowerLabels()
	switch c.Match {
	case config.MatchAny:
		for _, l := range job {
			if containsFold(have, l) {
				return true
			}
		}
		return false
	case config.MatchExact:
		for _, l := range have {
			if !containsFold(job, l) {
				return false
			}
		}
		fallthrough // and every job label must be one of the config's
	default: // config.MatchSubset
		for _, l := range job {
			if !containsFold(have, l) {
				return false
			}
		}
		return true
	}
}

// containsFold trims both sides: exact mode looks up config labels in the job's labels,
// which arrive untrimmed.
func containsFold(set []string, s string) bool {
	s = strings.TrimSpace(s)
	for _, x := range set {
		if strings.EqualFold(strings.TrimSpace(x), s) {
			return true
		}
	}
	return false
}

// Allowlist admits repositories by "owner/repo" or "owner/*", case-insensitively. An empty
// list admits every repository the App is installed on.
type Allowlist struct {
	repos  map[string]struct{}
	owners map[string]struct{}
}

// NewAllowlist builds an allow-list from entries.
func NewAllowlist(entries []string) Allowlist {
	a := Allowlist{}
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		if owner, ok := strings.CutSuffix(e, "/*"); ok {
			if a.owners == nil {
				a.owners = map[string]struct{}{}
			}
			a.owners[owner] = struct{}{}
			continue
		}
		if a.repos == nil {
			a.repos = map[string]struct{}{}
		}
		a.repos[e] = struct{}{}
	}
	return a
}

// Allows reports whether fullName ("owner/repo") may use ghr's runners.
func (a Allowlist) Allows(fullName string) bool {
	if a.repos == nil && a.owners == nil {
		return true
	}
	lower := strings.ToLower(fullName)
	if _, ok := a.repos[lower]; ok {
		return true
	}
	owner, _, _ := strings.Cut(lower, "/")
	_, ok := a.owners[owner]
	return ok
}
