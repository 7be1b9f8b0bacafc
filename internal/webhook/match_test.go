package webhook

import (
	"encoding/json"
	"testing"

	"github.com/ghr-dev/ghr/internal/config"
)

func TestMatchMatrix(t *testing.T) {
	cfg := func(key, mode string, prio int, labels ...string) config.RunnerConfig {
		return config.RunnerConfig{Key: key, Labels: labels, Match: mode, Priority: prio, QueueURL: "q-" + key}
	}
	parse := func(cs ...config.RunnerConfig) []config.RunnerConfig {
		t.Helper()
		// Round-trip through the parser so labels are normalised and configs sorted exactly
		// as in production.
		raw, err := json.Marshal(cs)
		if err != nil {
			t.Fatal(err)
		}
		out, err := config.ParseRunnerConfigs(raw)
		if err != nil {
			t.Fatalf("parse %s: %v", raw, err)
		}
		return out
	}
	exact := parse(cfg("exact", "exact", 1, "self-hosted", "Linux", "X64"))
	subset := parse(cfg("subset", "subset", 1, "self-hosted", "linux", "x64", "gpu"))
	anyOf := parse(cfg("any", "any", 1, "gpu", "cuda"))
	tests := []struct {
		name string
		cfgs []config.RunnerConfig
		job  []string
		want string
	}{
		{"exact: same set", exact, []string{"self-hosted", "linux", "x64"}, "exact"},
		{"exact: other order and case", exact, []string{"X64", "LINUX", "Self-Hosted"}, "exact"},
		{"exact: duplicates tolerated", exact, []string{"x64", "linux", "self-hosted", "linux"}, "exact"},
		{"exact: job subset rejected", exact, []string{"self-hosted", "linux"}, ""},
		{"exact: job superset rejected", exact, []string{"self-hosted", "linux", "x64", "gpu"}, ""},
		{"subset: job subset", subset, []string{"self-hosted", "gpu"}, "subset"},
		{"subset: all labels", subset, []string{"self-hosted", "linux", "x64", "gpu"}, "subset"},
		{"subset: unknown label", subset, []string{"self-hosted", "arm64"}, ""},
		{"subset: whitespace trimmed", subset, []string{" linux "}, "subset"},
		{"any: one overlap", anyOf, []string{"ubuntu", "CUDA"}, "any"},
		{"any: no overlap", anyOf, []string{"ubuntu"}, ""},
		{"no labels never match subset", subset, nil, ""},
		{"no labels never match any", anyOf, []string{}, ""},
		{"empty label does not match", subset, []string{""}, ""},
		{"priority: lower first", parse(cfg("b", "subset", 2, "linux"), cfg("a", "subset", 1, "linux", "x64")), []string{"linux"}, "a"},
		{"priority tie: key order", parse(cfg("b", "subset", 1, "linux"), cfg("a", "subset", 1, "linux")), []string{"linux"}, "a"},
		{"falls through to next", parse(cfg("a", "exact", 1, "linux"), cfg("b", "subset", 2, "linux", "x64")), []string{"linux", "x64"}, "b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Match(tt.cfgs, tt.job)
			key := ""
			if got != nil {
				key = got.Key
			}
			if key != tt.want {
				t.Fatalf("Match(%v) = %q, want %q", tt.job, key, tt.want)
			}
		})
	}
}

func TestAllowlist(t *testing.T) {
	a := NewAllowlist([]string{"Octo/App", "corp/*"})
	for name, want := range map[string]bool{"octo/app": true, "OCTO/APP": true, "octo/other": false, "corp/x": true, "corporate/x": false} {
		if got := a.Allows(name); got != want {
			t.Errorf("Allows(%q) = %v, want %v", name, got, want)
		}
	}
	if !NewAllowlist(nil).Allows("any/repo") {
		t.Error("empty allow-list must admit everything")
	}
}
