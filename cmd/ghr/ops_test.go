package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/tags"
)

// The operator commands against the emulator, through the SDK's standard chain (env).
func TestOperatorCommandsAgainstTheEmulator(t *testing.T) {
	moto := motoserver.Start(t)
	for k, v := range motoproc.Env(moto.URL) {
		t.Setenv(k, v)
	}
	t.Setenv("GHR_PREFIX", "")
	ctx := context.Background()
	cfg := moto.AWSConfig()
	sq, ec := sqs.NewFromConfig(cfg), ec2.NewFromConfig(cfg)
	if _, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("ops-build-small-dlq")}); err != nil {
		t.Fatal(err)
	}
	imgs, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{})
	if err != nil || len(imgs.Images) == 0 {
		t.Fatalf("no image: %v", err)
	}
	if _, err := ec.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("ops-small"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: imgs.Images[0].ImageId, InstanceType: ec2types.InstanceTypeM5Large}}); err != nil {
		t.Fatal(err)
	}
	inst, err := ec.RunInstances(ctx, &ec2.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &ec2types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("ops-small")},
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{
			{Key: aws.String(tags.Environment), Value: aws.String("ops")}, {Key: aws.String(tags.RunnerConfig), Value: aws.String("small")},
			{Key: aws.String(tags.JobID), Value: aws.String("42")}, {Key: aws.String(tags.CreatedBy), Value: aws.String(tags.CreatedByScaleUp)},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(inst.Instances[0].InstanceId)

	ghr := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(ctx, args, &out, &errOut)
		return out.String(), err
	}
	for _, tc := range []struct {
		args []string
		want []string // substrings of the output
	}{
		{[]string{"status", "-prefix", "ops"}, []string{"1 instances", "drained: none", "ops-build-small-dlq", "build dlq", "CONFIG", "small"}},
		{[]string{"runners", "-prefix", "ops"}, []string{id, "small", "42"}},
		{[]string{"drain", "-prefix", "ops", "small"}, []string{"drained now: small"}},
		{[]string{"protect", "-prefix", "ops", id}, []string{id + " protected"}},
		{[]string{"runners", "-prefix", "ops"}, []string{"protected"}},
		{[]string{"unprotect", "-prefix", "ops", id}, []string{id + " unprotected"}},
		{[]string{"undrain", "-prefix", "ops", "-all"}, []string{"drained now: none"}},
	} {
		out, err := ghr(tc.args...)
		if err != nil {
			t.Fatalf("ghr %s: %v", strings.Join(tc.args, " "), err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("ghr %s: output lacks %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
		if strings.Contains(out, "\x1b[") {
			t.Errorf("ghr %s: colour written to a non-terminal", strings.Join(tc.args, " "))
		}
	}
	out, err := ghr("status", "-prefix", "ops", "-json")
	var st struct {
		Instances int `json:"instances"`
		Runners   []struct {
			Config  string `json:"config"`
			Drained bool   `json:"drained"`
		} `json:"runners"`
	}
	if err != nil || json.Unmarshal([]byte(out), &st) != nil || st.Instances != 1 || len(st.Runners) != 1 || st.Runners[0].Drained {
		t.Fatalf("status -json: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"status"}, // no prefix
		{"drain", "-prefix", "ops"},
		{"drain", "-prefix", "ops", "-all", "small"},
		{"protect", "-prefix", "ops"},
	} {
		if _, err := ghr(args...); !errors.Is(err, errUsage) {
			t.Errorf("ghr %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	if _, err := ghr("protect", "-prefix", "other", id); err == nil || errors.Is(err, errUsage) {
		t.Errorf("protect another deployment's instance: %v, want refused", err)
	}
}
