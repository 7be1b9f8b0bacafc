// Command syncer is the runner-binaries syncer Lambda (EventBridge schedule, and once after
// deploy): it copies the actions/runner release archives into the dist bucket.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/lambdaboot"
	"github.com/ghr-dev/ghr/internal/syncer"
)

func main() {
	env := config.OSEnv()
	cfg := config.ReadSyncer(env)
	b := lambdaboot.Start("syncer", cfg.LogLevel, env.Err())
	token, err := syncer.Credentials(b.Ctx, cfg, b.Params)
	b.Must(err, "github credentials")
	client := s3.NewFromConfig(b.AWS, func(o *s3.Options) {
		o.UsePathStyle = os.Getenv("AWS_ENDPOINT_URL") != "" // moto serves buckets by path
	})
	s := &syncer.Syncer{
		Source:  &syncer.GitHub{APIURL: cfg.APIURL, Repo: cfg.RunnerRepository, Token: token, HTTP: syncer.NewHTTPClient()},
		Store:   &syncer.Bucket{API: client, Name: cfg.DistBucket},
		Version: cfg.RunnerVersion,
		Targets: cfg.RunnerTargets,
		Log:     b.Log,
	}
	lambda.Start(lambdaboot.Handle(b, func(ctx context.Context, _ json.RawMessage) (syncer.Result, error) { return s.Sync(ctx) }))
}
