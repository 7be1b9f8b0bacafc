package awsproxy

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

func TestCountsAndFaults(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Shared(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	cfg := motoproc.AWSConfig(srv.URL)
	ec := ec2.NewFromConfig(cfg)
	sq := sqs.NewFromConfig(cfg)
	sm := ssm.NewFromConfig(cfg)

	if _, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatal(err)
	}
	if _, err := sq.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p"), Value: aws.String("v"), Type: "SecureString"}); err != nil {
		t.Fatal(err)
	}
	calls := p.Calls()
	for _, a := range []string{"ec2:DescribeInstances", "sqs:CreateQueue", "ssm:PutParameter"} {
		if calls[a] != 1 {
			t.Fatalf("calls = %v, want one %s", calls, a)
		}
	}

	p.SetFault("ec2:DescribeInstances", Fault{Rate: 1, Status: 503, Code: "RequestLimitExceeded"})
	p.SetFault("ssm:PutParameter", Fault{Rate: 1, Status: 400, Code: "ThrottlingException"})
	_, err = ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "RequestLimitExceeded" {
		t.Fatalf("EC2 fault = %v, want RequestLimitExceeded as an API error", err)
	}
	_, err = sm.PutParameter(ctx, &ssm.PutParameterInput{Name: aws.String("/p2"), Value: aws.String("v"), Type: "SecureString"})
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Fatalf("SSM fault = %v, want ThrottlingException as an API error", err)
	}
	if p.Injected()["ec2:DescribeInstances"] != 1 || p.Calls()["ec2:DescribeInstances"] != 2 {
		t.Fatalf("injected %v calls %v", p.Injected(), p.Calls())
	}
	p.SetFault("ec2:DescribeInstances", Fault{})
	if _, err := ec.DescribeInstances(ctx, &ec2.DescribeInstancesInput{}); err != nil {
		t.Fatalf("fault removed but call failed: %v", err)
	}
}

func TestSpotCapacityOutage(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	moto := motoserver.Shared(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	p.SetFault(SpotCapacityOutage(1))
	ec := ec2.NewFromConfig(motoproc.AWSConfig(srv.URL))
	fleet := func(capacity types.DefaultTargetCapacityType) (*ec2.CreateFleetOutput, error) {
		return ec.CreateFleet(ctx, &ec2.CreateFleetInput{
			Type: types.FleetTypeInstant,
			LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
				LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateName: aws.String("lt"), Version: aws.String("$Latest")},
			}},
			TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: capacity},
		})
	}
	out, err := fleet(types.DefaultTargetCapacityTypeSpot)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Instances) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorCode) != "InsufficientInstanceCapacity" {
		t.Fatalf("spot fleet = %+v, want no instances and InsufficientInstanceCapacity", out)
	}
	// On-demand requests pass through to the emulator (which then complains about the
	// missing launch template: the point is that it was asked).
	before := p.Injected()["ec2:CreateFleet"]
	_, _ = fleet(types.DefaultTargetCapacityTypeOnDemand)
	if p.Injected()["ec2:CreateFleet"] != before || p.Calls()["ec2:CreateFleet"] != 2 {
		t.Fatalf("on-demand request was faulted: injected %v calls %v", p.Injected(), p.Calls())
	}
}
