// Package ec2fleettest builds the EC2 world an integration test needs on moto_server: a VPC,
// subnets in two zones and a launch template, as the Terraform module would.
package ec2fleettest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// World is what Setup created.
type World struct {
	VPCID            string
	SubnetIDs        []string // one per zone
	ImageID          string
	LaunchTemplate   string // name
	LaunchTemplateID string // what EC2 tags its launches with (aws:ec2launchtemplate:id)
}

// Zones of the subnets; moto's us-east-1 knows them.
var Zones = []string{"us-east-1a", "us-east-1b"}

// Setup creates the VPC, subnets and launch template.
func Setup(tb testing.TB, api *ec2.Client) World {
	tb.Helper()
	ctx := context.Background()
	imgs, err := api.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"amazon"}})
	if err != nil || len(imgs.Images) == 0 {
		tb.Fatalf("describe images: %v (%d images)", err, len(imgs.Images))
	}
	w := World{ImageID: aws.ToString(imgs.Images[0].ImageId), LaunchTemplate: TemplateName}
	vpc, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		tb.Fatalf("create vpc: %v", err)
	}
	w.VPCID = aws.ToString(vpc.Vpc.VpcId)
	for i, az := range Zones {
		sn, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{
			VpcId: vpc.Vpc.VpcId, AvailabilityZone: aws.String(az),
			CidrBlock: aws.String([]string{"10.0.1.0/24", "10.0.2.0/24"}[i]),
		})
		if err != nil {
			tb.Fatalf("create subnet: %v", err)
		}
		w.SubnetIDs = append(w.SubnetIDs, aws.ToString(sn.Subnet.SubnetId))
	}
	lt, err := api.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(w.LaunchTemplate),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(w.ImageID), InstanceType: types.InstanceTypeT3Micro},
	})
	if err != nil {
		tb.Fatalf("create launch template: %v", err)
	}
	w.LaunchTemplateID = aws.ToString(lt.LaunchTemplate.LaunchTemplateId)
	return w
}

// motoAMI is an image id moto accepts without a DescribeImages round (which costs seconds).
const motoAMI = "ami-12c6146b"

// Template returns the id of the deployment's launch template on the emulator (TemplateName),
// creating it on first use. EC2 tags every launch from it with its id
// (tags.LaunchTemplateID), which the deployment's listings require.
func Template(tb testing.TB, api *ec2.Client) string {
	tb.Helper()
	ctx := context.Background()
	if out, err := api.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{TemplateName}}); err == nil && len(out.LaunchTemplates) == 1 {
		return aws.ToString(out.LaunchTemplates[0].LaunchTemplateId)
	}
	out, err := api.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(TemplateName),
		LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(motoAMI), InstanceType: types.InstanceTypeT3Micro}})
	if err != nil {
		tb.Fatalf("create launch template: %v", err)
	}
	return aws.ToString(out.LaunchTemplate.LaunchTemplateId)
}
