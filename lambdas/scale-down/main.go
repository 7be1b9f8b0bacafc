// Command scale-down is the scheduled reconcile Lambda (EventBridge schedule): idle runners,
// orphans, ghost registrations and stale token parameters.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/runnertoken"
	"github.com/ghr-dev/ghr/internal/scaledown"
)

func main() {
	cfg, err := config.ReadScaleDown(config.OSEnv())
	b := lambdaboot.Start("scale-down", cfg.LogLevel, err)
	cfgs := b.RunnerConfigs(cfg.RunnerConfigs)
	r := &scaledown.Reconciler{
		Fleet:            scaledown.EC2{API: ec2.NewFromConfig(b.AWS), Prefix: cfg.Prefix, LaunchTemplates: b.LaunchTemplates(cfgs)},
		GitHub:           &scaledown.GitHub{Apps: b.GitHubApp(cfg.GitHubApp)},
		Tokens:           scaledown.NewSSMTokens(runnertoken.Store{API: b.SSM, Prefix: cfg.Prefix}),
		Configs:          cfgs,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              b.Log,
		Metrics:          b.Metrics,
		PassLog:          scaledown.SSMPassLog{API: b.SSM, Prefix: cfg.Prefix},
	}
	lambda.Start(lambdaboot.Scheduled(b, r.Handle))
}
