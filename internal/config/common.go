package config

import (
	"log/slog"
	"strings"
)

// Common is what every function reads.
type Common struct {
	Prefix           string // deployment prefix: ghr:environment tag value and SSM path root
	RunnerNamePrefix string // GitHub runner name = RunnerNamePrefix + instance id
	LogLevel         slog.Level
}

// ReadCommon reads PREFIX, RUNNER_NAME_PREFIX and LOG_LEVEL.
func ReadCommon(e *Env) Common {
	c := Common{Prefix: e.Required("PREFIX")}
	c.RunnerNamePrefix = e.String("RUNNER_NAME_PREFIX", c.Prefix+"-")
	switch lvl := strings.ToLower(e.String("LOG_LEVEL", "info")); lvl {
	case "debug":
		c.LogLevel = slog.LevelDebug
	case "info":
		c.LogLevel = slog.LevelInfo
	case "warn":
		c.LogLevel = slog.LevelWarn
	case "error":
		c.LogLevel = slog.LevelError
	default:
		e.Fail("LOG_LEVEL=%q: want debug, info, warn or error", lvl)
	}
	return c
}

// GitHubApp names where the App's credentials come from.
type GitHubApp struct {
	AppID      Secret // GITHUB_APP_ID or GITHUB_APP_ID_PARAMETER
	PrivateKey Secret // GITHUB_APP_KEY or GITHUB_APP_KEY_PARAMETER (PEM or base64 of PEM)
	APIURL     string // GITHUB_API_URL: "" for github.com, https://HOST/api/v3 for GHES
	// PointsPerMinute is this container's share of the deployment's secondary-limit budget
	// (GITHUB_POINTS_PER_MINUTE): the most points it may spend on one endpoint in any minute.
	PointsPerMinute int
	// Additional are the deployment's other Apps (GITHUB_APPS), installed on the same owners
	// to raise the secondary-limit ceiling; each has its own credentials and budget. The
	// App above is the one whose webhook delivers events (docs/decisions.md).
	Additional []GitHubApp
}

// Secondary-limit budget of one container (GITHUB_POINTS_PER_MINUTE). The module splits the
// deployment's budget over every container that can run at once (docs/decisions.md).
const (
	// DefaultGitHubPointsPerMinute is GitHub's whole per-endpoint limit: a function deployed
	// without the variable paces as ghr always did (720 a minute after a 180-point burst).
	DefaultGitHubPointsPerMinute = 900
	// MinGitHubPointsPerMinute lets a container burst one mutation (5 points) and earn
	// another within the minute; a smaller share could never send a mutation at all.
	MinGitHubPointsPerMinute = 10
	// MaxGitHubPointsPerMinute is GitHub's documented secondary limit per endpoint.
	MaxGitHubPointsPerMinute = 900
)

// ReadGitHubApp reads the App credential sources: the webhook App's, and the other Apps'
// from GITHUB_APPS.
func ReadGitHubApp(e *Env) GitHubApp {
	g := ReadWebhookApp(e)
	g.Additional = readAdditionalApps(e, g.APIURL)
	return g
}

// ReadWebhookApp reads the webhook App's credential sources alone, for the functions that
// act as that App only: redeliver (its hook deliveries) and the syncer (one token).
func ReadWebhookApp(e *Env) GitHubApp {
	return GitHubApp{
		AppID:      e.Secret("GITHUB_APP_ID"),
		PrivateKey: e.Secret("GITHUB_APP_KEY"),
		APIURL:     e.String("GITHUB_API_URL", ""),
		PointsPerMinute: e.Int("GITHUB_POINTS_PER_MINUTE", DefaultGitHubPointsPerMinute,
			MinGitHubPointsPerMinute, MaxGitHubPointsPerMinute),
	}
}

// RunnerConfigsSource is RUNNER_CONFIGS (inline JSON) or RUNNER_CONFIGS_PARAMETER (an SSM
// parameter holding the same JSON, for deployments whose configs exceed Lambda's 4 KB
// environment limit).
func ReadRunnerConfigsSource(e *Env) Secret { return e.Secret("RUNNER_CONFIGS") }

func cutRepo(s string) (owner, repo string, ok bool) {
	owner, repo, ok = strings.Cut(s, "/")
	if strings.Contains(repo, "/") {
		return "", "", false
	}
	return owner, repo, ok
}
