// Command cleanup consumes the lifecycle queue (SQS event source with
// ReportBatchItemFailures): a finished ephemeral runner's instance is terminated at once and
// its registration deleted.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/cleanup"
	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/interruption"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/queue"
	"github.com/ghr-dev/ghr/internal/scaledown"
)

func main() {
	cfg, err := config.ReadCleanup(config.OSEnv())
	b := lambdaboot.Start("cleanup", cfg.LogLevel, err)
	app := b.GitHubApp(cfg.GitHubApp)
	cfgs := b.RunnerConfigs(cfg.RunnerConfigs)
	c := &cleanup.Cleaner{
		Fleet:            cleanup.EC2{API: ec2.NewFromConfig(b.AWS), Prefix: cfg.Prefix, LaunchTemplates: b.LaunchTemplates(cfgs)},
		GitHub:           &scaledown.GitHub{Apps: app},
		Configs:          cfgs,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              b.Log,
		Metrics:          b.Metrics,
		Reruns: &interruption.Rerunner{
			Store: interruption.SSMStore{API: b.SSM, Prefix: cfg.Prefix}, GitHub: interruption.AppGitHub{Apps: app}, Log: b.Log, Metrics: b.Metrics,
		},
	}
	if cfg.Recheck.QueueURL != "" {
		c.Rechecks = &cleanup.Rechecks{
			Jobs: cleanup.AppJobs{Apps: app}, Sender: queue.SQSSender{API: sqs.NewFromConfig(b.AWS)},
			QueueURL: cfg.Recheck.QueueURL, After: cfg.Recheck.After,
		}
	}
	lambda.Start(lambdaboot.Handle(b, c.HandleSQS))
}
