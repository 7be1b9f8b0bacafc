package motoproc

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// LikeANewAccount gives the emulator's default VPC what every real account's default VPC has
// and moto's lacks: an attached internet gateway and a 0.0.0.0/0 route to it in the main
// route table (default subnets are public). Without it the deployment's runner subnets look
// cut off from GitHub, which `ghr doctor` rightly reports. It is idempotent, so sandboxes
// sharing one emulator may each call it.
func LikeANewAccount(ctx context.Context, endpoint string) error {
	ec := ec2.NewFromConfig(AWSConfig(endpoint))
	vpcs, err := ec.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		return fmt.Errorf("default vpc: %w", err)
	}
	if len(vpcs.Vpcs) == 0 {
		return fmt.Errorf("default vpc: the emulator has none in %s", Region)
	}
	vpc := vpcs.Vpcs[0].VpcId
	igws, err := ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{*vpc}}}})
	if err != nil {
		return fmt.Errorf("internet gateways: %w", err)
	}
	var igw *string
	if len(igws.InternetGateways) > 0 {
		igw = igws.InternetGateways[0].InternetGatewayId
	} else {
		out, err := ec.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
		if err != nil {
			return fmt.Errorf("create internet gateway: %w", err)
		}
		igw = out.InternetGateway.InternetGatewayId
		if _, err := ec.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{InternetGatewayId: igw, VpcId: vpc}); err != nil {
			return fmt.Errorf("attach internet gateway: %w", err)
		}
	}
	tables, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{*vpc}}, {Name: aws.String("association.main"), Values: []string{"true"}}}})
	if err != nil {
		return fmt.Errorf("main route table: %w", err)
	}
	for _, t := range tables.RouteTables {
		if hasDefaultRoute(t) {
			continue
		}
		if _, err := ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: t.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw}); err != nil {
			return fmt.Errorf("default route: %w", err)
		}
	}
	return nil
}

func hasDefaultRoute(t ec2types.RouteTable) bool {
	for _, r := range t.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			return true
		}
	}
	return false
}
