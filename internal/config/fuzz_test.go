package config

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzRunnerConfigs: ParseRunnerConfigs never panics; what it accepts is sorted, unique and
// re-validates: re-encoded, it parses again to the same configs.
func FuzzRunnerConfigs(f *testing.F) {
	for _, s := range []string{
		`[{"key":"small","labels":["self-hosted","linux"],"queue_url":"q"}]`,
		`[{"key":"b","labels":["Self-Hosted"," Linux "],"queue_url":"qb","priority":2,"match":"exact","level":"repo","ephemeral":true},
		  {"key":"a","labels":["x"],"queue_url":"qa","priority":2,"capacity_type":"on-demand","max_runners":0}]`,
		`[{"key":"pool","labels":["x"],"queue_url":"q","pool_size":2,"pool_owner":"octo","max_runners":5,
		   "idle_config":[{"cron":"* 9-17 * * 1-5","time_zone":"Europe/Amsterdam","idle_count":1},{"cron":"@daily","time_zone":"","idle_count":0}],
		   "idle_eviction":"newest_first","instance_types":["m7g.large"],"subnet_ids":["subnet-1"],"on_demand_failover_errors":["InsufficientInstanceCapacity"]}]`,
		`[{"key":"a","labels":["x"],"queue_url":"q","idle_config":[{"cron":"TZ=UTC","time_zone":"UTC","idle_count":1}]}]`,
		`[{"key":"a","labels":["x"],"queue_url":"q","idle_config":[{"cron":"CRON_TZ=Asia/Tokyo * * * * *","time_zone":"UTC","idle_count":1}]}]`,
		`[{"key":"a","labels":["x"],"queue_url":"q","on_demand_failover_errors":[]}]`,
		`[{"key":"a","labels":["x"],"queue_url":"q","lables":["y"]}]`,
		`[{"key":"a","labels":["x"],"queue_url":"q"},{"key":"a","labels":["y"],"queue_url":"q2"}]`,
		`[]`, `{}`, `[null]`, `[{"key":"a","labels":[""],"queue_url":"q"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, err := ParseRunnerConfigs(data)
		if err != nil {
			return
		}
		if !slices.IsSortedFunc(cfgs, func(a, b RunnerConfig) int {
			if a.Priority != b.Priority {
				return a.Priority - b.Priority
			}
			return strings.Compare(a.Key, b.Key)
		}) {
			t.Fatalf("configs not in priority order: %+v", cfgs)
		}
		keys := map[string]bool{}
		for i := range cfgs {
			c := &cfgs[i]
			if keys[c.Key] {
				t.Fatalf("duplicate key %q accepted", c.Key)
			}
			keys[c.Key] = true
			if err := c.validate(); err != nil {
				t.Fatalf("accepted config %q does not re-validate: %v", c.Key, err)
			}
			if len(c.LowerLabels()) != len(c.Labels) {
				t.Fatalf("config %q: %d lower-cased labels for %d labels", c.Key, len(c.LowerLabels()), len(c.Labels))
			}
		}
		raw, err := json.Marshal(cfgs)
		if err != nil {
			t.Fatalf("accepted configs do not re-encode: %v", err)
		}
		again, err := ParseRunnerConfigs(raw)
		if err != nil {
			t.Fatalf("re-encoded configs rejected: %v\n%s", err, raw)
		}
		for i := range cfgs {
			if len(cfgs[i].FailoverErrors) == 0 {
				again[i].FailoverErrors = nil // see normalise
			}
			want, got := normalise(cfgs[i]), normalise(again[i])
			if !reflect.DeepEqual(want, got) {
				t.Fatalf("round trip changed config %q:\n%+v\n%+v", cfgs[i].Key, want, got)
			}
		}
	})
}

// normalise makes nil and empty slices equal: JSON's [] and an omitted field mean the same
// for every list but on_demand_failover_errors, where an explicit [] (never fail over) is
// dropped by omitempty on re-encoding. Only Terraform writes this JSON, so that loss
// changes nothing today; it is kept out of the comparison rather than asserted.
func normalise(c RunnerConfig) RunnerConfig {
	empty := func(s []string) []string {
		if len(s) == 0 {
			return nil
		}
		return s
	}
	c.Labels, c.lowerLabels = empty(c.Labels), empty(c.lowerLabels)
	c.InstanceTypes, c.SubnetIDs = empty(c.InstanceTypes), empty(c.SubnetIDs)
	c.FailoverErrors = empty(c.FailoverErrors)
	if len(c.IdleConfig) == 0 {
		c.IdleConfig = nil
	}
	return c
}

// FuzzIdleWindow: Validate and Active never panic for any cron string and zone name; they
// agree on what is valid; Active depends only on the minute, not on the seconds within it
// nor on the location the caller's time is expressed in; an every-minute window is always
// active.
func FuzzIdleWindow(f *testing.F) {
	base := time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC).Unix()
	for _, s := range []struct{ cron, zone string }{
		{"* 9-17 * * 1-5", "Europe/Amsterdam"},
		{"*/15 * * * *", "America/St_Johns"},
		{"0 0 29 2 *", "Asia/Kathmandu"},
		{"@daily", ""},
		{"@every 90s", "UTC"},
		{"@every 1m", "Local"},
		{"30 2 * 3 SUN", "Australia/Lord_Howe"},
		{"TZ=UTC", "UTC"},
		{"CRON_TZ=Europe/Paris 0 9 * * *", "UTC"},
		{"61 * * * *", "UTC"},
		{"* * * * *", "Mars/Base"},
		{"", "../../etc/passwd"},
	} {
		f.Add(s.cron, s.zone, base, int64(17), 1)
	}
	f.Fuzz(func(t *testing.T, spec, zone string, unix, sec int64, idle int) {
		// Keep times within the century from 2026: zones' old offsets in seconds (LMT, and
		// Amsterdam's +00:19:32 until 1937) put wall-clock minutes off the absolute ones,
		// which no runner config will meet.
		const century = 100 * 365 * 24 * 3600
		unix = base + (unix%century+century)%century
		w := IdleWindow{Cron: spec, TimeZone: zone, IdleCount: idle}
		verr := w.Validate()
		_, _, serr := w.Schedule()
		if (verr == nil) != (serr == nil && idle >= 0) {
			t.Fatalf("Validate = %v but Schedule = %v (idle %d)", verr, serr, idle)
		}
		minute := time.Unix(unix, 0).UTC().Truncate(time.Minute)
		at := minute.Add(time.Duration(uint64(sec)%60_000) * time.Millisecond)
		active, err := w.Active(at)
		if (err != nil) != (serr != nil) {
			t.Fatalf("Active error %v, Schedule error %v", err, serr)
		}
		if err != nil {
			if active {
				t.Fatal("active despite an error")
			}
			return
		}
		for _, other := range []time.Time{minute, minute.Add(time.Minute - time.Nanosecond), at.In(time.FixedZone("X", -9*3600-1800))} {
			if again, _ := w.Active(other); again != active {
				t.Fatalf("Active(%v) = %v but Active(%v) = %v: not stable within the minute", at, active, other, again)
			}
		}
		every := IdleWindow{Cron: "* * * * *", TimeZone: zone}
		if ok, err := every.Active(at); err != nil || !ok {
			t.Fatalf("every-minute window in %q inactive at %v: %v", zone, at, err)
		}
	})
}
