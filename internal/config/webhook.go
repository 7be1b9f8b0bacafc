package config

import (
	"math"
	"net/netip"
)

// Webhook is the webhook function's configuration.
type Webhook struct {
	Common
	Secret              Secret // WEBHOOK_SECRET / WEBHOOK_SECRET_PARAMETER
	RunnerConfigs       Secret // RUNNER_CONFIGS / RUNNER_CONFIGS_PARAMETER
	RepositoryAllowlist []string
	SourceRanges        []string // WEBHOOK_SOURCE_RANGES: CIDR ranges webhooks may come from; empty admits all
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
		SourceRanges:        e.List("WEBHOOK_SOURCE_RANGES"),
		LifecycleQueueURL:   e.String("LIFECYCLE_QUEUE_URL", ""),
		MaxBodyBytes:        e.Int("MAX_BODY_BYTES", defaultWebhookBody, minWebhookBody, min(maxWebhookBody, math.MaxInt32)),
	}
	for _, r := range w.RepositoryAllowlist {
		if owner, repo, ok := cutRepo(r); !ok || owner == "" || repo == "" {
			e.Fail("REPOSITORY_ALLOWLIST: %q is not owner/repo or owner/*", r)
		}
	}
	for _, r := range w.SourceRanges {
		if _, err := netip.ParsePrefix(r); err != nil {
			e.Fail("WEBHOOK_SOURCE_RANGES: %q is not a CIDR range", r)
		}
	}
	return w, e.Err()
}
