package config

import (
	"slices"
	"strings"
	"testing"
)

func TestReadSyncer(t *testing.T) {
	base := func(kv ...string) map[string]string {
		m := map[string]string{"PREFIX": "ghr", "DIST_BUCKET": "ghr-dist"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	t.Run("defaults", func(t *testing.T) {
		e := MapEnv(base())
		s := ReadSyncer(e)
		if err := e.Err(); err != nil {
			t.Fatal(err)
		}
		if s.RunnerVersion != "latest" || !slices.Equal(s.RunnerTargets, []string{"linux-x64", "linux-arm64"}) ||
			s.RunnerRepository != "actions/runner" || s.Token != nil || s.App != nil || s.DistBucket != "ghr-dist" {
			t.Errorf("%+v", s)
		}
	})
	t.Run("pinned, GHES, token, windows", func(t *testing.T) {
		e := MapEnv(base("RUNNER_VERSION", "v2.321.0", "RUNNER_TARGETS", " win-x64 ,linux-x64,,linux-x64",
			"GITHUB_API_URL", "https://ghes.example/api/v3", "GITHUB_TOKEN_PARAMETER", "/ghr/syncer/token"))
		s := ReadSyncer(e)
		if err := e.Err(); err != nil {
			t.Fatal(err)
		}
		if s.RunnerVersion != "2.321.0" || !slices.Equal(s.RunnerTargets, []string{"win-x64", "linux-x64"}) ||
			s.APIURL != "https://ghes.example/api/v3" || s.Token == nil || s.Token.Parameter != "/ghr/syncer/token" {
			t.Errorf("%+v", s)
		}
	})
	t.Run("app", func(t *testing.T) {
		e := MapEnv(base("GITHUB_APP_ID", "12", "GITHUB_APP_KEY_PARAMETER", "/ghr/app/key"))
		s := ReadSyncer(e)
		if err := e.Err(); err != nil || s.App == nil || s.App.PrivateKey.Parameter != "/ghr/app/key" {
			t.Fatalf("%+v, %v", s, err)
		}
	})
	bad := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PREFIX": "ghr"}, "DIST_BUCKET is required"},
		{base("RUNNER_VERSION", "2.3"), "RUNNER_VERSION"},
		{base("RUNNER_TARGETS", "linux-x86"), "RUNNER_TARGETS"},
		{base("RUNNER_TARGETS", " , "), "RUNNER_TARGETS is empty"},
		{base("RUNNER_REPOSITORY", "runner"), "RUNNER_REPOSITORY"},
		{base("GITHUB_TOKEN", "t", "GITHUB_TOKEN_PARAMETER", "/p"), "only one of GITHUB_TOKEN"},
		{base("GITHUB_TOKEN", "t", "GITHUB_APP_ID", "1", "GITHUB_APP_KEY", "k"), "not both"},
		{base("GITHUB_APP_ID", "1"), "GITHUB_APP_KEY or GITHUB_APP_KEY_PARAMETER is required"},
	}
	for _, tc := range bad {
		e := MapEnv(tc.env)
		ReadSyncer(e)
		if err := e.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
		}
	}
}
