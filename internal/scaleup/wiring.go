package scaleup

import (
	"log/slog"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/runnertoken"
)

// NewLauncher wires the production launch path shared by scale-up and the warm pool: EC2
// CreateFleet with the dry-pool cache, SSM token storage and the App's GitHub client.
func NewLauncher(ec2API ec2fleet.API, ssmAPI runnertoken.API, app *githubapp.App, cfg config.ScaleUp, m *metrics.Recorder, log *slog.Logger) *Launcher {
	return &Launcher{
		Compute: &EC2Compute{
			API:         ec2API,
			Fleet:       &ec2fleet.Fleet{API: ec2API, Cache: ec2fleet.NewOfferingCache(cfg.OfferingCacheTTL, nil), Logger: log},
			Environment: cfg.Prefix,
			Metrics:     m,
		},
		Tokens:           runnertoken.Store{API: ssmAPI, Prefix: cfg.Prefix, KMSKeyID: cfg.TokenKMSKeyID},
		GitHub:           NewAppGitHub(app, cfg.GitHubURL, cfg.GitHubConcurrency, nil),
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Metrics:          m,
		Logger:           log,
	}
}
