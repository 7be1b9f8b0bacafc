package sandbox

import (
	"testing"
	"time"
)

func TestParseBootPhases(t *testing.T) {
	good := `2026-12-01T02:40:00Z ghr-bootstrap: instance i-1 in us-east-1, runner config small:
2026-12-01T02:40:00Z ghr-bootstrap: boot phase imds at 120ms (user data started at 1796092800.250000)
2026-12-01T02:40:01Z ghr-bootstrap: boot phase download at 900ms
2026-12-01T02:40:02Z ghr-bootstrap: boot phase token at 1500ms
2026-12-01 02:40:02.050Z: Connected to GitHub
2026-12-01 02:40:02.050Z: Listening for Jobs
`
	tests := []struct {
		name string
		log  string
		ok   bool
		want BootPhases
	}{
		{"every phase", good, true, BootPhases{Start: time.Unix(1796092800, 250_000_000), IMDS: 120 * time.Millisecond, Download: 900 * time.Millisecond, Token: 1500 * time.Millisecond, Connected: 1800 * time.Millisecond}},
		{"runner never connected", good[:len(good)-70], false, BootPhases{}},
		{"no phases", "2026-12-01 02:40:02.050Z: Listening for Jobs\n", false, BootPhases{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseBootPhases(tt.log)
			if ok != tt.ok {
				t.Fatalf("ok = %t, want %t (%+v)", ok, tt.ok, got)
			}
			if ok && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
