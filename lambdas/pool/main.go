// Command pool is the scheduled warm-pool Lambda (EventBridge Scheduler, with a time zone):
// it tops up idle org-level runners per runner config through the scale-up launch path.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/drain"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/pool"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaleup"
)

func main() {
	cfg, err := config.ReadPool(config.OSEnv())
	b := lambdaboot.Start("pool", cfg.LogLevel, err)
	ec2API := ec2.NewFromConfig(b.AWS)
	app := b.GitHubApp(cfg.GitHubApp)
	cfgs := b.RunnerConfigs(cfg.RunnerConfigs)
	templates := b.LaunchTemplates(cfgs)
	launcher := scaleup.NewLauncher(ec2API, b.SSM, app, cfg.ScaleUp, templates, b.Metrics, b.Log)
	p := &pool.Pool{
		Fleet:            scaledown.EC2{API: ec2API, Prefix: cfg.Prefix, LaunchTemplates: templates},
		GitHub:           &scaledown.GitHub{Apps: app},
		Launcher:         scaleup.PoolLauncher{L: launcher},
		Configs:          cfgs,
		RunnerNamePrefix: cfg.RunnerNamePrefix,
		Log:              b.Log,
		Metrics:          b.Metrics,
		Drain:            &drain.Switch{Params: b.Params, Name: drain.Path(cfg.Prefix)},
	}
	lambda.Start(lambdaboot.Scheduled(b, p.Handle))
}
