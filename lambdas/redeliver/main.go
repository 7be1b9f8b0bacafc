// Command redeliver is the scheduled missed-webhook recovery Lambda: failed workflow_job
// deliveries of the App's webhook are redelivered, a bounded number of times with backoff.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/redeliver"
)

func main() {
	cfg, err := config.ReadRedeliver(config.OSEnv())
	b := lambdaboot.Start("redeliver", cfg.LogLevel, err)
	r := &redeliver.Redeliverer{
		Hooks:      redeliver.GitHub{App: b.GitHubApp(cfg.GitHubApp).Webhook()},
		Memory:     redeliver.SSMMemory{API: b.SSM, Name: redeliver.MemoryPath(cfg.Prefix)},
		Lookback:   cfg.Lookback,
		MaxPerPass: cfg.MaxPerPass,
		Log:        b.Log,
		Metrics:    b.Metrics,
	}
	lambda.Start(lambdaboot.Scheduled(b, r.Handle))
}
