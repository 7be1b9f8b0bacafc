package awsproxy

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// TestFleetLaunchesCarryTheTemplateProfile: an instance a fleet launches from a template with
// an instance profile has that profile, as on EC2 (moto leaves it without one, and a real
// boot then finds no credentials).
func TestFleetLaunchesCarryTheTemplateProfile(t *testing.T) {
	ctx := context.Background()
	moto := motoserver.Start(t)
	p, err := New(moto.URL, 1)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	defer srv.Close()
	cfg := motoproc.AWSConfig(srv.URL)
	ic := iam.NewFromConfig(cfg)
	if _, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("profiled-runner"), AssumeRolePolicyDocument: aws.String(`{}`)}); err != nil {
		t.Fatal(err)
	}
	prof, err := ic.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("profiled-runner")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("profiled-runner"), RoleName: aws.String("profiled-runner")}); err != nil {
		t.Fatal(err)
	}
	c := ec2.NewFromConfig(cfg)
	if _, err := c.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("profiled-runner"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(motoAMI), InstanceType: ec2types.InstanceTypeT3Micro,
			IamInstanceProfile: &ec2types.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: prof.InstanceProfile.Arn}}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateFleet(ctx, &ec2.CreateFleetInput{Type: ec2types.FleetTypeInstant,
		LaunchTemplateConfigs: []ec2types.FleetLaunchTemplateConfigRequest{{LaunchTemplateSpecification: &ec2types.FleetLaunchTemplateSpecificationRequest{
			LaunchTemplateName: aws.String("profiled-runner"), Version: aws.String("$Latest")}}},
		TargetCapacitySpecification: &ec2types.TargetCapacitySpecificationRequest{TotalTargetCapacity: aws.Int32(2), DefaultTargetCapacityType: ec2types.DefaultTargetCapacityTypeOnDemand}})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, in := range out.Instances {
		ids = append(ids, in.InstanceIds...)
	}
	d, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range d.Reservations {
		for _, i := range r.Instances {
			n++
			if i.IamInstanceProfile == nil || aws.ToString(i.IamInstanceProfile.Arn) != aws.ToString(prof.InstanceProfile.Arn) {
				t.Errorf("instance %s has profile %+v, want %s", aws.ToString(i.InstanceId), i.IamInstanceProfile, aws.ToString(prof.InstanceProfile.Arn))
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d instances, want 2", n)
	}
}
