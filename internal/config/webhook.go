package config

import "math"

// Webhook is the webhook function's configuration.
type Webhook struct {
	Common
	Secret              Secret // WEBHOOK_SECRET / WEBHOOK_SECRET_PARAMETER
	RunnerConfigs       Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER
	RepositoryAllowlist []string
	LifecycleQueueURL   string
	MaxBodyBytes        int
}

// Body limits: below minBody even a ping does not fit; above maxBody API Gateway refuses
// the request anyway (10 MB payload limit).
const (
	defaultWebhookBody = 1 << 20
	minWebhookBody     = 16 << 10
	maxWebhookBody     = 10 << 20
)

// ReadWebhook reads and validates the webhook function's environment.
func ReadWebhook(e *Env) (Webhook, error) {
	w := Webhook{
		Common:              ReadCommon(e),
		Secret:              e.Secret("WEBHOOK_SECRET"),
		RunnerConfigs:       ReadRunnerConfigsSource(e),
		RepositoryAllowlist: e.List("REPOSITORY_ALLOWLIST"),
		LifecycleQueueURL:   e.String("LIFECYCLE_QUEUE_URL", ""),
		MaxBodyBytes:        e.Int("MAX_BODY_BYTES", defaultWebhookBody, minWebhookBody, min(maxWebhookBody, math.MaxInt32)),
	}
	for _, r := range w.RepositoryAllowlist {
		if owner, repo, ok := cutRepo(r); !ok || owner == "" || repo == "" {
			e.Fail("REPOSITORY_ALLOWLIST: %q is not owner/repo or owner/*", r)
		}
	}
	return w, e.Err()
}
