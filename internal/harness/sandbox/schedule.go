package sandbox

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ScheduleInterval turns an EventBridge schedule expression into the period the sandbox
// fires at: exact for rate(), and the gap between the next two firings for cron() (the
// sandbox speeds time up, so firing phase does not matter; cadence does).
func ScheduleInterval(expr string) (time.Duration, error) {
	if inner, ok := strings.CutPrefix(expr, "rate("); ok {
		fields := strings.Fields(strings.TrimSuffix(inner, ")"))
		if len(fields) != 2 {
			return 0, fmt.Errorf("rate expression %q: want rate(N unit)", expr)
		}
		n, err := strconv.Atoi(fields[0])
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("rate expression %q: bad value", expr)
		}
		unit := map[string]time.Duration{"minute": time.Minute, "minutes": time.Minute, "hour": time.Hour, "hours": time.Hour, "day": 24 * time.Hour, "days": 24 * time.Hour}[fields[1]]
		if unit == 0 {
			return 0, fmt.Errorf("rate expression %q: unit must be minute(s), hour(s) or day(s)", expr)
		}
		return time.Duration(n) * unit, nil
	}
	if inner, ok := strings.CutPrefix(expr, "cron("); ok {
		// EventBridge cron: minute hour day-of-month month day-of-week year, with '?'.
		fields := strings.Fields(strings.TrimSuffix(inner, ")"))
		if len(fields) != 6 {
			return 0, fmt.Errorf("cron expression %q: want 6 fields", expr)
		}
		std := strings.ReplaceAll(strings.Join(fields[:5], " "), "?", "*")
		s, err := cron.ParseStandard(std)
		if err != nil {
			return 0, fmt.Errorf("cron expression %q: %w", expr, err)
		}
		first := s.Next(time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC))
		return s.Next(first).Sub(first), nil
	}
	return 0, fmt.Errorf("schedule expression %q: want rate(...) or cron(...)", expr)
}
