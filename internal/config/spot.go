package config

import "time"

// SpotBreaker is the per-config spot circuit breaker's rule, read by scale-up, the pool and
// the spot-interruption function: Interruptions within Window send a config's launches to
// on-demand for Cooldown. Interruptions 0 disables it.
type SpotBreaker struct {
	Interruptions int           // SPOT_BREAKER_INTERRUPTIONS
	Window        time.Duration // SPOT_BREAKER_WINDOW
	Cooldown      time.Duration // SPOT_BREAKER_COOLDOWN
}

// Spot circuit breaker bounds. The defaults are RunsOn's: 2 interruptions in 15 minutes send
// a config to on-demand for 30 minutes.
const (
	defaultBreakerInterruptions = 2
	// maxBreakerInterruptions: more than this many reclaims before reacting is no breaker.
	maxBreakerInterruptions = 100
	defaultBreakerWindow    = 15 * time.Minute
	defaultBreakerCooldown  = 30 * time.Minute
	// minBreakerSpan is below any spot reclaim's two-minute notice: a shorter window or
	// cool-down could never see two interruptions or outlast one.
	minBreakerSpan = 2 * time.Minute
	// maxBreakerSpan bounds how long interruption records are kept (window + cool-down).
	maxBreakerSpan = 24 * time.Hour
)

// ReadSpotBreaker reads the breaker's rule.
func ReadSpotBreaker(e *Env) SpotBreaker {
	return SpotBreaker{
		Interruptions: e.Int("SPOT_BREAKER_INTERRUPTIONS", defaultBreakerInterruptions, 0, maxBreakerInterruptions),
		Window:        e.Duration("SPOT_BREAKER_WINDOW", defaultBreakerWindow, minBreakerSpan, maxBreakerSpan),
		Cooldown:      e.Duration("SPOT_BREAKER_COOLDOWN", defaultBreakerCooldown, minBreakerSpan, maxBreakerSpan),
	}
}

// SpotInterruption is the spot-interruption function's configuration.
type SpotInterruption struct {
	Common
	GitHubApp
	// RunnerConfigs gives the launch template ids that prove an instance named by an event
	// is this deployment's (an EventBridge event names any instance of the account).
	RunnerConfigs Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER
	Breaker       SpotBreaker
}

// ReadSpotInterruption reads and validates the spot-interruption function's environment.
func ReadSpotInterruption(e *Env) (SpotInterruption, error) {
	s := SpotInterruption{Common: ReadCommon(e), GitHubApp: ReadGitHubApp(e), RunnerConfigs: ReadRunnerConfigsSource(e), Breaker: ReadSpotBreaker(e)}
	return s, e.Err()
}
