package tags

import "testing"

func TestRunnerNameRoundTrip(t *testing.T) {
	tests := []struct {
		prefix, name, want string
		ok                 bool
	}{
		{"ghr-", "ghr-i-0abc1234", "i-0abc1234", true},
		{"ghr-", "ghr-i-0123456789abcdef0", "i-0123456789abcdef0", true},
		{"ghr-", "other-i-0abc1234", "", false},
		{"ghr-", "ghr-", "", false},
		{"ghr-", "ghr-x-123", "", false},
		{"ghr-", "ghr-i-0abc", "", false},               // too short for an instance id
		{"ghr-", "ghr-i-0123456789abcdef01", "", false}, // too long
		{"ghr-", "ghr-i-0ABC1234", "", false},           // EC2 ids are lower case
		{"ghr-", "ghr-i-0abc1234 ", "", false},          // trailing junk
		{"ghr-", "ghr-i-0abc1234\n", "", false},         // $ must not accept a newline
		{"", "i-12345678", "i-12345678", true},
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

// Prefix overlap: "ci-" and "ci-i-" are both valid prefixes, but a runner name made by one
// never parses as the other's.
func TestOverlappingPrefixesNeverShareARunner(t *testing.T) {
	for _, id := range []string{"i-0abc1234", "i-0123456789abcdef0"} {
		long := RunnerName("ci-i-", id) // "ci-i-i-0abc1234"
		if got, ok := InstanceIDFromRunnerName("ci-", long); ok {
			t.Errorf("%q parsed as deployment ci-'s instance %q", long, got)
		}
		short := RunnerName("ci-", id)
		if got, ok := InstanceIDFromRunnerName("ci-i-", short); ok {
			t.Errorf("%q parsed as deployment ci-i-'s instance %q", short, got)
		}
	}
}
