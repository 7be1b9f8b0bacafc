package config

import (
	"strings"
	"time"
)

// Job-queued check modes (CHECK_JOB_QUEUED).
const (
	CheckQueuedAuto   = "auto"   // check for persistent runners only: an ephemeral runner is cheap to reap if unused
	CheckQueuedAlways = "always" // check every job before launching
	CheckQueuedNever  = "never"
)

// ScaleUp is the scale-up function's configuration.
type ScaleUp struct {
	Common
	GitHubApp
	RunnerConfigs     Secret        // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER
	TokenKMSKeyID     string        // TOKEN_KMS_KEY_ID: KMS key of the token SecureStrings; "" is the AWS-managed key
	CheckJobQueued    string        // CHECK_JOB_QUEUED: auto, always or never
	GitHubConcurrency int           // GITHUB_CONCURRENCY: GitHub calls in flight at once
	OfferingCacheTTL  time.Duration // OFFERING_CACHE_TTL: how long a pool without capacity is skipped
	MaxReceiveCount   int           // MAX_RECEIVE_COUNT: the build queues' max_receive_count; 0 is unknown
	GitHubURL         string        // web URL persistent runners register against, derived from GITHUB_API_URL
	SpotBreaker       SpotBreaker   // SPOT_BREAKER_*: when a spot config launches on-demand
	Recheck           Recheck       // LIFECYCLE_QUEUE_URL, RECHECK_AFTER: each ephemeral launch's delayed re-check
}

// Scale-up limits.
const (
	// defaultGitHubConcurrency registers a whole 10-message batch in one round trip; the
	// transport's pacer, not this bound, keeps us under GitHub's secondary limits.
	defaultGitHubConcurrency = 10
	maxGitHubConcurrency     = 100 // GitHub's documented cap on concurrent requests per token
	// Offering cache: capacity returns within minutes; a short memory avoids hammering a dry
	// pool without shunning it for long.
	defaultOfferingTTL = 3 * time.Minute
	minOfferingTTL     = 10 * time.Second
	maxOfferingTTL     = time.Hour
	// maxReceiveCount is SQS's largest maxReceiveCount in a redrive policy.
	maxReceiveCount = 1000
)

// ReadScaleUp reads the scale-up function's environment; problems are in e.Err().
func ReadScaleUp(e *Env) ScaleUp {
	s := readLauncher(e)
	s.Recheck = ReadRecheck(e)
	return s
}

// readLauncher reads what every launching function needs: scale-up and the pool. The pool's
// hosts take no job of their own, so it schedules no re-check and reads none of its settings.
func readLauncher(e *Env) ScaleUp {
	s := ScaleUp{
		Common:            ReadCommon(e),
		GitHubApp:         ReadGitHubApp(e),
		RunnerConfigs:     ReadRunnerConfigsSource(e),
		TokenKMSKeyID:     e.String("TOKEN_KMS_KEY_ID", ""),
		CheckJobQueued:    e.OneOf("CHECK_JOB_QUEUED", CheckQueuedAuto, CheckQueuedAuto, CheckQueuedAlways, CheckQueuedNever),
		GitHubConcurrency: e.Int("GITHUB_CONCURRENCY", defaultGitHubConcurrency, 1, maxGitHubConcurrency),
		OfferingCacheTTL:  e.Duration("OFFERING_CACHE_TTL", defaultOfferingTTL, minOfferingTTL, maxOfferingTTL),
		MaxReceiveCount:   e.Int("MAX_RECEIVE_COUNT", 0, 0, maxReceiveCount),
		SpotBreaker:       ReadSpotBreaker(e),
	}
	s.GitHubURL = WebURL(s.APIURL)
	return s
}

// WebURL is the GitHub web URL matching an API URL: github.com for "", https://HOST for
// GitHub Enterprise Server's https://HOST/api/v3, and the URL itself otherwise (the local
// simulator serves both on one address).
func WebURL(apiURL string) string {
	switch {
	case apiURL == "":
		return "https://github.com"
	case strings.HasSuffix(strings.TrimSuffix(apiURL, "/"), "/api/v3"):
		return strings.TrimSuffix(strings.TrimSuffix(apiURL, "/"), "/api/v3")
	default:
		return strings.TrimSuffix(apiURL, "/")
	}
}
