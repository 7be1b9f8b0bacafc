package webhook

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
)

var matchModes = [...]string{config.MatchSubset, config.MatchExact, config.MatchAny}

// splitLabels turns a fuzz string into a label list: "" is no labels at all, otherwise
// comma-separated items (so "," is two empty labels).
func splitLabels(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// refNorm is the reference's notion of a label: trimmed; configs also lower-cased, as
// ParseRunnerConfigs normalises them (which matters for exactly one rune, U+0130 'İ',
// whose lower case 'i' lies outside its case-fold orbit).
func refNorm(s string, isConfig bool) string {
	s = strings.TrimSpace(s)
	if isConfig {
		s = strings.ToLower(s)
	}
	return s
}

func refIn(label string, set []string) bool {
	for _, x := range set {
		if strings.EqualFold(refNorm(x, true), refNorm(label, false)) {
			return true
		}
	}
	return false
}

// refMatches is the documented rule, written the obvious way: subset means every job label
// is a config label; exact means subset both ways; any means one label in common.
func refMatches(c config.RunnerConfig, job []string) bool {
	if len(job) == 0 {
		return false
	}
	jobInCfg, cfgInJob, common := true, true, false
	for _, l := range job {
		if refIn(l, c.Labels) {
			common = true
		} else {
			jobInCfg = false
		}
	}
	for _, l := range c.Labels {
		found := false
		for _, j := range job {
			if strings.EqualFold(refNorm(l, true), refNorm(j, false)) {
				found = true
			}
		}
		cfgInJob = cfgInJob && found
	}
	switch c.Match {
	case config.MatchExact:
		return jobInCfg && cfgInJob
	case config.MatchAny:
		return common
	default:
		return jobInCfg
	}
}

// FuzzMatch checks Match against refMatches over two parsed configs of any modes and
// priorities and any job labels: it never panics, it picks the first config in priority
// order that the reference accepts, and what it picks satisfies its mode's definition.
func FuzzMatch(f *testing.F) {
	f.Add("self-hosted,linux,x64", uint8(0), int8(1), "self-hosted,k8s", uint8(1), int8(2), "self-hosted,LINUX")
	f.Add("self-hosted,linux,x64", uint8(1), int8(1), "gpu,cuda", uint8(2), int8(1), "X64,linux,Self-Hosted,linux")
	f.Add("self-hosted,linux", uint8(1), int8(0), "linux", uint8(0), int8(0), "self-hosted")
	f.Add("gpu,cuda", uint8(2), int8(-3), "a", uint8(0), int8(9), "ubuntu, CUDA ")
	f.Add("linux", uint8(0), int8(0), "linux", uint8(0), int8(0), "")
	f.Add("linux", uint8(0), int8(0), "linux", uint8(2), int8(0), ",")
	f.Add("İ", uint8(1), int8(0), "K", uint8(0), int8(0), "i,k")
	f.Add("ſelf", uint8(0), int8(0), "straße", uint8(0), int8(0), "SELF,STRASSE")
	// Found by the fuzzer: exact mode compared config labels with untrimmed job labels.
	f.Add("0,0", uint8(0), int8(1), "0,0", uint8(1), int8(-67), "0 ")
	f.Fuzz(func(t *testing.T, labelsA string, modeA uint8, prioA int8, labelsB string, modeB uint8, prioB int8, jobLabels string) {
		raw, err := json.Marshal([]map[string]any{
			{"key": "a", "labels": splitLabels(labelsA), "match": matchModes[int(modeA)%len(matchModes)], "priority": prioA, "queue_url": "qa"},
			{"key": "b", "labels": splitLabels(labelsB), "match": matchModes[int(modeB)%len(matchModes)], "priority": prioB, "queue_url": "qb"},
		})
		if err != nil {
			t.Fatal(err)
		}
		cfgs, err := config.ParseRunnerConfigs(raw)
		if err != nil {
			return // configs the parser refuses never reach Match
		}
		job := splitLabels(jobLabels)
		got := Match(cfgs, job)

		want := -1
		for i := range cfgs {
			if refMatches(cfgs[i], job) {
				want = i
				break
			}
		}
		switch {
		case want < 0 && got != nil:
			t.Fatalf("Match(%q) = %q, reference matches nothing", job, got.Key)
		case want >= 0 && got != &cfgs[want]:
			t.Fatalf("Match(%q) = %v, reference picks %q (%s %q)", job, got, cfgs[want].Key, cfgs[want].Match, cfgs[want].Labels)
		case got == nil:
			return
		}
		if len(job) == 0 {
			t.Fatalf("a job without labels matched %q", got.Key)
		}
		// The definitions themselves, independent of refMatches's structure.
		jobInCfg := everyIn(job, got.Labels)
		cfgInJob := everyIn(got.Labels, job)
		switch got.Match {
		case config.MatchSubset:
			if !jobInCfg {
				t.Fatalf("subset match %q: some job label of %q is not a config label", got.Labels, job)
			}
		case config.MatchExact:
			if !jobInCfg || !cfgInJob {
				t.Fatalf("exact match %q: label sets differ from %q", got.Labels, job)
			}
		case config.MatchAny:
			if !anyIn(job, got.Labels) {
				t.Fatalf("any match %q: no label in common with %q", got.Labels, job)
			}
		}
	})
}

func everyIn(xs, set []string) bool {
	for _, x := range xs {
		if !anyIn([]string{x}, set) {
			return false
		}
	}
	return true
}

// anyIn compares the way a reader of the docs would: trimmed, lower-cased, equal.
func anyIn(xs, set []string) bool {
	for _, x := range xs {
		for _, s := range set {
			if strings.EqualFold(refNorm(x, true), refNorm(s, true)) {
				return true
			}
		}
	}
	return false
}
