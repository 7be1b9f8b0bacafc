package awsproxy

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
	"github.com/ghr-dev/ghr/internal/harness/testutil/slow"
)

// An outage of all capacity refuses spot and on-demand alike, as an instant fleet's error.
func TestCapacityOutageRefusesEveryMarket(t *testing.T) {
	slow.Skip(t, slow.Emulator)
	ctx := context.Background()
	p, err := New(motoserver.Shared(t).URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	p.SetFault(CapacityOutage(1))
	ec := ec2.NewFromConfig(motoproc.AWSConfig(srv.URL))
	for _, capacity := range []types.DefaultTargetCapacityType{types.DefaultTargetCapacityTypeSpot, types.DefaultTargetCapacityTypeOnDemand} {
		out, err := ec.CreateFleet(ctx, &ec2.CreateFleetInput{
			Type: types.FleetTypeInstant,
			LaunchTemplateConfigs: []types.FleetLaunchTemplateConfigRequest{{
				LaunchTemplateSpecification: &types.FleetLaunchTemplateSpecificationRequest{LaunchTemplateName: aws.String("lt"), Version: aws.String("$Latest")},
			}},
			TargetCapacitySpecification: &types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(1), DefaultTargetCapacityType: capacity},
		})
		if err != nil {
			t.Fatalf("%s: %v", capacity, err)
		}
		if len(out.Instances) != 0 || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorCode) != "InsufficientInstanceCapacity" {
			t.Fatalf("%s fleet = %+v, want no instances and InsufficientInstanceCapacity", capacity, out)
		}
	}
	if got := p.Injected()["ec2:CreateFleet"]; got != 2 {
		t.Fatalf("injected %d capacity errors, want 2", got)
	}
}
