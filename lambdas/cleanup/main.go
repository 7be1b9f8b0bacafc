// Command cleanup consumes the lifecycle queue (SQS event source with
// ReportBatchItemFailures): a finished ephemeral runner's instance is terminated at once and
// its registration deleted.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/cleanup"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
)

func main() {
	ctx := context.Background()
	cfg, err := config.ReadCleanup(config.OSEnv())
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "cleanup", "version", version.Version)
	if err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	params := ssmparam.Reader{API: ssm.NewFromConfig(awsCfg)}
	runners, err := config.LoadRunnerConfigs(ctx, cfg.RunnerConfigs, params)
	if err != nil {
		fatal(log, "runner configs", err)
	}
	app, err := githubapp.Load(ctx, cfg.GitHubApp, params, githubapp.Config{})
	if err != nil {
		fatal(log, "github app", err)
	}
	c := &cleanup.Cleaner{
		Fleet:            cleanup.EC2{API: ec2.NewFromConfig(awsCfg), Prefix: cfg.Prefix},
		GitHub:           &scaledown.GitHub{App: app},
		Configs:          runners,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              log,
	}
	lambda.Start(c.HandleSQS)
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
