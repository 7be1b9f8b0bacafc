// Command scale-down is the scheduled reconcile Lambda (EventBridge schedule): idle runners,
// orphans, ghost registrations and stale token parameters.
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
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
)

func main() {
	ctx := context.Background()
	cfg, err := config.ReadScaleDown(config.OSEnv())
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "scale-down", "version", version.Version)
	if err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	ssmAPI := ssm.NewFromConfig(awsCfg)
	params := ssmparam.Reader{API: ssmAPI}
	runners, err := config.LoadRunnerConfigs(ctx, cfg.RunnerConfigs, params)
	if err != nil {
		fatal(log, "runner configs", err)
	}
	app, err := githubapp.Load(ctx, cfg.GitHubApp, params, githubapp.Config{})
	if err != nil {
		fatal(log, "github app", err)
	}
	r := &scaledown.Reconciler{
		Fleet:            scaledown.EC2{API: ec2.NewFromConfig(awsCfg), Prefix: cfg.Prefix},
		GitHub:           &scaledown.GitHub{App: app},
		Tokens:           scaledown.NewSSMTokens(runnertoken.Store{API: ssmAPI, Prefix: cfg.Prefix}),
		Configs:          runners,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              log,
	}
	lambda.Start(r.Handle)
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
