package tfmodule

import (
	"slices"
	"strings"
	"testing"
)

func TestContractProblems(t *testing.T) {
	redeliver := map[string]string{
		"PREFIX": "p", "RUNNER_NAME_PREFIX": "p-", "LOG_LEVEL": "info",
		"GITHUB_APP_ID_PARAMETER": "/p/app/id", "GITHUB_APP_KEY_PARAMETER": "/p/app/key", "GITHUB_API_URL": "",
		"REDELIVER_LOOKBACK": "1h", "REDELIVER_MAX_PER_PASS": "100", "GITHUB_POINTS_PER_MINUTE": "36",
	}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range redeliver {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	tests := []struct {
		name     string
		fn       string
		env      map[string]string
		optional []string
		want     []string // substrings, one per problem
	}{
		{name: "complete", fn: "redeliver", env: redeliver},
		{name: "a tunable left to its default", fn: "redeliver", env: with("REDELIVER_LOOKBACK", "-"), want: []string{"reads REDELIVER_LOOKBACK"}},
		{name: "a variable nobody reads", fn: "redeliver", env: with("DIST_BUCKET", "b"), want: []string{"sets DIST_BUCKET"}},
		{name: "a secret by value instead of name", fn: "redeliver", env: with("GITHUB_APP_ID_PARAMETER", "-", "GITHUB_APP_ID", "1")},
		{name: "a secret missing", fn: "redeliver", env: with("GITHUB_APP_KEY_PARAMETER", "-"), want: []string{"does not pass", "reads GITHUB_APP_KEY_PARAMETER", "reads GITHUB_APP_KEY,"}},
		{name: "an invalid value", fn: "redeliver", env: with("REDELIVER_LOOKBACK", "5s"), want: []string{"does not pass"}},
		{name: "an optional credential", fn: "syncer", env: map[string]string{
			"PREFIX": "p", "RUNNER_NAME_PREFIX": "p-", "LOG_LEVEL": "info", "DIST_BUCKET": "b", "RUNNER_VERSION": "latest",
			"RUNNER_TARGETS": "linux-x64", "RUNNER_REPOSITORY": "actions/runner", "GITHUB_API_URL": "",
		}, optional: []string{"GITHUB_TOKEN", "GITHUB_TOKEN_PARAMETER", "GITHUB_APP_ID", "GITHUB_APP_ID_PARAMETER"}},
		{name: "an unknown function", fn: "autoscaler", env: redeliver, want: []string{"no reader"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ContractProblems(tc.fn, tc.env, tc.optional)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d matching %q", got, len(tc.want), tc.want)
			}
			for _, w := range tc.want {
				if !slices.ContainsFunc(got, func(p string) bool { return strings.Contains(p+",", w) }) {
					t.Errorf("no problem mentions %q in %q", w, got)
				}
			}
		})
	}
}

func TestEveryReaderIsAFunction(t *testing.T) {
	for fn := range Readers {
		if _, err := ReadEnv(fn, map[string]string{}); err == nil {
			t.Errorf("%s: an empty environment passed validation; the reader reads nothing?", fn)
		}
	}
}
