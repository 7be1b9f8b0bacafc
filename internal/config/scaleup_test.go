package config

import (
	"strings"
	"testing"
	"time"
)

func TestReadScaleUp(t *testing.T) {
	e := MapEnv(map[string]string{
		"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY_PARAMETER": "/ghr/app/key",
		"GITHUB_API_URL": "https://ghe.example.com/api/v3", "RUNNER_CONFIGS": "[]",
		"TOKEN_KMS_KEY_ID": "alias/ghr", "CHECK_JOB_QUEUED": "always", "GITHUB_CONCURRENCY": "4", "OFFERING_CACHE_TTL": "90s",
	})
	s := ReadScaleUp(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if s.Prefix != "ghr" || s.RunnerNamePrefix != "ghr-" || s.TokenKMSKeyID != "alias/ghr" || s.CheckJobQueued != CheckQueuedAlways ||
		s.GitHubConcurrency != 4 || s.OfferingCacheTTL != 90*time.Second || s.GitHubURL != "https://ghe.example.com" ||
		s.PrivateKey.Parameter != "/ghr/app/key" || s.RunnerConfigs.Value != "[]" {
		t.Fatalf("ReadScaleUp = %+v", s)
	}
}

func TestReadScaleUpDefaults(t *testing.T) {
	e := MapEnv(map[string]string{"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS_PARAMETER": "/ghr/configs"})
	s := ReadScaleUp(e)
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	if s.CheckJobQueued != CheckQueuedAuto || s.GitHubConcurrency != 10 || s.OfferingCacheTTL != 3*time.Minute ||
		s.TokenKMSKeyID != "" || s.GitHubURL != "https://github.com" {
		t.Fatalf("defaults = %+v", s)
	}
}

func TestReadScaleUpReportsEveryProblem(t *testing.T) {
	e := MapEnv(map[string]string{"CHECK_JOB_QUEUED": "sometimes", "GITHUB_CONCURRENCY": "0", "OFFERING_CACHE_TTL": "2h"})
	ReadScaleUp(e)
	err := e.Err()
	for _, want := range []string{"PREFIX", "GITHUB_APP_ID", "GITHUB_APP_KEY", "RUNNER_CONFIGS", "CHECK_JOB_QUEUED", "GITHUB_CONCURRENCY", "OFFERING_CACHE_TTL"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestWebURL(t *testing.T) {
	for api, want := range map[string]string{
		"":                                "https://github.com",
		"https://ghe.example.com/api/v3":  "https://ghe.example.com",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com",
		"http://127.0.0.1:8080/":          "http://127.0.0.1:8080",
	} {
		if got := WebURL(api); got != want {
			t.Errorf("WebURL(%q) = %q, want %q", api, got, want)
		}
	}
}
