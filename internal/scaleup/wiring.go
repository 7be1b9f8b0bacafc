package scaleup

import (
	"log/slog"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/interruption"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// SSMAPI is what the launch path does with SSM: token parameters and the interruption
// records the spot breaker reads; *ssm.Client implements it.
type SSMAPI interface {
	runnertoken.API
	interruption.SSMAPI
}

// NewLauncher wires the production launch path shared by scale-up and the warm pool: EC2
// CreateFleet with the dry-pool cache, SSM token storage and the Apps' GitHub client.
func NewLauncher(ec2API ec2fleet.API, ssmAPI SSMAPI, apps *githubapp.Set, cfg config.ScaleUp, templates []string, m *metrics.Recorder, log *slog.Logger) *Launcher {
	return &Launcher{
		Compute: &EC2Compute{
			API:             ec2API,
			Fleet:           &ec2fleet.Fleet{API: ec2API, Cache: ec2fleet.NewOfferingCache(cfg.OfferingCacheTTL, nil), Logger: log},
			Environment:     cfg.Prefix,
			LaunchTemplates: templates,
			Metrics:         m,
			Capacity:        &interruption.Gate{Store: interruption.SSMStore{API: ssmAPI, Prefix: cfg.Prefix}, Breaker: interruption.BreakerFrom(cfg.SpotBreaker)},
			Log:             log,
		},
		Tokens:           runnertoken.Store{API: ssmAPI, Prefix: cfg.Prefix, KMSKeyID: cfg.TokenKMSKeyID},
		GitHub:           NewAppGitHubSet(apps, cfg.GitHubURL, cfg.GitHubConcurrency, nil),
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Metrics:          m,
		Logger:           log,
	}
}
