package config

import (
	"strings"
	"testing"
)

func TestReadScaleDown(t *testing.T) {
	s, err := ReadScaleDown(MapEnv(map[string]string{
		"PREFIX": "ghr", "RUNNER_NAME_PREFIX": "ci-", "GITHUB_APP_ID_PARAMETER": "/ghr/app/id", "GITHUB_APP_KEY_PARAMETER": "/ghr/app/key",
		"RUNNER_CONFIGS_PARAMETER": "/ghr/configs",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if s.Prefix != "ghr" || s.RunnerNamePrefix != "ci-" || s.AppID.Parameter != "/ghr/app/id" || s.RunnerConfigs.Parameter != "/ghr/configs" {
		t.Fatalf("ReadScaleDown = %+v", s)
	}
	_, err = ReadScaleDown(MapEnv(map[string]string{"PREFIX": "ghr"}))
	for _, want := range []string{"GITHUB_APP_ID", "GITHUB_APP_KEY", "RUNNER_CONFIGS"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestPoolOwnerRequiredWithPoolSize(t *testing.T) {
	for name, raw := range map[string]string{
		"no owner":   `[{"key":"a","labels":["x"],"queue_url":"q","pool_size":1}]`,
		"repo level": `[{"key":"a","labels":["x"],"queue_url":"q","pool_size":1,"pool_owner":"octo","level":"repo"}]`,
		"repo owner": `[{"key":"a","labels":["x"],"queue_url":"q","pool_size":1,"pool_owner":"octo/app"}]`,
	} {
		if _, err := ParseRunnerConfigs([]byte(raw)); err == nil {
			t.Errorf("%s: accepted %s", name, raw)
		}
	}
	cfgs, err := ParseRunnerConfigs([]byte(`[{"key":"a","labels":["x"],"queue_url":"q","pool_size":2,"pool_owner":"octo","max_runners":5}]`))
	if err != nil || cfgs[0].PoolOwner != "octo" || cfgs[0].PoolSize != 2 {
		t.Fatalf("pool config = %+v, %v", cfgs, err)
	}
}
