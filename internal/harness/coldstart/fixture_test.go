package coldstart

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/ghr-dev/ghr/internal/harness/ghsim"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/tags"
)

const (
	prefix        = "ghr-bench"
	org           = "octo"
	configKey     = "linux"
	webhookSecret = "cold-start-webhook-secret"
	// noSecondaryLimit turns the simulator's secondary limit off (ghsim.Options).
	noSecondaryLimit = -1
	// fixtureAMI is an image moto knows.
	fixtureAMI = "ami-12c6146b"
)

// fixture is one deployment's worth of state in moto and the simulator: what every function
// needs at init and for its first event to be an ordinary one.
type fixture struct {
	gh      *ghsim.Server
	secrets map[string]string // for the log scan
	envs    map[string]map[string]string
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	ctx := context.Background()
	moto := motoserver.Start(tb)
	// No secondary limit: every fresh process mints its own installation token (a deployed
	// container mints one an hour, its cache's life), and BenchmarkColdStart starts as many
	// processes as its time allows, hundreds when starts are fast: one App's 900 points a
	// minute would refuse the later functions their tokens and leave their figures absent.
	// Pacing is measured by the burst benchmarks, not here.
	gh, err := ghsim.Start(ctx, ghsim.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SecondaryPoints: noSecondaryLimit})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { gh.Close() })
	if _, err := gh.AddOrg(org); err != nil {
		tb.Fatal(err)
	}
	if _, err := gh.AddRepo(org, "app"); err != nil {
		tb.Fatal(err)
	}
	if _, err := gh.Install(org); err != nil {
		tb.Fatal(err)
	}

	awsCfg := moto.AWSConfig()
	params := map[string]string{
		"/" + prefix + "/app/id":             strconv.FormatInt(gh.AppID(), 10),
		"/" + prefix + "/app/key":            string(gh.PrivateKeyPEM()),
		"/" + prefix + "/app/webhook-secret": webhookSecret,
	}
	ssmAPI := ssm.NewFromConfig(awsCfg)
	for name, v := range params {
		if _, err := ssmAPI.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString}); err != nil {
			tb.Fatalf("put %s: %v", name, err)
		}
	}
	sqsAPI := sqs.NewFromConfig(awsCfg)
	queue := func(name string) string {
		out, err := sqsAPI.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(prefix + "-" + name)})
		if err != nil {
			tb.Fatalf("create queue %s: %v", name, err)
		}
		return aws.ToString(out.QueueUrl)
	}
	buildQueue, lifecycleQueue := queue(configKey), queue("lifecycle")
	bucket := prefix + "-dist"
	s3API := s3.NewFromConfig(awsCfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3API.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		tb.Fatalf("create bucket: %v", err)
	}
	// One young pool instance: the pool pass finds its pool full and scale-down a runner
	// still booting, the steady state of both. It is launched from the config's launch
	// template, whose id EC2 tags it with: every listing requires that proof of ownership.
	ec2API := ec2.NewFromConfig(awsCfg)
	lt, err := ec2API.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(prefix + "-" + configKey),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(fixtureAMI)},
	})
	if err != nil {
		tb.Fatalf("create launch template: %v", err)
	}
	templateID := aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	if _, err := ec2API.RunInstances(ctx, &ec2.RunInstancesInput{
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(templateID)},
		MinCount:       aws.Int32(1), MaxCount: aws.Int32(1),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String(tags.Environment), Value: aws.String(prefix)}, {Key: aws.String(tags.RunnerConfig), Value: aws.String(configKey)},
			{Key: aws.String(tags.Type), Value: aws.String(tags.TypeOrg)}, {Key: aws.String(tags.Owner), Value: aws.String(org)},
			{Key: aws.String(tags.CreatedBy), Value: aws.String(tags.CreatedByPool)},
		}}},
	}); err != nil {
		tb.Fatalf("run instance: %v", err)
	}

	configs, err := json.Marshal([]map[string]any{{
		"key": configKey, "labels": []string{"self-hosted", "linux", "x64"}, "queue_url": buildQueue, "ephemeral": true,
		"launch_template": prefix + "-" + configKey, "launch_template_id": templateID, "instance_types": []string{"m7g.large"}, "subnet_ids": []string{"subnet-1"},
		"max_runners": 1, "pool_size": 1, "pool_owner": org,
	}})
	if err != nil {
		tb.Fatal(err)
	}
	common := map[string]string{"PREFIX": prefix, "LOG_LEVEL": "info"}
	for _, kv := range moto.Env() {
		k, v, _ := strings.Cut(kv, "=")
		common[k] = v
	}
	app := map[string]string{
		"GITHUB_APP_ID_PARAMETER": "/" + prefix + "/app/id", "GITHUB_APP_KEY_PARAMETER": "/" + prefix + "/app/key",
		"GITHUB_API_URL": gh.URL,
	}
	runners := map[string]string{"RUNNER_CONFIGS": string(configs)}
	env := func(parts ...map[string]string) map[string]string {
		out := maps.Clone(common)
		for _, p := range parts {
			maps.Copy(out, p)
		}
		return out
	}
	return &fixture{
		gh:      gh,
		secrets: map[string]string{"app key": string(gh.PrivateKeyPEM()), "webhook secret": webhookSecret},
		envs: map[string]map[string]string{
			"webhook":    env(runners, map[string]string{"WEBHOOK_SECRET_PARAMETER": "/" + prefix + "/app/webhook-secret", "LIFECYCLE_QUEUE_URL": lifecycleQueue}),
			"scale-up":   env(app, runners),
			"pool":       env(app, runners),
			"scale-down": env(app, runners),
			"cleanup":    env(app, runners),
			"redeliver":  env(app),
			"syncer":     env(app, map[string]string{"DIST_BUCKET": bucket, "RUNNER_TARGETS": "linux-x64,linux-arm64"}),
		},
	}
}
