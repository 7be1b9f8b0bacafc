// Command scale-up is the Lambda that consumes every runner config's build queue (one SQS
// event source mapping per queue, ReportBatchItemFailures) and launches registered runners.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

func main() {
	env := config.OSEnv()
	cfg := config.ReadScaleUp(env)
	b := lambdaboot.Start("scale-up", cfg.LogLevel, env.Err())
	cfgs := b.RunnerConfigs(cfg.RunnerConfigs)
	launcher := scaleup.NewLauncher(ec2.NewFromConfig(b.AWS), b.SSM, b.GitHubApp(cfg.GitHubApp), cfg, b.LaunchTemplates(cfgs), b.Metrics, b.Log)
	sender := queue.SQSSender{API: sqs.NewFromConfig(b.AWS)}
	h := &scaleup.Handler{
		Launcher: launcher, Configs: config.ByKey(cfgs), CheckJobQueued: cfg.CheckJobQueued,
		Requeue: sender, MaxReceives: cfg.MaxReceiveCount, Logger: b.Log, Metrics: b.Metrics,
		Drain: &drain.Switch{Params: b.Params, Name: drain.Path(cfg.Prefix)},
	}
	if cfg.Recheck.QueueURL != "" {
		h.Recheck = &scaleup.Rechecker{Sender: sender, QueueURL: cfg.Recheck.QueueURL, After: cfg.Recheck.After}
	}
	lambda.Start(lambdaboot.Handle(b, h.Handle))
}
