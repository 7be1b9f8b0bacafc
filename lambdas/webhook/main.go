// Command webhook is the GitHub webhook intake Lambda (API Gateway HTTP API or Function URL).
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
	"github.com/ghr-dev/ghr/internal/webhook"
)

func main() {
	ctx := context.Background()
	cfg, err := config.ReadWebhook(config.OSEnv())
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "webhook", "version", version.Version)
	if err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	params := ssmparam.Reader{API: ssm.NewFromConfig(awsCfg)}
	secret, err := cfg.Secret.Resolve(ctx, params)
	if err != nil {
		fatal(log, "webhook secret", err)
	}
	runners, err := config.LoadRunnerConfigs(ctx, cfg.RunnerConfigs, params)
	if err != nil {
		fatal(log, "runner configs", err)
	}
	intake, err := webhook.New(webhook.Options{
		Secret: []byte(secret), RunnerConfigs: runners, Allowlist: cfg.RepositoryAllowlist,
		LifecycleQueueURL: cfg.LifecycleQueueURL, MaxBodyBytes: cfg.MaxBodyBytes,
		Sender: queue.SQSSender{API: sqs.NewFromConfig(awsCfg)}, Logger: log,
	})
	if err != nil {
		fatal(log, "webhook intake", err)
	}
	lambda.Start(intake.HandleLambda)
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
