// Command webhook is the GitHub webhook intake Lambda (API Gateway HTTP API or Function URL).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/webhook"
)

func main() {
	cfg, err := config.ReadWebhook(config.OSEnv())
	b := lambdaboot.Start("webhook", cfg.LogLevel, err)
	intake, err := webhook.New(webhook.Options{
		Secret: []byte(b.Secret(cfg.Secret)), RunnerConfigs: b.RunnerConfigs(cfg.RunnerConfigs),
		Allowlist: cfg.RepositoryAllowlist, SourceRanges: cfg.SourceRanges, LifecycleQueueURL: cfg.LifecycleQueueURL, RunnerNamePrefix: cfg.RunnerNamePrefix, MaxBodyBytes: cfg.MaxBodyBytes,
		Sender: queue.SQSSender{API: sqs.NewFromConfig(b.AWS)}, Logger: b.Log, Metrics: b.Metrics,
	})
	b.Must(err, "webhook intake")
	lambda.Start(lambdaboot.Handle(b, intake.HandleLambda))
}
