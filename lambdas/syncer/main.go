// Command syncer is the runner-binaries syncer Lambda (EventBridge schedule, and once after
// deploy): it copies the actions/runner release archives into the dist bucket.
package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/logging"
	"github.com/ghr-dev/ghr/internal/ssmparam"
	"github.com/ghr-dev/ghr/internal/syncer"
	"github.com/ghr-dev/ghr/internal/version"
)

func main() {
	ctx := context.Background()
	env := config.OSEnv()
	cfg := config.ReadSyncer(env)
	log := logging.New(os.Stdout, cfg.LogLevel).With("function", "syncer", "version", version.Version)
	if err := env.Err(); err != nil {
		fatal(log, "invalid configuration", err)
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		fatal(log, "aws config", err)
	}
	token, err := syncer.Credentials(ctx, cfg, ssmparam.Reader{API: ssm.NewFromConfig(awsCfg)})
	if err != nil {
		fatal(log, "github credentials", err)
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" // moto serves buckets by path
	})
	s := &syncer.Syncer{
		Source:  &syncer.GitHub{APIURL: cfg.APIURL, Repo: cfg.RunnerRepository, Token: token, HTTP: syncer.NewHTTPClient()},
		Store:   &syncer.Bucket{API: client, Name: cfg.DistBucket},
		Version: cfg.RunnerVersion,
		Targets: cfg.RunnerTargets,
		Log:     log,
	}
	lambda.Start(func(ctx context.Context, _ json.RawMessage) (syncer.Result, error) { return s.Sync(ctx) })
}

func fatal(log *slog.Logger, msg string, err error) {
	log.Error(msg, logging.KeyError, err.Error())
	os.Exit(1)
}
