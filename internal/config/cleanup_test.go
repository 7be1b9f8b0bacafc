package config

import "testing"

func TestReadCleanup(t *testing.T) {
	c, err := ReadCleanup(MapEnv(map[string]string{"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS": "[]"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Prefix != "ghr" || c.RunnerNamePrefix != "ghr-" || c.RunnerConfigs.Value != "[]" {
		t.Fatalf("ReadCleanup = %+v", c)
	}
	if _, err := ReadCleanup(MapEnv(map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS": "[]"})); err == nil {
		t.Fatal("missing PREFIX accepted")
	}
}
