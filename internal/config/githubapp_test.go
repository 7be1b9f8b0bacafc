package config

import (
	"strings"
	"testing"
)

func TestGitHubPointsPerMinute(t *testing.T) {
	base := map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k"}
	tests := []struct {
		value   string // "" leaves the variable unset
		want    int
		wantErr bool
	}{
		{value: "", want: DefaultGitHubPointsPerMinute},
		{value: "72", want: 72},
		{value: " 10 ", want: MinGitHubPointsPerMinute},
		{value: "900", want: MaxGitHubPointsPerMinute},
		{value: "9", wantErr: true},
		{value: "901", wantErr: true},
		{value: "0", wantErr: true},
		{value: "72.5", wantErr: true},
	}
	for _, tc := range tests {
		env := map[string]string{}
		for k, v := range base {
			env[k] = v
		}
		if tc.value != "" {
			env["GITHUB_POINTS_PER_MINUTE"] = tc.value
		}
		e := MapEnv(env)
		got := ReadGitHubApp(e)
		if err := e.Err(); (err != nil) != tc.wantErr {
			t.Errorf("%q: err = %v, want error %v", tc.value, err, tc.wantErr)
			continue
		} else if err != nil && !strings.Contains(err.Error(), "GITHUB_POINTS_PER_MINUTE") {
			t.Errorf("%q: error %q does not name the variable", tc.value, err)
		}
		if !tc.wantErr && got.PointsPerMinute != tc.want {
			t.Errorf("%q: PointsPerMinute = %d, want %d", tc.value, got.PointsPerMinute, tc.want)
		}
	}
}

// Every function that builds a GitHub App carries its share in its typed config.
func TestGitHubPointsPerMinuteReachesEveryAppFunction(t *testing.T) {
	env := map[string]string{
		"PREFIX": "p", "GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "RUNNER_CONFIGS": "[]",
		"DIST_BUCKET": "b", "GITHUB_POINTS_PER_MINUTE": "23",
	}
	got := map[string]int{
		"scale-up":   ReadScaleUp(MapEnv(env)).PointsPerMinute,
		"scale-down": func() int { c, _ := ReadScaleDown(MapEnv(env)); return c.PointsPerMinute }(),
		"cleanup":    func() int { c, _ := ReadCleanup(MapEnv(env)); return c.PointsPerMinute }(),
		"pool":       func() int { c, _ := ReadPool(MapEnv(env)); return c.PointsPerMinute }(),
		"redeliver":  func() int { c, _ := ReadRedeliver(MapEnv(env)); return c.PointsPerMinute }(),
		"syncer":     ReadSyncer(MapEnv(env)).App.PointsPerMinute,
	}
	for fn, n := range got {
		if n != 23 {
			t.Errorf("%s: PointsPerMinute = %d, want 23", fn, n)
		}
	}
}
