package motoproc_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/ghr-dev/ghr/internal/harness/motoproc"
	"github.com/ghr-dev/ghr/internal/harness/testutil/motoserver"
)

// TestLikeANewAccount: the default VPC's main table routes 0.0.0.0/0 to its attached internet
// gateway, once, however often it is called.
func TestLikeANewAccount(t *testing.T) {
	ctx := context.Background()
	url := motoserver.Start(t).URL
	// Sandboxes sharing one emulator call it at once (TestLocalUpTwoSandboxesOneEmulator
	// once lost that race: RouteAlreadyExists).
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- motoproc.LikeANewAccount(ctx, url) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := motoproc.LikeANewAccount(ctx, url); err != nil {
		t.Fatal(err)
	}
	ec := ec2.NewFromConfig(motoproc.AWSConfig(url))
	igws, err := ec.DescribeInternetGateways(ctx, &ec2.DescribeInternetGatewaysInput{})
	if err != nil || len(igws.InternetGateways) != 1 || len(igws.InternetGateways[0].Attachments) != 1 {
		t.Fatalf("internet gateways %+v: %v", igws, err)
	}
	igw := aws.ToString(igws.InternetGateways[0].InternetGatewayId)
	tables, err := ec.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []ec2types.Filter{{Name: aws.String("association.main"), Values: []string{"true"}}}})
	if err != nil {
		t.Fatal(err)
	}
	routes := 0
	for _, tb := range tables.RouteTables {
		for _, r := range tb.Routes {
			if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" && aws.ToString(r.GatewayId) == igw {
				routes++
			}
		}
	}
	if routes != 1 {
		t.Errorf("%d default routes to %s, want 1", routes, igw)
	}
}
