// Command spot-interruption receives EventBridge's EC2 Spot Instance Interruption Warnings and
// instance state changes: it records the interruption of one of this deployment's instances
// (the spot circuit breaker's state) and deregisters its runner so GitHub fails the job at
// once; clean-up then re-runs the job on on-demand (internal/interruption).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/interruption"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/scaledown"
)

func main() {
	cfg, err := config.ReadSpotInterruption(config.OSEnv())
	b := lambdaboot.Start("spot-interruption", cfg.LogLevel, err)
	templates := b.LaunchTemplates(b.RunnerConfigs(cfg.RunnerConfigs))
	h := &interruption.Handler{
		Fleet:   interruption.EC2{API: ec2.NewFromConfig(b.AWS), Prefix: cfg.Prefix, LaunchTemplates: templates},
		GitHub:  &scaledown.GitHub{Apps: b.GitHubApp(cfg.GitHubApp)},
		Store:   interruption.SSMStore{API: b.SSM, Prefix: cfg.Prefix},
		Breaker: interruption.BreakerFrom(cfg.Breaker),
		Log:     b.Log,
		Metrics: b.Metrics,
	}
	lambda.Start(lambdaboot.Handle(b, func(ctx context.Context, ev events.EventBridgeEvent) (struct{}, error) {
		return struct{}{}, h.Handle(ctx, ev)
	}))
}
