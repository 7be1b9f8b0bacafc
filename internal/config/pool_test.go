package config

import (
	"testing"
	"time"
)

func TestReadPool(t *testing.T) {
	p, err := ReadPool(MapEnv(map[string]string{
		"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS": "[]",
		"TOKEN_KMS_KEY_ID": "alias/ghr", "OFFERING_CACHE_TTL": "1m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if p.TokenKMSKeyID != "alias/ghr" || p.OfferingCacheTTL != time.Minute || p.GitHubURL != "https://github.com" {
		t.Fatalf("ReadPool = %+v", p)
	}
	if _, err := ReadPool(MapEnv(map[string]string{"PREFIX": "ghr", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS": "[]", "OFFERING_CACHE_TTL": "1s"})); err == nil {
		t.Fatal("out-of-range scale-up setting accepted")
	}
}
