package ghsim

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/ghr-dev/ghr/internal/harness/simrunner"
)

// GitHub's own numbers, the simulator's defaults.
const (
	// DefaultTokenLifetime is an installation token's life on github.com.
	DefaultTokenLifetime = time.Hour
	// registrationTokenLifetime is a runner registration token's life on github.com.
	registrationTokenLifetime = time.Hour
	// DefaultRateLimit is an installation's hourly primary quota (GitHub's minimum for Apps).
	DefaultRateLimit = 5000
	// anonymousRateLimit is the hourly quota of unauthenticated callers (per address on GitHub).
	anonymousRateLimit = 60
	// rateLimitWindow is how long a primary quota lasts before it resets.
	rateLimitWindow = time.Hour
	// DefaultSecondaryPoints is GitHub's documented secondary limit: points per minute per
	// REST endpoint (a GET costs 1, a mutation 5).
	DefaultSecondaryPoints = 900
	secondaryWindow        = time.Minute
	getPoints              = 1
	mutationPoints         = 5
	// jwtMaxLifetime: GitHub rejects App JWTs whose exp is more than 10 minutes after iat.
	jwtMaxLifetime = 10 * time.Minute
	// jwtLeeway absorbs clock drift between a caller and GitHub, as GitHub does for iat.
	jwtLeeway = time.Minute
	// webhookTimeout: GitHub gives up on a delivery after 10 seconds.
	webhookTimeout = 10 * time.Second
	// defaultWebhookWorkers bounds concurrent deliveries; GitHub delivers in parallel, so
	// events of one job may arrive out of order even without injected delays.
	defaultWebhookWorkers = 4
	// maxRecordedBody bounds how much of a webhook answer a delivery record keeps.
	maxRecordedBody = 4 << 10
	// offlineEphemeralTTL and offlineTTL: GitHub removes an ephemeral runner that has not
	// connected for a day, any other runner after 14 days.
	offlineEphemeralTTL = 24 * time.Hour
	offlineTTL          = 14 * 24 * time.Hour
	// maxPerPage is GitHub's largest page; defaultPerPage its default.
	maxPerPage     = 100
	defaultPerPage = 30
)

// Options configure a simulator. The zero value is usable: a generated App key, GitHub's
// limits, no webhook URL (events are recorded as failed deliveries until one is set).
type Options struct {
	AppID   int64  // default 1
	AppSlug string // default "ghr-sim"
	// PrivateKeyPEM is the App's RSA key; nil generates one (about a second of CPU: tests
	// share one through TestKey).
	PrivateKeyPEM []byte
	// BaseURL is the API URL written into resource URLs ("url", "html_url"...); Start sets
	// it to the listener's address. Link headers always use the request's own host.
	BaseURL string

	WebhookURL    string
	WebhookSecret string
	// AppPermissions and AppEvents are what GET /app reports until a manifest is converted;
	// nil means DefaultAppPermissions and workflow_job (a doctor test narrows them).
	AppPermissions map[string]string
	AppEvents      []string
	// WebhookWorkers is how many deliveries are in flight at once (default 4).
	WebhookWorkers int
	// WebhookClient sends deliveries; nil uses a client with GitHub's 10 s timeout.
	WebhookClient *http.Client

	TokenLifetime time.Duration // installation tokens; default one hour
	// RateLimit is each identity's hourly primary quota (the App's JWT calls and each
	// installation count separately); default 5000.
	RateLimit int
	// SecondaryPoints is the per-endpoint, per-identity budget per minute; default 900,
	// negative disables the secondary limit.
	SecondaryPoints int
	// SecondaryStatus is the status of a secondary-limit answer: 403 (default) or 429; GitHub
	// uses both.
	SecondaryStatus int

	// Seed makes injected faults reproducible for a given sequence of requests.
	Seed uint64

	// RetryLostJobs re-runs a job whose runner went offline mid-job (a new job id, run_attempt
	// + 1, a new `queued` event), as a user pressing "Re-run failed jobs" would. Without it
	// the job only fails, which is what GitHub itself does.
	RetryLostJobs bool
	// LostRunnerTimeout is how long a busy runner may be gone before its job fails. GitHub
	// waits about ten minutes; the default 0 fails it at once so tests stay fast.
	LostRunnerTimeout time.Duration

	// RunnerSessionGrace is how long a runner session may go without a job poll or a renewal
	// before the runner service treats its process as gone; default 5 s, and never under
	// two renewal periods (simrunner.RenewEvery) so a live runner is never taken for gone.
	RunnerSessionGrace time.Duration

	// RunnerReleases are the actions/runner releases served (newest first); nil serves
	// DefaultRunnerRelease.
	RunnerReleases []Release

	Now    func() time.Time // clock for tokens, limits and records; default time.Now
	Logger *slog.Logger     // default discards
}

func (o *Options) applyDefaults() {
	if o.AppID == 0 {
		o.AppID = 1
	}
	if o.AppSlug == "" {
		o.AppSlug = "ghr-sim"
	}
	if o.WebhookWorkers <= 0 {
		o.WebhookWorkers = defaultWebhookWorkers
	}
	if o.WebhookClient == nil {
		o.WebhookClient = &http.Client{Timeout: webhookTimeout}
	}
	if o.TokenLifetime <= 0 {
		o.TokenLifetime = DefaultTokenLifetime
	}
	if o.RateLimit <= 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.SecondaryPoints == 0 {
		o.SecondaryPoints = DefaultSecondaryPoints
	}
	if o.SecondaryStatus == 0 {
		o.SecondaryStatus = http.StatusForbidden
	}
	if o.RunnerSessionGrace <= 0 {
		o.RunnerSessionGrace = defaultSessionGrace
	}
	o.RunnerSessionGrace = max(o.RunnerSessionGrace, 2*simrunner.RenewEvery)
	if o.RunnerReleases == nil {
		o.RunnerReleases = []Release{DefaultRunnerRelease()}
	}
	if o.AppPermissions == nil {
		o.AppPermissions = DefaultAppPermissions
	}
	if o.AppEvents == nil {
		o.AppEvents = []string{"workflow_job"}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}
