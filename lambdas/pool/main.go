// Command pool is the scheduled warm-pool Lambda (EventBridge Scheduler, with a time zone):
// it tops up idle org-level runners per runner config through the scale-up launch path.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/pool"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaleup"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
)

func main() {
	ctx := context.Background()
	cfg, err := config.ReadPool(config.OSEnv())
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "pool", "version", version.Version)
	if err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	ssmAPI := ssm.NewFromConfig(awsCfg)
	ec2API := ec2.NewFromConfig(awsCfg)
	params := ssmparam.Reader{API: ssmAPI}
	runners, err := config.LoadRunnerConfigs(ctx, cfg.RunnerConfigs, params)
	if err != nil {
		fatal(log, "runner configs", err)
	}
	app, err := githubapp.Load(ctx, cfg.GitHubApp, params, githubapp.Config{})
	if err != nil {
		fatal(log, "github app", err)
	}
	launcher := &scaleup.Launcher{
		Compute: &scaleup.EC2Compute{
			API:         ec2API,
			Fleet:       &ec2fleet.Fleet{API: ec2API, Cache: ec2fleet.NewOfferingCache(cfg.OfferingCacheTTL, nil), Logger: log},
			Environment: cfg.Prefix,
		},
		Tokens:           runnertoken.Store{API: ssmAPI, Prefix: cfg.Prefix, KMSKeyID: cfg.TokenKMSKeyID},
		GitHub:           scaleup.NewAppGitHub(app, cfg.GitHubURL, cfg.GitHubConcurrency, nil),
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Logger:           log,
	}
	p := &pool.Pool{
		Fleet:            scaledown.EC2{API: ec2API, Prefix: cfg.Prefix},
		GitHub:           &scaledown.GitHub{App: app},
		Launcher:         scaleup.PoolLauncher{L: launcher},
		Configs:          runners,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              log,
	}
	lambda.Start(p.Handle)
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
