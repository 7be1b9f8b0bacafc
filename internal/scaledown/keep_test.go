package scaledown

import (
	"testing"
	"time"

	"github.com/ghr-dev/ghr/internal/config"
)

func TestKeepIdleSchedules(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	office := config.IdleWindow{Cron: "* 9-17 * * 1-5", TimeZone: "Europe/Berlin", IdleCount: 3}
	tests := []struct {
		name    string
		windows []config.IdleWindow
		now     string
		want    int
	}{
		{"office hours in Berlin (CEST, UTC+2)", []config.IdleWindow{office}, "2024-06-03T07:00:00Z", 3},
		{"a second before office hours", []config.IdleWindow{office}, "2024-06-03T06:59:59Z", 0},
		{"last second of the last matching minute", []config.IdleWindow{office}, "2024-06-03T15:59:59Z", 3},
		{"first second after", []config.IdleWindow{office}, "2024-06-03T16:00:00Z", 0},
		{"winter: UTC+1 shifts the window", []config.IdleWindow{office}, "2024-01-15T07:30:00Z", 0},
		{"winter: 08:00 UTC is 09:00 in Berlin", []config.IdleWindow{office}, "2024-01-15T08:00:00Z", 3},
		{"Saturday", []config.IdleWindow{office}, "2024-06-08T10:00:00Z", 0},
		{"Friday evening UTC is Saturday in Tokyo", []config.IdleWindow{{Cron: "* * * * 6", TimeZone: "Asia/Tokyo", IdleCount: 1}}, "2024-06-07T15:30:00Z", 1},
		{"largest active count wins", []config.IdleWindow{office, {Cron: "* * * * *", TimeZone: "UTC", IdleCount: 1}, {Cron: "* 9 * * *", TimeZone: "Europe/Berlin", IdleCount: 5}}, "2024-06-03T07:10:00Z", 5},
		{"DST spring forward: 02:xx does not exist in Berlin", []config.IdleWindow{{Cron: "* 2 * * *", TimeZone: "Europe/Berlin", IdleCount: 1}}, "2024-03-31T01:30:00Z", 0},
		{"DST spring forward: 01:59 CET still matches 1", []config.IdleWindow{{Cron: "* 1 * * *", TimeZone: "Europe/Berlin", IdleCount: 1}}, "2024-03-31T00:59:00Z", 1},
		{"DST spring forward: 03:00 CEST matches 3", []config.IdleWindow{{Cron: "* 3 * * *", TimeZone: "Europe/Berlin", IdleCount: 1}}, "2024-03-31T01:00:00Z", 1},
		{"DST fall back: first 02:30 (CEST)", []config.IdleWindow{{Cron: "* 2 * * *", TimeZone: "Europe/Berlin", IdleCount: 1}}, "2024-10-27T00:30:00Z", 1},
		{"DST fall back: 02:00 local is 01:00 UTC after the change", []config.IdleWindow{{Cron: "0 2 * * *", TimeZone: "Europe/Berlin", IdleCount: 1}}, "2024-10-27T01:00:00Z", 1},
		{"New York EDT: 08:30 local", []config.IdleWindow{{Cron: "* 8 * * *", TimeZone: "America/New_York", IdleCount: 2}}, "2024-07-01T12:30:00Z", 2},
		{"New York EST: 07:30 local", []config.IdleWindow{{Cron: "* 8 * * *", TimeZone: "America/New_York", IdleCount: 2}}, "2024-12-02T12:30:00Z", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &config.RunnerConfig{IdleConfig: tt.windows}
			if got := KeepIdle(cfg, octo, at(tt.now)); got != tt.want {
				t.Errorf("KeepIdle = %d, want %d", got, tt.want)
			}
		})
	}
}
