package config

import "time"

// Redeliver is the missed-webhook recovery's configuration.
type Redeliver struct {
	Common
	GitHubApp
	Lookback   time.Duration // REDELIVER_LOOKBACK: how far back failed deliveries are redelivered
	MaxPerPass int           // REDELIVER_MAX_PER_PASS: redeliveries per pass at most
}

// Redelivery limits.
const (
	// defaultLookback covers several missed schedule runs; a job queued longer than an hour
	// without a runner has usually been noticed by its author.
	defaultLookback = time.Hour
	minLookback     = 5 * time.Minute // shorter than a schedule interval would skip deliveries
	// maxLookback is how long GitHub keeps App webhook deliveries.
	maxLookback = 72 * time.Hour
	// defaultMaxPerPass bounds one pass's POSTs (each a mutation under GitHub's secondary
	// limits) after an outage; the rest wait for the next pass.
	defaultMaxPerPass = 100
	maxMaxPerPass     = 1000
)

// ReadRedeliver reads and validates the redeliver function's environment.
func ReadRedeliver(e *Env) (Redeliver, error) {
	r := Redeliver{
		Common:     ReadCommon(e),
		GitHubApp:  ReadWebhookApp(e),
		Lookback:   e.Duration("REDELIVER_LOOKBACK", defaultLookback, minLookback, maxLookback),
		MaxPerPass: e.Int("REDELIVER_MAX_PER_PASS", defaultMaxPerPass, 1, maxMaxPerPass),
	}
	return r, e.Err()
}
