// Package lambdaboot is the start every function's main shares: the JSON logger, the AWS
// config (honouring AWS_ENDPOINT_URL, so the same binary runs against the local emulator),
// and secrets and runner configs read from env or SSM once per container. Any failure is
// logged with its reason and exits: Lambda then reports an init error instead of a function
// limping along half-configured.
package lambdaboot

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/githubapp"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/metrics"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/version"
)

// Boot holds what every function builds first.
type Boot struct {
	Ctx    context.Context
	Log    *slog.Logger
	AWS    aws.Config
	SSM    *ssm.Client
	Params ssmparam.Reader
	// Metrics is the function's EMF recorder, flushed after every invocation (Handle).
	Metrics *metrics.Recorder
}

var _ metrics.GitHubStats = (*githubapp.Stats)(nil)

// Start builds the logger for function name and, unless the configuration was invalid
// (cfgErr), the AWS clients.
func Start(name string, level slog.Level, cfgErr error) *Boot {
	b := &Boot{Ctx: context.Background(), Log: logging.New(os.Stdout, level).With("function", name, "version", version.Version)}
	// PREFIX is validated by every function's config (config.Common); read here so the
	// recorder exists before the config error is reported.
	b.Metrics = metrics.New(os.Stdout, os.Getenv("PREFIX"), name)
	b.Must(cfgErr, "invalid configuration")
	var err error
	b.AWS, err = awsconfig.LoadDefaultConfig(b.Ctx)
	b.Must(err, "aws config")
	b.SSM = ssm.NewFromConfig(b.AWS)
	b.Params = ssmparam.Reader{API: b.SSM}
	return b
}

// Must logs err and exits when it is not nil.
func (b *Boot) Must(err error, what string) {
	if err != nil {
		b.Log.Error(what, logging.KeyError, err.Error())
		os.Exit(1)
	}
}

// RunnerConfigs reads the runner configs from env or SSM.
func (b *Boot) RunnerConfigs(src config.Secret) []config.RunnerConfig {
	cfgs, err := config.LoadRunnerConfigs(b.Ctx, src, b.Params)
	b.Must(err, "runner configs")
	return cfgs
}

// LaunchTemplates returns the runner configs' launch template ids, which every listing of
// the deployment's instances requires (config.LaunchTemplateIDs).
func (b *Boot) LaunchTemplates(cfgs []config.RunnerConfig) []string {
	ids, err := config.LaunchTemplateIDs(cfgs)
	b.Must(err, "runner configs")
	return ids
}

// GitHubApp reads the credentials of the deployment's Apps (the webhook App and GITHUB_APPS)
// and builds their clients, each paced on this container's part of that App's own
// secondary-limit budget (GITHUB_POINTS_PER_MINUTE, points_per_minute in GITHUB_APPS).
func (b *Boot) GitHubApp(src config.GitHubApp) *githubapp.Set {
	apps, err := githubapp.LoadSet(b.Ctx, src, b.Params, githubapp.Config{PointsPerMinute: src.PointsPerMinute})
	b.Must(err, "github app")
	perApp := make([]int, 0, len(apps.Apps()))
	for _, a := range src.All() {
		perApp = append(perApp, a.PointsPerMinute)
	}
	b.Log.Info("github app ready", "apps", len(perApp), "points_per_minute", perApp)
	b.Metrics.TrackGitHub(apps.Stats())
	return apps
}

// Handle wraps a function's handler so that the metrics of each invocation are written when
// it returns, whatever it returns.
func Handle[In, Out any](b *Boot, h func(context.Context, In) (Out, error)) func(context.Context, In) (Out, error) {
	return func(ctx context.Context, in In) (Out, error) {
		defer b.flush()
		return h(ctx, in)
	}
}

// Scheduled is Handle for a handler that takes no event (an EventBridge schedule).
func Scheduled[Out any](b *Boot, h func(context.Context) (Out, error)) func(context.Context) (Out, error) {
	return func(ctx context.Context) (Out, error) {
		defer b.flush()
		return h(ctx)
	}
}

func (b *Boot) flush() {
	if err := b.Metrics.Flush(); err != nil {
		b.Log.Warn("metrics", logging.KeyError, err.Error())
	}
}

// Secret resolves a secret from env or SSM.
func (b *Boot) Secret(s config.Secret) string {
	v, err := s.Resolve(b.Ctx, b.Params)
	b.Must(err, "secret "+s.Env)
	return v
}
