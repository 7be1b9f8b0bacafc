package config

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseRunnerConfigsDefaultsAndOrder(t *testing.T) {
	cfgs, err := ParseRunnerConfigs([]byte(`[
	 {"key":"b","labels":["Self-Hosted","Linux"],"queue_url":"qb","priority":2},
	 {"key":"a","labels":["x"],"queue_url":"qa","priority":2,"capacity_type":"on-demand"},
	 {"key":"c","labels":["y"],"queue_url":"qc","priority":1,"max_runners":-1}
	]`))
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{cfgs[0].Key, cfgs[1].Key, cfgs[2].Key}; strings.Join(got, ",") != "c,a,b" {
		t.Fatalf("order = %v, want c,a,b", got)
	}
	b := cfgs[2]
	if b.Match != MatchSubset || b.Level != "org" || b.CapacityType != CapacitySpot || b.AllocationStrategy != "price-capacity-optimized" ||
		len(b.FailoverErrors) == 0 || b.IdleEviction != EvictOldestFirst || strings.Join(b.LowerLabels(), ",") != "self-hosted,linux" {
		t.Fatalf("defaults not applied: %+v", b)
	}
	if cfgs[2].MaxRunners != -1 || cfgs[0].MaxRunners != -1 {
		t.Fatalf("omitted max_runners must mean unlimited (-1), got %d", cfgs[2].MaxRunners)
	}
	if explicit, err := ParseRunnerConfigs([]byte(`[{"key":"z","labels":["x"],"queue_url":"q","max_runners":0}]`)); err != nil || explicit[0].MaxRunners != 0 {
		t.Fatalf("explicit max_runners 0 = %v, %v", explicit, err)
	}
	if cfgs[1].AllocationStrategy != "lowest-price" {
		t.Fatalf("on-demand allocation strategy = %q", cfgs[1].AllocationStrategy)
	}
}

func TestParseRunnerConfigsRejects(t *testing.T) {
	tests := map[string]string{
		"empty list":        `[]`,
		"not JSON":          `{`,
		"unknown field":     `[{"key":"a","labels":["x"],"queue_url":"q","lables":["y"]}]`,
		"bad key":           `[{"key":"A B","labels":["x"],"queue_url":"q"}]`,
		"no labels":         `[{"key":"a","labels":[],"queue_url":"q"}]`,
		"empty label":       `[{"key":"a","labels":[" "],"queue_url":"q"}]`,
		"bad match":         `[{"key":"a","labels":["x"],"queue_url":"q","match":"fuzzy"}]`,
		"bad level":         `[{"key":"a","labels":["x"],"queue_url":"q","level":"enterprise"}]`,
		"no queue":          `[{"key":"a","labels":["x"]}]`,
		"bad capacity":      `[{"key":"a","labels":["x"],"queue_url":"q","capacity_type":"reserved"}]`,
		"bad max":           `[{"key":"a","labels":["x"],"queue_url":"q","max_runners":-2}]`,
		"pool over max":     `[{"key":"a","labels":["x"],"queue_url":"q","max_runners":2,"pool_size":3}]`,
		"bad eviction":      `[{"key":"a","labels":["x"],"queue_url":"q","idle_eviction":"random"}]`,
		"bad cron":          `[{"key":"a","labels":["x"],"queue_url":"q","idle_config":[{"cron":"61 * * * *","time_zone":"UTC","idle_count":1}]}]`,
		"bad zone":          `[{"key":"a","labels":["x"],"queue_url":"q","idle_config":[{"cron":"* * * * *","time_zone":"Mars/Base","idle_count":1}]}]`,
		"negative idle":     `[{"key":"a","labels":["x"],"queue_url":"q","idle_config":[{"cron":"* * * * *","time_zone":"UTC","idle_count":-1}]}]`,
		"duplicate key":     `[{"key":"a","labels":["x"],"queue_url":"q"},{"key":"a","labels":["y"],"queue_url":"q2"}]`,
		"negative min time": `[{"key":"a","labels":["x"],"queue_url":"q","minimum_running_minutes":-1}]`,
	}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseRunnerConfigs([]byte(raw)); err == nil {
				t.Fatalf("accepted %s", raw)
			}
		})
	}
}

func TestIdleWindowActive(t *testing.T) {
	office := IdleWindow{Cron: "* 9-17 * * 1-5", TimeZone: "Europe/Amsterdam", IdleCount: 2}
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	tests := []struct {
		name string
		w    IdleWindow
		now  time.Time
		want bool
	}{
		{"monday 09:00 local", office, time.Date(2026, 11, 23, 9, 0, 0, 0, ams), true},
		{"monday 08:59:59 local", office, time.Date(2026, 11, 23, 8, 59, 59, 0, ams), false},
		{"monday 17:59 local", office, time.Date(2026, 11, 23, 17, 59, 30, 0, ams), true},
		{"monday 18:00 local", office, time.Date(2026, 11, 23, 18, 0, 0, 0, ams), false},
		{"saturday noon", office, time.Date(2026, 11, 28, 12, 0, 0, 0, ams), false},
		{"08:30 UTC is 09:30 in Amsterdam (winter)", office, time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), true},
		{"07:30 UTC is 09:30 in Amsterdam (summer, DST)", office, time.Date(2026, 7, 6, 7, 30, 0, 0, time.UTC), true},
		{"08:30 UTC is 10:30 in summer, still on", office, time.Date(2026, 7, 6, 8, 30, 0, 0, time.UTC), true},
		{"16:30 UTC is 18:30 in summer: off", office, time.Date(2026, 7, 6, 16, 30, 0, 0, time.UTC), false},
		// 2026-03-29 02:00 → 03:00 in Amsterdam: the 02:xx hour does not exist.
		{"spring-forward 01:59 UTC = 03:59 CEST", IdleWindow{Cron: "* 3 * * *", TimeZone: "Europe/Amsterdam"}, time.Date(2026, 3, 29, 1, 59, 0, 0, time.UTC), true},
		{"descriptor @daily at midnight", IdleWindow{Cron: "@daily", TimeZone: "UTC"}, time.Date(2026, 1, 1, 0, 0, 10, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.w.Active(tt.now)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Active(%s) = %v, want %v", tt.now, got, tt.want)
			}
		})
	}
}

func TestEnvCollectsEveryProblem(t *testing.T) {
	e := MapEnv(map[string]string{"N": "x", "B": "maybe", "D": "1h", "ONE": "c", "S": "v", "S_PARAMETER": "/p"})
	e.Int("N", 0, 0, 10)
	e.Bool("B", false)
	e.Duration("D", time.Second, time.Second, time.Minute)
	e.OneOf("ONE", "a", "a", "b")
	e.Required("MISSING")
	e.Secret("S")
	e.Secret("T")
	err := e.Err()
	for _, want := range []string{"N=", "B=", "D=", "ONE=", "MISSING is required", "only one of S", "T or T_PARAMETER"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

type mapParams map[string]string

func (m mapParams) Parameter(_ context.Context, name string) (string, error) {
	v, ok := m[name]
	if !ok {
		return "", errors.New("ParameterNotFound")
	}
	return v, nil
}

func TestReadWebhookAndSecrets(t *testing.T) {
	e := MapEnv(map[string]string{
		"PREFIX": "ghr", "WEBHOOK_SECRET_PARAMETER": "/ghr/app/webhook-secret",
		"RUNNER_CONFIGS": `[{"key":"a","labels":["x"],"queue_url":"q"}]`, "REPOSITORY_ALLOWLIST": "octo/app, corp/*",
	})
	w, err := ReadWebhook(e)
	if err != nil {
		t.Fatal(err)
	}
	if w.RunnerNamePrefix != "ghr-" || w.MaxBodyBytes != defaultWebhookBody || len(w.RepositoryAllowlist) != 2 {
		t.Fatalf("webhook = %+v", w)
	}
	if s := w.Secret.String(); strings.Contains(s, "secret-value") || s != "ssm:/ghr/app/webhook-secret" {
		t.Fatalf("Secret.String() = %q", s)
	}
	v, err := w.Secret.Resolve(context.Background(), mapParams{"/ghr/app/webhook-secret": "secret-value"})
	if err != nil || v != "secret-value" {
		t.Fatalf("Resolve = %q, %v", v, err)
	}
	if _, err := w.Secret.Resolve(context.Background(), mapParams{}); err == nil {
		t.Fatal("missing parameter resolved")
	}
	cfgs, err := LoadRunnerConfigs(context.Background(), w.RunnerConfigs, nil)
	if err != nil || len(cfgs) != 1 || ByKey(cfgs)["a"] == nil {
		t.Fatalf("LoadRunnerConfigs = %v, %v", cfgs, err)
	}

	bad := MapEnv(map[string]string{"WEBHOOK_SECRET": "s", "RUNNER_CONFIGS": "[]", "REPOSITORY_ALLOWLIST": "noslash,a/b/c", "MAX_BODY_BYTES": "10", "LOG_LEVEL": "loud"})
	_, err = ReadWebhook(bad)
	for _, want := range []string{"PREFIX is required", `"noslash"`, `"a/b/c"`, "MAX_BODY_BYTES", "LOG_LEVEL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}
