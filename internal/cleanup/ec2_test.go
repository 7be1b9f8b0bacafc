package cleanup

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/config"
	"github.com/ghr-dev/ghr/internal/ec2fleet/ec2fleettest"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
	"github.com/ghr-dev/ghr/internal/scaledown"
	"github.com/ghr-dev/ghr/internal/scaledown/ghfake"
	"github.com/ghr-dev/ghr/internal/tags"
)

// motoAMI is an image id moto accepts without a DescribeImages round (which costs seconds).
const motoAMI = "ami-12c6146b"

func run(t *testing.T, api *ec2.Client, env, cfg string) string {
	t.Helper()
	out, err := api.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId: aws.String(motoAMI), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ec2fleettest.Template(t, api))},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{
			{Key: aws.String(tags.Environment), Value: aws.String(env)},
			{Key: aws.String(tags.RunnerConfig), Value: aws.String(cfg)},
			{Key: aws.String(tags.Type), Value: aws.String(tags.TypeOrg)},
			{Key: aws.String(tags.Owner), Value: aws.String("octo")},
			{Key: aws.String(tags.CreatedBy), Value: aws.String(tags.CreatedByScaleUp)},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

func state(t *testing.T, api *ec2.Client, id string) string {
	t.Helper()
	out, err := api.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Reservations[0].Instances[0].State.Name)
}

// TestCleanupOnMoto: a completed job's instance is found by id within the deployment and
// terminated; another deployment's instance with the same runner-name shape is not.
func TestCleanupOnMoto(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	api := ec2.NewFromConfig(motoserver.Start(t).AWSConfig())
	mine := run(t, api, "ghr", "eph")
	foreign := run(t, api, "other", "eph")
	fleet := EC2{API: api, Prefix: "ghr", LaunchTemplates: []string{ec2fleettest.Template(t, api)}}

	got, err := fleet.Describe(ctx, []string{mine, foreign, "i-0123456789abcdef0"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != mine || got[0].RunnerConfig != "eph" || got[0].Owner != octo {
		t.Fatalf("Describe = %+v, want only %s with its tags", got, mine)
	}

	gh := ghfake.New(t)
	gh.AddInstallation(7, "octo", "Organization")
	rid := gh.AddRunner("orgs/octo", prefix+mine, false, false)
	if _, err := api.CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{mine}, Tags: []types.Tag{
		{Key: aws.String(tags.RunnerIDKey(mine)), Value: aws.String(strconv.FormatInt(rid, 10))},
	}}); err != nil {
		t.Fatal(err)
	}
	c := &Cleaner{Fleet: fleet, GitHub: &scaledown.GitHub{App: gh.App(t)}, RunnerNamePrefix: prefix,
		Configs: []config.RunnerConfig{{Key: "eph", Ephemeral: true}}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	resp, err := c.HandleSQS(ctx, batch(completed(1, prefix+mine, rid), completed(2, prefix+foreign, 99)))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp = %v, %v", failed(resp), err)
	}
	if s := state(t, api, mine); s == "running" || s == "pending" {
		t.Errorf("finished runner's instance is %s", s)
	}
	if s := state(t, api, foreign); s != "running" {
		t.Errorf("another deployment's instance is %s", s)
	}
	if len(gh.Runners("orgs/octo")) != 0 {
		t.Error("registration not deleted")
	}
	// A redelivered message for the now-terminated instance is a no-op, not an error.
	if resp, err = c.HandleSQS(ctx, batch(completed(1, prefix+mine, rid))); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("second delivery: %v, %v", failed(resp), err)
	}
}
