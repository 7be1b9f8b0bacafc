package motoproc

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// LikeANewAccount gives the emulator's default VPC what every real account's default VPC has
// and moto's lacks: an attached internet gateway and a 0.0.0.0/0 route to it in the main
// route table (default subnets are public). Without it the deployment's runner subnets look
// cut off from GitHub, which `ghr doctor` rightly reports. It is idempotent, so sandboxes
// sharing one emulator may each call it.
func LikeANewAccount(ctx context.Context, endpoint string) error {
	// Sandboxes in one process (two `ghr local up` on one emulator) take turns: moto, unlike
	// EC2, lets several gateways attach to one VPC.
	accountMu.Lock()
	defer accountMu.Unlock()
	ec := ec2.NewFromConfig(HarnessConfig(endpoint))
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
			// Another sandbox on the same emulator attached its gateway first: use that one.
			again, derr := ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{*vpc}}}})
			if derr != nil || len(again.InternetGateways) == 0 {
				return fmt.Errorf("attach internet gateway: %w", err)
			}
			_, _ = ec.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: igw})
			igw = again.InternetGateways[0].InternetGatewayId
		} else if igw, err = oneGateway(ctx, ec, vpc, igw); err != nil {
			return err
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
		_, err := ec.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: t.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw})
		var ae smithy.APIError
		if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "RouteAlreadyExists") {
			// RouteAlreadyExists: another sandbox on the same emulator added it in between.
			return fmt.Errorf("default route: %w", err)
		}
	}
	return nil
}

// accountMu serialises LikeANewAccount within a process.
var accountMu sync.Mutex

// oneGateway keeps one gateway on the VPC when another process attached its own at the same
// time (moto allows it; EC2 would have refused the second attach): the smallest id stays, and
// ours is removed when it is not that one.
func oneGateway(ctx context.Context, ec *ec2.Client, vpc, ours *string) (*string, error) {
	out, err := ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{Filters: []ec2types.Filter{{Name: aws.String("attachment.vpc-id"), Values: []string{*vpc}}}})
	if err != nil {
		return nil, fmt.Errorf("internet gateways: %w", err)
	}
	keep := ours
	for _, g := range out.InternetGateways {
		if aws.ToString(g.InternetGatewayId) < aws.ToString(keep) {
			keep = g.InternetGatewayId
		}
	}
	if keep != ours {
		_, _ = ec.DetachInternetGateway(ctx, &ec2.DetachInternetGatewayInput{InternetGatewayId: ours, VpcId: vpc})
		_, _ = ec.DeleteInternetGateway(ctx, &ec2.DeleteInternetGatewayInput{InternetGatewayId: ours})
	}
	return keep, nil
}

func hasDefaultRoute(t ec2types.RouteTable) bool {
	for _, r := range t.Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			return true
		}
	}
	return false
}
