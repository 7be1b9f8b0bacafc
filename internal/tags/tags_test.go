package tags

import "testing"

func TestRunnerNameRoundTrip(t *testing.T) {
	tests := []struct {
		prefix, name, want string
		ok                 bool
	}{
		{"ghr-", "ghr-i-0abc", "i-0abc", true},
		{"ghr-", "other-i-0abc", "", false},
		{"ghr-", "ghr-", "", false},
		{"ghr-", "ghr-x-123", "", false},
		{"", "i-123", "i-123", true},
	}
	for _, tt := range tests {
		got, ok := InstanceIDFromRunnerName(tt.prefix, tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("InstanceIDFromRunnerName(%q, %q) = %q, %v; want %q, %v", tt.prefix, tt.name, got, ok, tt.want, tt.ok)
		}
	}
	if got := RunnerName("ghr-", "i-1"); got != "ghr-i-1" {
		t.Errorf("RunnerName = %q", got)
	}
}
