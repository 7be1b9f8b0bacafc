package config

import (
	"regexp"
	"strings"
)

// Syncer is the runner-binaries syncer's configuration.
type Syncer struct {
	Common
	DistBucket       string   // DIST_BUCKET: where the runner archives are stored
	RunnerVersion    string   // RUNNER_VERSION: "latest" or a pinned x.y.z (a leading v is dropped)
	RunnerTargets    []string // RUNNER_TARGETS: <os>-<arch> as in the release's asset names
	RunnerRepository string   // RUNNER_REPOSITORY: owner/name of the runner releases
	APIURL           string   // GITHUB_API_URL: "" for github.com, https://HOST/api/v3 for GHES
	// Credentials are optional: the releases are public, but anonymous calls share 60 an
	// hour per source IP, and Lambda IPs are shared. At most one of the two is set.
	Token *Secret    // GITHUB_TOKEN / GITHUB_TOKEN_PARAMETER
	App   *GitHubApp // GITHUB_APP_ID(_PARAMETER) + GITHUB_APP_KEY(_PARAMETER)
}

// Syncer defaults.
const (
	RunnerVersionLatest     = "latest"
	defaultRunnerTargets    = "linux-x64,linux-arm64" // what the Linux bootstrap can run
	defaultRunnerRepository = "actions/runner"
)

var (
	runnerVersionPattern = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+$`)
	// runnerTargetPattern is the <os>-<arch> part of actions/runner asset names.
	runnerTargetPattern = regexp.MustCompile(`^(linux|win|osx)-(x64|arm64|arm)$`)
	repositoryPattern   = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)
)

// ReadSyncer reads the syncer's environment; problems are in e.Err().
func ReadSyncer(e *Env) Syncer {
	s := Syncer{
		Common:           ReadCommon(e),
		DistBucket:       e.Required("DIST_BUCKET"),
		RunnerVersion:    strings.TrimPrefix(e.String("RUNNER_VERSION", RunnerVersionLatest), "v"),
		RunnerRepository: e.String("RUNNER_REPOSITORY", defaultRunnerRepository),
		APIURL:           e.String("GITHUB_API_URL", ""),
	}
	if s.RunnerVersion != RunnerVersionLatest && !runnerVersionPattern.MatchString(s.RunnerVersion) {
		e.Fail("RUNNER_VERSION=%q: want latest or x.y.z", s.RunnerVersion)
	}
	seen := map[string]bool{}
	for _, t := range strings.Split(e.String("RUNNER_TARGETS", defaultRunnerTargets), ",") {
		switch t = strings.TrimSpace(t); {
		case t == "":
		case !runnerTargetPattern.MatchString(t):
			e.Fail("RUNNER_TARGETS: %q: want <linux|win|osx>-<x64|arm64|arm>", t)
		case !seen[t]:
			seen[t] = true
			s.RunnerTargets = append(s.RunnerTargets, t)
		}
	}
	if len(seen) == 0 {
		e.Fail("RUNNER_TARGETS is empty")
	}
	if !repositoryPattern.MatchString(s.RunnerRepository) {
		e.Fail("RUNNER_REPOSITORY=%q: want owner/name", s.RunnerRepository)
	}
	if tok, ok := optionalSecret(e, "GITHUB_TOKEN"); ok {
		s.Token = &tok
	}
	if e.String("GITHUB_APP_ID", "") != "" || e.String("GITHUB_APP_ID_PARAMETER", "") != "" {
		app := ReadWebhookApp(e)
		s.App = &app
	}
	if s.Token != nil && s.App != nil {
		e.Fail("set GITHUB_TOKEN or a GitHub App for the syncer, not both")
	}
	return s
}

// optionalSecret is Env.Secret for a secret that may be absent.
func optionalSecret(e *Env, key string) (Secret, bool) {
	s := Secret{Env: key, Value: e.String(key, ""), Parameter: e.String(key+"_PARAMETER", "")}
	if s.Value != "" && s.Parameter != "" {
		e.Fail("set only one of %s and %s_PARAMETER", key, key)
	}
	return s, s.Value != "" || s.Parameter != ""
}
