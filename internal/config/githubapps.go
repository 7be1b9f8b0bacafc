package config

import (
	"encoding/json"
	"fmt"
)

// MaxGitHubApps bounds GITHUB_APPS: each entry is about 120 bytes of a Lambda environment
// capped at 4 KB, and a handful of Apps already multiplies the deployment's ceiling.
const MaxGitHubApps = 10

// gitHubAppsEnv is the variable naming the Apps other than the webhook App (docs/configuration.md).
const gitHubAppsEnv = "GITHUB_APPS"

// appEntry is one GITHUB_APPS element as the module writes it.
type appEntry struct {
	ID              string `json:"id"`
	IDParameter     string `json:"id_parameter"`
	Key             string `json:"key"`
	KeyParameter    string `json:"key_parameter"`
	PointsPerMinute int    `json:"points_per_minute"`
}

// readAdditionalApps reads GITHUB_APPS: a JSON list of the other Apps, each with its id and
// key (as values for local runs, or as SSM parameter names) and this container's share of
// that App's own secondary-limit budget. Unset or empty means one App.
func readAdditionalApps(e *Env, apiURL string) []GitHubApp {
	raw := e.String(gitHubAppsEnv, "")
	if raw == "" {
		return nil
	}
	var entries []appEntry
	if err := json.Unmarshal([]byte(raw), &entries); err != nil {
		e.Fail("%s: not a JSON list of Apps: %v", gitHubAppsEnv, err)
		return nil
	}
	if len(entries) > MaxGitHubApps {
		e.Fail("%s: %d Apps, at most %d", gitHubAppsEnv, len(entries), MaxGitHubApps)
		return nil
	}
	out := make([]GitHubApp, 0, len(entries))
	for i, a := range entries {
		// Named by position, never by value: a swapped id and key would put the key in the logs.
		name := fmt.Sprintf("%s[%d]", gitHubAppsEnv, i)
		if (a.ID == "") == (a.IDParameter == "") {
			e.Fail("%s: give exactly one of id and id_parameter", name)
		}
		if (a.Key == "") == (a.KeyParameter == "") {
			e.Fail("%s: give exactly one of key and key_parameter", name)
		}
		if a.PointsPerMinute == 0 {
			a.PointsPerMinute = DefaultGitHubPointsPerMinute
		}
		if a.PointsPerMinute < MinGitHubPointsPerMinute || a.PointsPerMinute > MaxGitHubPointsPerMinute {
			e.Fail("%s: points_per_minute %d: want an integer in [%d, %d]", name, a.PointsPerMinute, MinGitHubPointsPerMinute, MaxGitHubPointsPerMinute)
		}
		out = append(out, GitHubApp{
			AppID:           Secret{Env: name + ".id", Value: a.ID, Parameter: a.IDParameter},
			PrivateKey:      Secret{Env: name + ".key", Value: a.Key, Parameter: a.KeyParameter},
			APIURL:          apiURL,
			PointsPerMinute: a.PointsPerMinute,
		})
	}
	return out
}

// All returns the webhook App then the others: every App a function may call GitHub as.
func (g GitHubApp) All() []GitHubApp {
	first := g
	first.Additional = nil
	return append([]GitHubApp{first}, g.Additional...)
}
