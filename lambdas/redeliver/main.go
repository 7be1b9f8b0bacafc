// Command redeliver is the scheduled missed-webhook recovery Lambda: failed workflow_job
// deliveries of the App's webhook are redelivered, each at most once.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/redeliver"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
)

func main() {
	ctx := context.Background()
	cfg, err := config.ReadRedeliver(config.OSEnv())
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "redeliver", "version", version.Version)
	if err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	ssmAPI := ssm.NewFromConfig(awsCfg)
	app, err := githubapp.Load(ctx, cfg.GitHubApp, ssmparam.Reader{API: ssmAPI}, githubapp.Config{})
	if err != nil {
		fatal(log, "github app", err)
	}
	r := &redeliver.Redeliverer{
		Hooks:      redeliver.GitHub{App: app},
		Memory:     redeliver.SSMMemory{API: ssmAPI, Name: redeliver.MemoryPath(cfg.Prefix)},
		Lookback:   cfg.Lookback,
		MaxPerPass: cfg.MaxPerPass,
		Log:        log,
	}
	lambda.Start(r.Handle)
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
