package config

import (
	"strings"
	"testing"
)

func TestGitHubApps(t *testing.T) {
	base := map[string]string{"GITHUB_APP_ID": "1", "GITHUB_APP_KEY": "k", "GITHUB_API_URL": "https://ghe.example/api/v3"}
	tests := []struct {
		name    string
		value   string // "" leaves GITHUB_APPS unset
		want    []GitHubApp
		wantErr string
	}{
		{name: "unset: one App", value: ""},
		{name: "empty list", value: "[]"},
		{name: "parameters, budget of its own", value: `[{"id_parameter":"/p/app/2/id","key_parameter":"/p/app/2/key","points_per_minute":260}]`,
			want: []GitHubApp{{AppID: Secret{Parameter: "/p/app/2/id"}, PrivateKey: Secret{Parameter: "/p/app/2/key"}, PointsPerMinute: 260}}},
		{name: "values, default budget", value: `[{"id":"7","key":"pem"},{"id":"8","key":"pem2","points_per_minute":10}]`,
			want: []GitHubApp{{AppID: Secret{Value: "7"}, PrivateKey: Secret{Value: "pem"}, PointsPerMinute: DefaultGitHubPointsPerMinute},
				{AppID: Secret{Value: "8"}, PrivateKey: Secret{Value: "pem2"}, PointsPerMinute: 10}}},
		{name: "not JSON", value: `{"id":"7"}`, wantErr: "not a JSON list"},
		{name: "id twice", value: `[{"id":"7","id_parameter":"/x","key":"k"}]`, wantErr: "GITHUB_APPS[0]: give exactly one of id and id_parameter"},
		{name: "no key", value: `[{"id":"7"}]`, wantErr: "exactly one of key and key_parameter"},
		{name: "budget over GitHub's", value: `[{"id":"7","key":"k","points_per_minute":901}]`, wantErr: "points_per_minute 901"},
		{name: "budget under a mutation", value: `[{"id":"7","key":"k","points_per_minute":9}]`, wantErr: "points_per_minute 9"},
		{name: "too many", value: "[" + strings.Repeat(`{"id":"7","key":"k"},`, MaxGitHubApps) + `{"id":"7","key":"k"}]`, wantErr: "at most"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			if tc.value != "" {
				env["GITHUB_APPS"] = tc.value
			}
			e := MapEnv(env)
			got := ReadGitHubApp(e)
			if err := e.Err(); tc.wantErr != "" || err != nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || tc.wantErr == "" {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			all := got.All()
			if len(all) != 1+len(tc.want) || all[0].AppID.Value != "1" || all[0].Additional != nil {
				t.Fatalf("All() = %+v, want the webhook App then %d others", all, len(tc.want))
			}
			for i, w := range tc.want {
				g := all[i+1]
				if g.AppID.Value != w.AppID.Value || g.AppID.Parameter != w.AppID.Parameter || g.PrivateKey.Value != w.PrivateKey.Value ||
					g.PrivateKey.Parameter != w.PrivateKey.Parameter || g.PointsPerMinute != w.PointsPerMinute || g.APIURL != base["GITHUB_API_URL"] {
					t.Errorf("App %d = %+v, want %+v on the same API URL", i+1, g, w)
				}
			}
		})
	}
}
